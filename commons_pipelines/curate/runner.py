"""Run the steps over a source's landed records and write the curated dataset.

Three passes: the row steps (normalise, quality, language, personal data, provenance, takedown) write staged parts;
dedup, a source-wide stage, reads them to decide which rows stay (dedup.py); the kept rows are written as the curated
parts. A curated folder holds one complete curation and is replaced by switching a link, so a crash leaves the
previous one whole:

  <source>/current -> runs/<curation id>
  <source>/runs/<curation id>/
    data/part-00000.parquet …   the curated rows
    quarantine/<step>.parquet   rows a step removed, with `_reason`; personal data in them is treated as in the
                                curated rows (rows a step before `pii` removed are treated on their way there)
    manifest.json               the curation id, rows, the counts of every stage (ingest first) and the report
    checks/<suite>.json         the verdict of each validation suite on this curation (written by validate)
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .. import parquet
from ..columns import DEDUP_KEYS, LANG, REASON, scratch
from ..faults import failpoint
from ..naming import column_name
from ..spec import SourceSpec
from ..stats import CurationReport, StageCount
from .dedup import Dedup, DedupKeys, KeyIndex, as_bytes, row_key, split
from .language import LanguageId
from .normalize import NormalizeColumns, NormalizeText
from .parallel import prefix_builder, run_parallel
from .pii import Pii, default_regions
from .pii.ner import NerStatus, load_ner
from .provenance import Provenance
from .quality import QualityFilter
from .step import Step, redacting, run_steps
from .takedown import Entry, Takedown
from .text import detect

PART_ROWS = 1_000_000
STAGED_BATCH_ROWS = 8_192  # dedup's batches: ~530 bytes a row of keys and signatures (DedupKeys)


def _columns(names: list[str] | None, default: list[str]) -> list[str]:
    return [column_name(c) for c in (default if names is None else names)]


def dedup_columns(spec: SourceSpec) -> list[str]:
    """The text dedup compares: only what the source declares (dedup.columns); by default none, so only identical
    rows merge and records with different keys or values never do."""
    return _columns(spec.dedup.columns, [])


def default_steps(spec: SourceSpec, pii_key: bytes | None = None, ner=None,
                  takedown: Iterable[Entry] = ()) -> list[Step]:
    """The row steps of every source, in order. Costly steps come after the cheap filters; the language step before
    PII, whose name backend reads each row with the model of the row's `_lang`; PII is treated before the row hash,
    so identities and duplicates are judged on the data as it will be published. Last, when the source compares
    text (dedup.columns), DedupKeys stages dedup's keys and signatures where the row steps run."""
    text = spec.text_columns
    pii = spec.pii.model_copy(update={"columns": {column_name(c): p for c, p in spec.pii.columns.items()}})
    steps: list[Step] = [NormalizeColumns(), NormalizeText(spec.normalize)]
    quality = _columns(spec.quality.columns, text)
    if quality:
        steps.append(QualityFilter(quality, spec.quality))
    language = _columns(spec.language.columns, text)
    if language:
        steps.append(LanguageId(language, spec.language))
    steps.append(Pii(pii, spec.id, list(spec.pii.regions) or default_regions(spec.languages), pii_key,
                     ner.backend if ner is not None else None, _columns(None, text)))
    steps.append(Provenance(spec))
    takedown = list(takedown)
    if takedown:
        steps.append(Takedown(takedown))
    if dedup_columns(spec) and (spec.dedup.exact or spec.dedup.near):
        steps.append(DedupKeys(dedup_columns(spec), spec.dedup.near))
    return steps


def default_dedup(spec: SourceSpec, published: KeyIndex | None, work: Path) -> Dedup:
    return Dedup(dedup_columns(spec), spec.dedup.exact, spec.dedup.near, published, work)


def published_index(batches: Iterable[pa.RecordBatch]) -> KeyIndex:
    """The row identities (`_row_sha256`) of the published version."""
    index = KeyIndex()
    for batch in batches:
        index.add(as_bytes(row_key(batch)))
    return index


def report(steps: list[Step], ner) -> CurationReport:
    pii = [count for step in steps if isinstance(step, Pii) for count in step.report()]
    erased = {r: n for step in steps if isinstance(step, Takedown) for r, n in sorted(step.erased.items())}
    return CurationReport(pii=pii, ner=ner.description if ner is not None else "off", erased=erased)


@dataclass
class Curated:
    folder: Path
    id: str
    files: list[Path]
    rows: int
    stages: list[StageCount]
    schema: pa.Schema | None
    report: CurationReport = field(default_factory=CurationReport)
    inputs: dict | None = None
    reused: bool = False  # the current curation, made earlier from the same inputs

    def languages(self) -> dict[str, int]:
        """Rows per `_lang`, most frequent first; empty when the source has no language column."""
        if not self.files or self.schema is None or LANG not in self.schema.names:
            return {}
        with scratch().cursor() as con:
            return dict(con.execute(f"select {LANG}, count(*) n from read_parquet(?) group by 1 order by n desc, 1",
                                    [[str(f) for f in self.files]]).fetchall())


