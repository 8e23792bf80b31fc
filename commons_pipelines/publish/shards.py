"""Deterministic Parquet shards named as `datasets.push_to_hub` names them: data/train-00000-of-00003.parquet.

Sizes are measured in Arrow (in-memory) bytes, as push_to_hub does: the files are smaller once compressed.
Row groups and shard boundaries depend only on the incoming batches, so the same input gives byte-identical files.

A multilingual source is written one folder per language, data/<lang>/train-00000-of-00002.parquet, so each
language can be its own Hub config. The stream is cut by its `_lang` column into one temporary Arrow IPC file per
language (one pass, memory bounded by a batch), then each language's file is sharded as above, languages in sorted
order, rows in their curated order.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import parquet
from ..columns import LANG

DATA_DIR = "data"
SPLIT = "train"
DATA_FILES = f"{DATA_DIR}/{SPLIT}-*"  # the card's configs.data_files pattern
MAX_SHARD_BYTES = 500 * 2**20
ROW_GROUP_BYTES = 100 * 2**20
BATCH_ROWS = 64 * 1024
LANG_COLUMN = LANG  # written by the language step: a BCP-47 tag, "und" when unknown
UNKNOWN_LANG = "und"
ALL_CONFIG = "all"  # the default config of a multilingual dataset: every language
_TAG = re.compile(r"^[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*$")

WRITER_OPTIONS = dict(
    compression="zstd",
    write_page_index=True,
    use_content_defined_chunking=True,
    write_statistics=True,
)


def lang_dir(lang: str | None) -> str:
    return f"{DATA_DIR}/{lang}" if lang else DATA_DIR


def shard_name(index: int, total: int, lang: str | None = None) -> str:
    return f"{lang_dir(lang)}/{SPLIT}-{index:05d}-of-{total:05d}.parquet"


@dataclass(frozen=True)
class Shard:
    path: str  # relative to the dataset folder, with forward slashes
    rows: int
    bytes: int
    sha256: str
    arrow_bytes: int = 0
    lang: str | None = None  # the language folder it is in; None in the single-language layout


@dataclass(frozen=True)
class ShardSet:
    shards: tuple[Shard, ...]
    schema: pa.Schema
    arrow_bytes: int = 0  # the rows' size in memory, as `datasets` reports a split's num_bytes
    lang_rows: tuple[tuple[str, int], ...] = ()  # rows per `_lang` value, sorted by language; () without `_lang`

    @property
    def per_language(self) -> bool:
        """True in the layout with one folder (and Hub config) per language."""
        return any(s.lang for s in self.shards)

    @property
    def languages(self) -> list[str]:
        return [lang for lang, _ in self.lang_rows]

    def language(self, lang: str) -> ShardSet:
        """The shards of one language folder."""
        shards = tuple(s for s in self.shards if s.lang == lang)
        return ShardSet(shards, self.schema, sum(s.arrow_bytes for s in shards), ((lang, sum(s.rows for s in shards)),))

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.shards)

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.shards)

    @property
    def content_sha256(self) -> str:
        """sha256 over the shard files' sha256s in path order: the bytes written (a version's identity is its rows,
        release.identity)."""
        digest = hashlib.sha256()
        for shard in sorted(self.shards, key=lambda s: s.path):
            digest.update(f"{shard.sha256}\n".encode())
        return digest.hexdigest()


def read_batches(files: Sequence[Path | str], batch_rows: int = BATCH_ROWS) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The curated files' common schema and a stream of their batches, file after file."""
    if not files:
        raise ValueError("no curated files to publish")
    schema = pq.read_schema(files[0])
    for path in files[1:]:
        other = pq.read_schema(path)
        if not other.equals(schema, check_metadata=False):
            raise ValueError(f"{path}: its schema differs from {files[0]}'s:\n{other}\nvs\n{schema}")

    def stream() -> Iterator[pa.RecordBatch]:
        for path in files:
            yield from parquet.batches(path, batch_rows)

    return schema, stream()


