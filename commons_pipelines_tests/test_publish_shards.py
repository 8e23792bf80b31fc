"""Shards: deterministic, split by size, named as push_to_hub names them, zstd with a page index, rows in order."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from commons_pipelines.publish.shards import read_batches, write_shards

OTL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "opendata" / "open_textbook_library" / "OTL.csv"


@cache
def otl_table() -> pa.Table:
    """The Open Textbook Library catalogue. Its rows are ragged (trailing empty columns left out), which
    pyarrow.csv rejects, so they are padded to the header's width first."""
    with OTL.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    text = io.StringIO()
    csv.writer(text).writerows(row + [""] * (len(rows[0]) - len(row)) for row in rows)
    return pcsv.read_csv(io.BytesIO(text.getvalue().encode()), parse_options=pcsv.ParseOptions(newlines_in_values=True))


def curated(folder: Path, table: pa.Table, parts: int = 3) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    step = -(-table.num_rows // parts)
    paths = []
    for i in range(parts):
        paths.append(folder / f"part-{i}.parquet")
        pq.write_table(table.slice(i * step, step), paths[-1])
    return paths


def shard(files: list[Path], out: Path, **sizes):
    schema, batches = read_batches(files, batch_rows=200)
    return write_shards(batches, schema, out, **sizes)


def read_back(folder: Path, shards) -> pa.Table:
    return pa.concat_tables(pq.read_table(folder / s.path) for s in shards.shards)


def test_small_max_shard_bytes_splits_into_named_shards_keeping_every_row_in_order(tmp_path):
    table = otl_table()
    files = curated(tmp_path / "in", table)
    shards = shard(files, tmp_path / "out", max_shard_bytes=table.nbytes // 4, row_group_bytes=table.nbytes // 20)

    n = len(shards.shards)
    assert 4 <= n <= 6
    assert [s.path for s in shards.shards] == [f"data/train-{i:05d}-of-{n:05d}.parquet" for i in range(n)]
    assert sorted(p.name for p in (tmp_path / "out" / "data").iterdir()) == [Path(s.path).name for s in shards.shards]
    assert read_back(tmp_path / "out", shards).equals(table)
    assert shards.rows == table.num_rows == sum(pq.ParquetFile(tmp_path / "out" / s.path).metadata.num_rows
                                                for s in shards.shards)
    for s in shards.shards:
        data = (tmp_path / "out" / s.path).read_bytes()
        assert s.bytes == len(data) and s.sha256 == hashlib.sha256(data).hexdigest()


def test_files_are_zstd_with_a_page_index_and_bounded_row_groups(tmp_path):
    table = otl_table()
    shards = shard(curated(tmp_path / "in", table), tmp_path / "out", row_group_bytes=table.nbytes // 10)

    assert len(shards.shards) == 1
    meta = pq.ParquetFile(tmp_path / "out" / shards.shards[0].path).metadata
    assert 10 <= meta.num_row_groups <= 14
    for g in range(meta.num_row_groups):
        for c in range(meta.num_columns):
            column = meta.row_group(g).column(c)
            assert column.compression == "ZSTD"
            assert column.has_column_index and column.has_offset_index
    assert b"ARROW:schema" in meta.metadata


def test_same_input_gives_byte_identical_shards_and_other_input_does_not(tmp_path):
    table = otl_table()
    files = curated(tmp_path / "in", table)
    sizes = dict(max_shard_bytes=table.nbytes // 3, row_group_bytes=table.nbytes // 12)
    first, second = shard(files, tmp_path / "a", **sizes), shard(files, tmp_path / "b", **sizes)

    assert first.shards == second.shards
    for s in first.shards:
        assert (tmp_path / "a" / s.path).read_bytes() == (tmp_path / "b" / s.path).read_bytes()
    assert first.content_sha256 == second.content_sha256

    fewer = shard(curated(tmp_path / "in2", table.slice(1)), tmp_path / "c", **sizes)
    assert fewer.content_sha256 != first.content_sha256


def test_no_rows_still_publishes_the_schema_in_one_shard(tmp_path):
    table = otl_table().slice(0, 0)
    shards = shard(curated(tmp_path / "in", table, parts=1), tmp_path / "out")

    assert [(s.path, s.rows) for s in shards.shards] == [("data/train-00000-of-00001.parquet", 0)]
    assert pq.read_schema(tmp_path / "out" / shards.shards[0].path).equals(table.schema)


def test_curated_files_with_different_schemas_are_refused(tmp_path):
    table = otl_table()
    files = curated(tmp_path / "in", table, parts=2)
    pq.write_table(table.slice(0, 10).drop_columns(["Title"]), files[1])

    with pytest.raises(ValueError, match=re.escape(str(files[1]))):
        read_batches(files)