class _Parts:
    """Parquet parts of at most PART_ROWS rows, zstd: an intermediate, read back by the checks and publish."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.files, self.writer, self.rows_in_part, self.rows = folder, [], None, 0, 0
        self.schema: pa.Schema | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows and self.writer is not None:
            return
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
        failpoint("curate.part")

    def read(self, columns: list[str] | None = None):
        for path in self.files:
            yield from parquet.batches(path, STAGED_BATCH_ROWS, columns)

    def close(self) -> None:
        if self.writer:
            self.writer.close()
            self.writer = None


class _Quarantine:
    def __init__(self, folder: Path) -> None:
        self.folder, self.writers = folder, {}

    def __call__(self, step: str, rows: pa.RecordBatch, reason: str) -> None:
        self.write(step, rows.append_column(REASON, pa.array([reason] * rows.num_rows, pa.string())))

    def write(self, step: str, rows: pa.RecordBatch) -> None:
        """Rows that carry their `_reason` already (a partition's quarantine, copied into the source's)."""
        if step not in self.writers:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.writers[step] = pq.ParquetWriter(self.folder / f"{step}.parquet", rows.schema, compression="zstd")
        self.writers[step].write_batch(rows.cast(self.writers[step].schema))

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


def ner_status(spec: SourceSpec) -> NerStatus:
    if not spec.text_columns:
        return NerStatus(None, "off: names and addresses are looked for in text columns, and there are none "
                               "(declared, or found in the data)")
    return load_ner(spec.languages, spec.pii.ner)


def with_text_columns(spec: SourceSpec, batches: Iterable[pa.RecordBatch]) -> tuple[SourceSpec, Iterator]:
    """The spec with the text columns detected in the first batch (curate/text.py), and the batches, whole."""
    rows = iter(batches)
    first = next(rows, None)
    if first is None:
        return spec, iter(())
    return spec.model_copy(update={"text_columns": detect(first)}), chain([first], rows)


CURRENT, RUNS = "current", "runs"


def curate(spec: SourceSpec, batches: Iterable[pa.RecordBatch], folder: Path, ingest: StageCount | None = None,
           steps: list[Step] | None = None, *,
           published: Iterable[pa.RecordBatch] | Callable[[], Iterable[pa.RecordBatch]] = (),
           pii_key: bytes | None = None, workers: int = 1, parallel_after: int = 2, engine: str = "local",
           ray_address: str | None = None, takedown: Iterable[Entry] = (),
           dedup: bool | None = None, report_extra: CurationReport | None = None,
           inputs: dict | None = None) -> Curated:
    """Run the row steps (by default `default_steps`), then dedup, and make the result the source's current curation.

    `published` yields the previous version's `_row_sha256`, or is a function that returns them, called only when a
    curation is made (dedup keeps published copies, and the report compares with that version). `pii_key` is the
    secret for pseudonymisation, `takedown` the source's erasure entries. With `workers` > 1 the default row steps run
    in that many processes once more than `parallel_after` batches come (see parallel.py); with `engine` "ray", in
    actors of the Ray cluster at `ray_address` (engines.py). The result is the same.
    `dedup`: run the source-wide dedup (default: when `steps` is None). `report_extra` carries what the caller knows
    (renamed columns, warnings) into the report. `inputs` describes everything the result depends on (landed data,
    spec, takedown list, code, key): when the current curation was made from the same inputs it is returned as it
    is, and nothing is written."""
    folder = Path(folder)
    if inputs is not None and (current := _reusable(folder, inputs)):
        return current
    cid = uuid.uuid4().hex
    run = folder / RUNS / cid
    ner, entries = None, list(takedown)
    parallel = steps is None and (workers > 1 or engine == "ray")
    run_dedup = dedup if dedup is not None else steps is None
    detected = steps is None and "text_columns" not in spec.model_fields_set
    if detected:
        spec, batches = with_text_columns(spec, batches)
    if steps is None:
        ner = ner_status(spec)
        steps = default_steps(spec, pii_key, ner, entries)
    index = published_index(published() if callable(published) else published)
    quarantine = _Quarantine(run / "quarantine")
    try:
        staged = _Parts(run / "staged")
        with closing(staged):
            out = (run_parallel(steps, prefix_builder(spec, pii_key, entries), batches, quarantine, workers,
                                parallel_after, engine, ray_address)
                   if parallel else run_steps(steps, batches, redacting(steps, quarantine)))
            for batch in out:
                staged.write(batch)
        stages = ([ingest] if ingest else []) + [s.count for s in steps if s.reported]
        stage = default_dedup(spec, index if spec.dedup.against_published else None, run / "work") \
            if run_dedup else None
        parts, kept_published = _keep(staged, stage, index, run / "data", quarantine)
        stages += stage.counts if stage else []
    finally:
        quarantine.close()
    shutil.rmtree(run / "staged", ignore_errors=True)
    found = report(steps, ner)
    found.text_columns, found.text_detected = [column_name(c) for c in spec.text_columns], detected
    return finish(spec, folder, run, parts, stages, found, index, kept_published, report_extra, inputs)


def finish(spec: SourceSpec, folder: Path, run: Path, parts: _Parts, stages: list[StageCount],
           found: CurationReport, index: KeyIndex, kept_published: int, report_extra: CurationReport | None,
           inputs: dict | None) -> Curated:
    """Write the run's manifest (with what changed against the published version) and make the run current."""
    shutil.rmtree(run / "work", ignore_errors=True)
    if index.runs:
        total = int(sum(len(r) for r in index.runs))
        found.previous = {"kept": kept_published, "added": parts.rows - kept_published,
                          "removed": total - kept_published}
    if report_extra is not None:
        found.renamed, found.warnings = dict(report_extra.renamed), list(report_extra.warnings)
        found.previous = {**report_extra.previous, **found.previous} if found.previous else {}
    manifest = {"id": run.name, "source": spec.id, "rows": parts.rows, "inputs": inputs,
                "stages": [s.as_dict() for s in stages], "report": found.as_dict()}
    run.mkdir(parents=True, exist_ok=True)  # an empty curation wrote nothing before
    (run / "manifest.json").write_text(json.dumps(manifest, indent=1))
    failpoint("curate.staged")
    make_current(folder, run.name)
    failpoint("curate.swapped")
    return Curated(run, run.name, [run / "data" / p.name for p in parts.files], parts.rows, stages, parts.schema,
                   found, inputs)