def _row_groups(batches: Iterable[pa.RecordBatch], target: int) -> Iterator[tuple[list[pa.RecordBatch], float]]:
    """Cut the stream into row groups of at most `target` Arrow bytes (a single larger row gets a group of its own)."""
    pending: list[pa.RecordBatch] = []
    size = 0.0
    for batch in batches:
        if not batch.num_rows:
            continue
        per_row = batch.nbytes / batch.num_rows
        start = 0
        while start < batch.num_rows:
            take = int((target - size) // per_row) if per_row else batch.num_rows
            if take <= 0 and pending:
                yield pending, size
                pending, size = [], 0.0
                continue
            piece = batch.slice(start, max(take, 1))
            pending.append(piece)
            size += piece.num_rows * per_row
            start += piece.num_rows
    if pending:
        yield pending, size


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(2**20):
            digest.update(chunk)
    return digest.hexdigest()


def write_shards(
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    folder: Path,
    *,
    max_shard_bytes: int = MAX_SHARD_BYTES,
    row_group_bytes: int = ROW_GROUP_BYTES,
    lang: str | None = None,
) -> ShardSet:
    """Write the stream as shards under `folder`/data/ (or data/<lang>/); peak memory is about one row group plus
    one batch."""
    if max_shard_bytes <= 0 or row_group_bytes <= 0:
        raise ValueError("max_shard_bytes and row_group_bytes must be positive")
    out = folder / lang_dir(lang)
    out.mkdir(parents=True, exist_ok=True)
    written: list[list] = []  # temporary path, rows, Arrow bytes
    writer: pq.ParquetWriter | None = None
    shard_size = total = 0.0

    def open_shard() -> pq.ParquetWriter:
        path = out / f".{SPLIT}-{len(written):05d}.parquet.tmp"  # N is known only at the end
        written.append([path, 0, 0.0])
        return pq.ParquetWriter(path, schema, **WRITER_OPTIONS)

    try:
        for pieces, size in _row_groups(batches, min(row_group_bytes, max_shard_bytes)):
            if writer is None or (shard_size and shard_size + size > max_shard_bytes):
                if writer is not None:
                    writer.close()
                writer, shard_size = open_shard(), 0.0
            group = pa.Table.from_batches(pieces, schema)
            writer.write_table(group, row_group_size=group.num_rows)
            written[-1][1] += group.num_rows
            written[-1][2] += size
            shard_size += size
            total += size
        if writer is None:  # no rows at all: one empty shard still publishes the schema
            writer = open_shard()
    finally:
        if writer is not None:
            writer.close()

    shards = []
    for index, (tmp, rows, size) in enumerate(written):
        name = shard_name(index, len(written), lang)
        shards.append(Shard(name, rows, tmp.stat().st_size, _sha256(tmp), round(size), lang))
        os.replace(tmp, folder / name)
    return ShardSet(tuple(shards), schema, round(total))


def lang_values(batch: pa.RecordBatch) -> pa.Array:
    """The batch's `_lang` column as strings, null and "" read as "und"."""
    values = batch.column(LANG_COLUMN)
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
            or pa.types.is_dictionary(values.type)):
        raise ValueError(f"column '{LANG_COLUMN}' must hold BCP-47 strings, not {values.type}")
    values = pc.cast(values, pa.string())
    values = pc.if_else(pc.equal(values, ""), None, values)
    return pc.fill_null(values, UNKNOWN_LANG)


def _check_tags(tags: Iterable[str], values: pa.Array, offset: int) -> None:
    for tag in tags:
        if not _TAG.fullmatch(tag) or tag == ALL_CONFIG:
            row = offset + pc.index(values, tag).as_py()
            raise ValueError(f"column '{LANG_COLUMN}', row {row}: not a BCP-47 tag that can name a folder and a config "
                             f"(letters, digits and '-', and not '{ALL_CONFIG}')")


def count_languages(batches: Iterable[pa.RecordBatch], counts: Counter[str]) -> Iterator[pa.RecordBatch]:
    """Pass the stream through, adding up its `_lang` values in `counts`."""
    for batch in batches:
        tally = pc.value_counts(lang_values(batch))
        counts.update(dict(zip(tally.field("values").to_pylist(), tally.field("counts").to_pylist())))
        yield batch


def write_language_shards(
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    folder: Path,
    spill: Path,
    *,
    max_shard_bytes: int = MAX_SHARD_BYTES,
    row_group_bytes: int = ROW_GROUP_BYTES,
) -> ShardSet:
    """Write the stream as shards under `folder`/data/<lang>/, one folder per `_lang` value, using `spill` (a folder
    of temporary files as large as the data, removed at the end) so that memory stays bounded by one batch.
    Without rows it writes the single-language layout's one empty shard, which still publishes the schema."""
    if LANG_COLUMN not in schema.names:
        raise ValueError(f"no column '{LANG_COLUMN}' to split the data by language")
    spill.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pa.ipc.RecordBatchStreamWriter] = {}
    rows: Counter[str] = Counter()
    offset = 0
    try:
        for batch in batches:
            if not batch.num_rows:
                continue
            values = lang_values(batch)
            tally = pc.value_counts(values)
            tags, counts = tally.field("values").to_pylist(), tally.field("counts").to_pylist()
            _check_tags((t for t in tags if t not in writers), values, offset)
            if len(tags) > 1:  # group the rows by language; the sort is stable, so each keeps its order
                order = pc.sort_indices(values)
                batch, tags, counts = batch.take(order), *zip(*sorted(zip(tags, counts)))
            start = 0
            for tag, n in zip(tags, counts):
                if tag not in writers:
                    writers[tag] = pa.ipc.new_stream(spill / f"{len(writers)}.arrows", schema)
                writers[tag].write_batch(batch.slice(start, n))
                start += n
                rows[tag] += n
            offset += batch.num_rows
    finally:
        for writer in writers.values():
            writer.close()
    if not rows:
        return write_shards(iter(()), schema, folder, max_shard_bytes=max_shard_bytes, row_group_bytes=row_group_bytes)

    files = {tag: spill / f"{i}.arrows" for i, tag in enumerate(writers)}
    shards: list[Shard] = []
    for tag in sorted(files):
        with pa.OSFile(str(files[tag])) as source:
            part = write_shards(pa.ipc.open_stream(source), schema, folder, lang=tag,
                                max_shard_bytes=max_shard_bytes, row_group_bytes=row_group_bytes)
        files[tag].unlink()
        shards += part.shards
    return ShardSet(tuple(shards), schema, sum(s.arrow_bytes for s in shards), tuple(sorted(rows.items())))
