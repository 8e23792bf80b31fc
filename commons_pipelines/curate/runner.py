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
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ..naming import column_name
from ..spec import SourceSpec
from ..stats import CurationReport, StageCount
from .dedup import ExactDedup, NearDedup
from .language import LANG, LanguageId
from .normalize import NormalizeColumns, NormalizeText
from .pii import Pii, default_regions
from .pii.ner import NerStatus, load_ner
from .provenance import Provenance
from .quality import QualityFilter
from .parallel import prefix_builder, run_parallel
from .step import Step, run_steps

PART_ROWS = 1_000_000


def _columns(names: list[str] | None, default: list[str]) -> list[str]:
    return [column_name(c) for c in (default if names is None else names)]


def dedup_columns(spec: SourceSpec) -> list[str]:
    return _columns(spec.dedup.columns, spec.text_columns)


def default_steps(spec: SourceSpec, published: Iterable[pa.RecordBatch] = (), pii_key: bytes | None = None,
                  ner=None) -> list[Step]:
    """The curation of every source, in order. Costly steps come after the cheap filters; PII is treated before
    the row hash and dedup, so duplicates are judged on the data as it will be published."""
    text = spec.text_columns
    pii = spec.pii.model_copy(update={"columns": {column_name(c): p for c, p in spec.pii.columns.items()}})
    steps: list[Step] = [NormalizeColumns(), NormalizeText(spec.normalize)]
    quality = _columns(spec.quality.columns, text)
    if quality:
        steps.append(QualityFilter(quality, spec.quality))
    steps.append(Pii(pii, spec.id, list(spec.pii.regions) or default_regions(spec.languages), pii_key,
                     ner.backend if ner is not None else None, _columns(None, text)))
    language = _columns(spec.language.columns, text)
    if language:
        steps.append(LanguageId(language, spec.language))
    steps.append(Provenance(spec))
    dedup = dedup_columns(spec)
    if spec.dedup.exact:
        steps.append(ExactDedup(dedup, published if spec.dedup.against_published else ()))
    if spec.dedup.near and dedup:
        steps.append(NearDedup(dedup, spec.dedup.near))
    return steps


def report(steps: list[Step], ner) -> CurationReport:
    pii = [count for step in steps if isinstance(step, Pii) for count in step.report()]
    return CurationReport(pii=pii, ner=ner.description if ner is not None else "off")


@dataclass
class Curated:
    folder: Path
    id: str
    files: list[Path]
    rows: int
    stages: list[StageCount]
    schema: pa.Schema | None
    report: CurationReport = field(default_factory=CurationReport)

    def languages(self) -> dict[str, int]:
        """Rows per `_lang`, most frequent first; empty when the source has no language column."""
        if not self.files or self.schema is None or LANG not in self.schema.names:
            return {}
        with duckdb.connect() as con:
            rows = con.execute(f"select {LANG}, count(*) n from read_parquet(?) group by 1 order by n desc, 1",
                               [[str(f) for f in self.files]]).fetchall()
        return dict(rows)


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


def ner_status(spec: SourceSpec) -> NerStatus:
    if not spec.text_columns:
        return NerStatus(None, "off: names and addresses are looked for in text_columns, and none are declared")
    return load_ner(spec.languages, spec.pii.ner)


def curate(spec: SourceSpec, batches: Iterable[pa.RecordBatch], folder: Path, ingest: StageCount | None = None,
           steps: list[Step] | None = None, *, published: Iterable[pa.RecordBatch] = (),
           pii_key: bytes | None = None, workers: int = 1, parallel_after: int = 2) -> Curated:
    """Run the steps (by default `default_steps`) and replace the curated folder with the result.

    `published` yields the previous published version's rows (for dedup against it); `pii_key` is the secret for
    pseudonymisation. With `workers` > 1 the default steps before dedup run in that many processes once more than
    `parallel_after` batches come (see parallel.py); the result is the same."""
    folder = Path(folder)
    staging = folder.with_name(folder.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    ner = None
    parallel = steps is None and workers > 1
    if steps is None:
        ner = ner_status(spec)
        steps = default_steps(spec, published, pii_key, ner)
    parts, quarantine = _Parts(staging / "data"), _Quarantine(staging / "quarantine")
    try:
        out = (run_parallel(steps, prefix_builder(spec, pii_key), batches, quarantine, workers, parallel_after)
               if parallel else run_steps(steps, batches, quarantine))
        for batch in out:
            parts.write(batch)
    finally:
        parts.close()
        quarantine.close()
    stages = ([ingest] if ingest else []) + [s.count for s in steps]
    staging.mkdir(parents=True, exist_ok=True)
    found = report(steps, ner)
    manifest = {"id": uuid.uuid4().hex, "source": spec.id, "rows": parts.rows,
                "stages": [s.as_dict() for s in stages], "report": found.as_dict()}
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=1))
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    files = [folder / "data" / p.name for p in parts.files]
    return Curated(folder, manifest["id"], files, parts.rows, stages, parts.schema, found)


def load_curated(folder: Path) -> Curated:
    folder = Path(folder)
    if not (folder / "manifest.json").exists():
        raise FileNotFoundError(f"{folder}: no curated data here yet (materialise the curated asset first)")
    manifest = json.loads((folder / "manifest.json").read_text())
    files = sorted((folder / "data").glob("part-*.parquet"))
    schema = pq.read_schema(files[0]) if files else None
    return Curated(folder, manifest["id"], files, manifest["rows"],
                   [StageCount.from_dict(d) for d in manifest["stages"]], schema,
                   CurationReport.from_dict(manifest.get("report", {})))