def _reusable(folder: Path, inputs: dict) -> Curated | None:
    try:
        current = load_curated(folder)
    except FileNotFoundError:
        return None
    current.reused = current.inputs == inputs
    return current if current.reused else None


def _keep(staged: _Parts, stage: Dedup | None, index: KeyIndex, folder: Path,
          quarantine: _Quarantine) -> tuple[_Parts, int]:
    """Write the staged rows that dedup keeps (all of them without dedup) as the curated parts; the others go to
    quarantine. Returns the parts and how many kept rows the published version holds. Dedup reads only the columns
    it needs; its keys (DEDUP_KEYS) are dropped once it ran, and kept for a later dedup when it did not."""
    reasons = None
    if stage and staged.files:
        reads = stage.reads(staged.schema or pq.read_schema(staged.files[0]))
        reasons = stage.decide(lambda: staged.read(reads))
    parts, kept_published, offset = _Parts(folder), 0, 0
    with closing(parts):
        for batch in staged.read():
            n = batch.num_rows
            if stage:
                batch = batch.drop_columns([c for c in DEDUP_KEYS if c in batch.schema.names])
            if reasons is not None:
                batch, removed = split(batch, reasons[offset:offset + n])
                for name, rows, why in removed:
                    quarantine(name, rows, why)
            if index.runs and batch.num_rows:
                kept_published += int(index.contains(as_bytes(row_key(batch))).sum())
            parts.write(batch)
            offset += n
    return parts, kept_published


def make_current(folder: Path, cid: str) -> None:
    """Point `current` at runs/<cid> (an atomic rename of a new link), then remove every other run."""
    link = folder / f".{CURRENT}.{cid}"
    link.unlink(missing_ok=True)
    link.symlink_to(Path(RUNS) / cid, target_is_directory=True)
    os.replace(link, folder / CURRENT)
    clean(folder)


def clean(folder: Path) -> None:
    """Remove what a crashed curation left (runs other than the current one, stray links) and anything else in the
    source's folder, such as the layout of an older version of this project."""
    folder = Path(folder)
    current = (folder / CURRENT).resolve().name if (folder / CURRENT).exists() else None
    for path in folder.iterdir():
        if path.name in (CURRENT, RUNS, "partitions"):  # partitions: curate/partitions.py keeps its own
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    for path in (folder / RUNS).iterdir() if (folder / RUNS).is_dir() else ():
        if path.name != current:
            shutil.rmtree(path, ignore_errors=True)


def load_curated(folder: Path) -> Curated:
    """The source's current curation (`folder` is the source's curated folder, or one run inside it)."""
    folder = Path(folder)
    run = (folder / CURRENT).resolve() if (folder / CURRENT).exists() else folder
    if not (run / "manifest.json").exists():
        raise FileNotFoundError(f"{folder}: no curated data here yet (materialise the curated asset first)")
    manifest = json.loads((run / "manifest.json").read_text())
    files = sorted((run / "data").glob("part-*.parquet"))
    schema = pq.read_schema(files[0]) if files else None
    return Curated(run, manifest["id"], files, manifest["rows"],
                   [StageCount.from_dict(d) for d in manifest["stages"]], schema,
                   CurationReport.from_dict(manifest.get("report", {})), manifest.get("inputs"))
