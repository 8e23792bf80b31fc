"""Run the steps over a source's landed records and write the curated dataset.

Layout of a curated folder (replaced whole, atomically, on every run):
  data/part-00000.parquet …   the curated rows
  quarantine/<step>.parquet   rows a step removed, with `_reason`
  manifest.json               a fresh id for this curation, rows, and the counts of every stage (ingest first)
  checks/<suite>.json         the verdict of each validation suite on this curation (written by validate)
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..spec import SourceSpec
from ..stats import StageCount
from .dedup import ExactDedup
from .normalize import NormalizeColumns
from .provenance import Provenance
from .step import Step, run_steps

PART_ROWS = 1_000_000


def default_steps(spec: SourceSpec) -> list[Step]:
    return [NormalizeColumns(), Provenance(spec), ExactDedup()]


@dataclass
class Curated:
    folder: Path
    id: str
    files: list[Path]
    rows: int
    stages: list[StageCount]
    schema: pa.Schema | None


class _Parts:
    """Parquet parts of at most PART_ROWS rows, zstd: an intermediate, read back by the checks and publish."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.files, self.writer, self.rows_in_part, self.rows = folder, [], None, 0, 0
        self.schema: pa.Schema | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        if self.writer is None or self.rows_in_part >= PART_ROWS:
            self.close()
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"part-{len(self.files):05d}.parquet"
            self.schema = self.schema or batch.schema
            self.writer = pq.ParquetWriter(path, self.schema, compression="zstd", compression_level=1)
            self.files.append(path)
            self.rows_in_part = 0
        self.writer.write_batch(batch.cast(self.schema) if batch.schema != self.schema else batch)
        self.rows_in_part += batch.num_rows
        self.rows += batch.num_rows

    def close(self) -> None:
        if self.writer:
            self.writer.close()
            self.writer = None


class _Quarantine:
    def __init__(self, folder: Path) -> None:
        self.folder, self.writers = folder, {}

    def __call__(self, step: str, rows: pa.RecordBatch, reason: str) -> None:
        rows = rows.append_column("_reason", pa.array([reason] * rows.num_rows, pa.string()))
        if step not in self.writers:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.writers[step] = pq.ParquetWriter(self.folder / f"{step}.parquet", rows.schema, compression="zstd")
        self.writers[step].write_batch(rows.cast(self.writers[step].schema))

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


def curate(spec: SourceSpec, batches: Iterable[pa.RecordBatch], folder: Path,
           ingest: StageCount | None = None, steps: list[Step] | None = None) -> Curated:
    folder = Path(folder)
    staging = folder.with_name(folder.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    steps = default_steps(spec) if steps is None else steps
    parts, quarantine = _Parts(staging / "data"), _Quarantine(staging / "quarantine")
    try:
        for batch in run_steps(steps, batches, quarantine):
            parts.write(batch)
    finally:
        parts.close()
        quarantine.close()
    stages = ([ingest] if ingest else []) + [s.count for s in steps]
    staging.mkdir(parents=True, exist_ok=True)
    manifest = {"id": uuid.uuid4().hex, "source": spec.id, "rows": parts.rows,
                "stages": [s.as_dict() for s in stages]}
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=1))
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    files = [folder / "data" / p.name for p in parts.files]
    return Curated(folder, manifest["id"], files, parts.rows, stages, parts.schema)


def load_curated(folder: Path) -> Curated:
    folder = Path(folder)
    if not (folder / "manifest.json").exists():
        raise FileNotFoundError(f"{folder}: no curated data here yet (materialise the curated asset first)")
    manifest = json.loads((folder / "manifest.json").read_text())
    files = sorted((folder / "data").glob("part-*.parquet"))
    schema = pq.read_schema(files[0]) if files else None
    return Curated(folder, manifest["id"], files, manifest["rows"],
                   [StageCount.from_dict(d) for d in manifest["stages"]], schema)
