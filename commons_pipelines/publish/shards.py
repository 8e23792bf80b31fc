"""Deterministic Parquet shards named as `datasets.push_to_hub` names them: data/train-00000-of-00003.parquet.

Sizes are measured in Arrow (in-memory) bytes, as push_to_hub does: the files are smaller once compressed.
Row groups and shard boundaries depend only on the incoming batches, so the same input gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

DATA_DIR = "data"
SPLIT = "train"
DATA_FILES = f"{DATA_DIR}/{SPLIT}-*"  # the card's configs.data_files pattern
MAX_SHARD_BYTES = 500 * 2**20
ROW_GROUP_BYTES = 100 * 2**20
BATCH_ROWS = 64 * 1024

WRITER_OPTIONS = dict(
    compression="zstd",
    write_page_index=True,
    use_content_defined_chunking=True,
    write_statistics=True,
)


def shard_name(index: int, total: int) -> str:
    return f"{DATA_DIR}/{SPLIT}-{index:05d}-of-{total:05d}.parquet"


@dataclass(frozen=True)
class Shard:
    path: str  # relative to the dataset folder, with forward slashes
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class ShardSet:
    shards: tuple[Shard, ...]
    schema: pa.Schema
    arrow_bytes: int = 0  # the rows' size in memory, as `datasets` reports a split's num_bytes

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.shards)

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.shards)

    @property
    def content_sha256(self) -> str:
        """The data's identity: sha256 over the shards' sha256s in name order (the card and croissant do not count)."""
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
            with pq.ParquetFile(path) as parquet:
                yield from parquet.iter_batches(batch_size=batch_rows)

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
) -> ShardSet:
    """Write the stream as shards under `folder`/data/; peak memory is about one row group plus one batch."""
    if max_shard_bytes <= 0 or row_group_bytes <= 0:
        raise ValueError("max_shard_bytes and row_group_bytes must be positive")
    (folder / DATA_DIR).mkdir(parents=True, exist_ok=True)
    written: list[tuple[Path, int]] = []  # temporary path, rows
    writer: pq.ParquetWriter | None = None
    shard_size = total = 0.0

    def open_shard() -> pq.ParquetWriter:
        path = folder / DATA_DIR / f".{SPLIT}-{len(written):05d}.parquet.tmp"  # N is known only at the end
        written.append((path, 0))
        return pq.ParquetWriter(path, schema, **WRITER_OPTIONS)

    try:
        for pieces, size in _row_groups(batches, min(row_group_bytes, max_shard_bytes)):
            if writer is None or (shard_size and shard_size + size > max_shard_bytes):
                if writer is not None:
                    writer.close()
                writer, shard_size = open_shard(), 0.0
            group = pa.Table.from_batches(pieces, schema)
            writer.write_table(group, row_group_size=group.num_rows)
            written[-1] = (written[-1][0], written[-1][1] + group.num_rows)
            shard_size += size
            total += size
        if writer is None:  # no rows at all: one empty shard still publishes the schema
            writer = open_shard()
    finally:
        if writer is not None:
            writer.close()

    shards = []
    for index, (tmp, rows) in enumerate(written):
        name = shard_name(index, len(written))
        shards.append(Shard(name, rows, tmp.stat().st_size, _sha256(tmp)))
        os.replace(tmp, folder / name)
    return ShardSet(tuple(shards), schema, round(total))
