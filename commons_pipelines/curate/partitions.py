"""Curation in partitions, for large sources (`partitions:` in the source's YAML).

The landed files (`_source_file`) are split into partitions in one of three ways:
- `partitions: 8`: 8 partitions "000".."007" by a hash of the file's name (`partition_of`), so a file
  stays in its partition while others come and go; a Dagster StaticPartitionsDefinition.
- `partitions: {by: file}`: one partition per file. Its key is the file's path when that is a safe folder name
  (letters, digits, `.`, `_`, `-`), else the path made safe plus 8 hex of its sha256 (`a/b c.csv` ->
  `a_b_c.csv-1f2e3d4c`), so keys stay readable, unique, valid Dagster keys and folder names.
- `partitions: {by: date}`: one partition per day, "YYYY-MM-DD", read from the file's path with `pattern` (the first
  match that is a real date). A file whose path holds no date stops the ingest before anything is loaded (the raw
  asset fails naming the file and the pattern; the warehouse stays as it was): nothing is lost or silently put aside.
The file and date keys are Dagster dynamic partitions, those of the files the warehouse records now: the raw asset
adds the new ones after each ingest and deletes those whose files vanished (their folders go too).

Each partition goes through the row steps on its own (`stage`) and is kept as a curation without dedup in
`<source>/partitions/<key>/`, reused while its files and everything else it depends on are unchanged: a refresh
where one file changed runs the row steps on that file's partition only. In Dagster each partition is a partition
of the source's `staged` asset, so partitions run in parallel runs (one machine each, with a shared COMMONS_HOME or
COMMONS_STORE_URL) and a failed one is retried alone.

The source-wide stages then run once over the partitions' outputs, in partition order (`combine`; keys sorted: by
date, the oldest day first): exact and near dedup group the keys and MinHash signatures each partition staged
(dedup.DedupKeys, datatrove's staged MinHash; the index is on disk), the kept rows become the source's curation,
and the partitions' quarantined rows are copied into it; their counts and reports are added up. The curated rows come in partition order, then file and row order: the same rows as
an unpartitioned curation, in another order, and a duplicate is kept in the partition that comes first.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

import pyarrow as pa

from .. import parquet
from ..naming import column_name
from ..spec import DATE_PATTERN, SourceSpec
from ..stats import CurationReport, PiiCount, StageCount
from .runner import (RUNS, Curated, _keep, _Parts, _Quarantine, _reusable, curate, default_dedup, finish,
                     published_index)

PARTITIONS = "partitions"


class PartitionError(ValueError):
    """A file that has no partition: by date, its path holds no date."""


def partition_of(unit: str, count: int) -> int:
    """The partition of a landed file (`_source_file`): a hash of its name, so a file stays in its partition while
    others come and go."""
    return int(hashlib.sha256(unit.encode("utf-8")).hexdigest()[:12], 16) % count


def partition_names(count: int) -> list[str]:
    return [f"{k:03d}" for k in range(count)]


def by(spec: SourceSpec) -> str | None:
    """How the source is partitioned: 'hash', 'file', 'date', or None."""
    p = spec.partitions
    return None if p is None else "hash" if isinstance(p, int) else p.by


def dynamic_name(spec: SourceSpec) -> str | None:
    """The name of the source's Dagster DynamicPartitionsDefinition (None for hash partitions or none)."""
    return {"file": f"{spec.id}_files", "date": f"{spec.id}_days"}.get(by(spec))


SAFE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


def file_key(file: str) -> str:
    """A readable key for a file that is a valid Dagster key and folder name (see the module's docstring)."""
    if SAFE.fullmatch(file) and ".." not in file and len(file) <= 100:
        return file
    safe = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "_", file)).lstrip(".")[-80:]
    return f"{safe}-{hashlib.sha256(file.encode('utf-8')).hexdigest()[:8]}"


def day_of(file: str, pattern: str | None = None) -> str:
    """The day in a file's path, YYYY-MM-DD: the first match of `pattern` that is a real date."""
    for m in re.finditer(pattern or DATE_PATTERN, file):
        try:
            return date(int(m["year"]), int(m["month"]), int(m["day"])).isoformat()
        except ValueError:
            continue
    raise PartitionError(f"partitions by date: the path {file!r} holds no date matching the pattern "
                         f"{pattern or DATE_PATTERN!r}; rename the file or set `partitions: {{by: date, "
                         "pattern: ...}` to one that finds its day")


def name_of(spec: SourceSpec, file: str) -> str:
    """The partition of a landed file."""
    p = spec.partitions
    if isinstance(p, int):
        return f"{partition_of(file, p):03d}"
    return file_key(file) if p.by == "file" else day_of(file, p.pattern)


def split(spec: SourceSpec, files: Iterable[str]) -> dict[str, list[str]]:
    """Each partition's files, in partition order: by hash all N partitions, empty or not; by file or date those
    that have files. PartitionError for a file without a partition."""
    found: dict[str, list[str]] = ({n: [] for n in partition_names(spec.partitions)}
                                   if isinstance(spec.partitions, int) else {})
    for file in sorted(files):
        found.setdefault(name_of(spec, file), []).append(file)
    return dict(sorted(found.items()))


def folder_of(folder: Path, name: str) -> Path:
    """Where partition `name` of the source curated in `folder` is kept."""
    return Path(folder) / PARTITIONS / name


def stage(spec: SourceSpec, batches: Iterable[pa.RecordBatch], folder: Path, partition: str, inputs: dict,
          **options) -> Curated:
    """The row steps over one partition's records, kept in the partition's folder; reused when `inputs` (which
    must describe the partition's records, not the whole source's) are those of its current curation. `spec` must
    carry its text columns (found once for the whole source, so that every partition reads the same columns).
    `options` go to curate (pii_key, workers, engine, ray_address, takedown)."""
    return curate(spec, batches, folder_of(folder, partition), dedup=False, inputs=inputs, **options)


def combine(spec: SourceSpec, parts: list[Curated], folder: Path, ingest: StageCount | None = None, *,
            published: Iterable[pa.RecordBatch] | Callable[[], Iterable[pa.RecordBatch]] = (),
            text_detected: bool = False, report_extra: CurationReport | None = None,
            inputs: dict | None = None) -> Curated:
    """Dedup over the partitions' curated rows, in partition order, as the source's curation (see runner.curate for
    `published`, `report_extra` and `inputs`)."""
    folder = Path(folder)
    if inputs is not None and (current := _reusable(folder, inputs)):
        return current
    run = folder / RUNS / uuid.uuid4().hex
    index = published_index(published() if callable(published) else published)
    staged = _Parts(run / "staged")
    staged.files = [f for p in parts for f in p.files]
    quarantine = _Quarantine(run / "quarantine")
    try:
        for part in parts:
            for path in sorted((part.folder / "quarantine").glob("*.parquet")):
                for batch in parquet.batches(path):
                    quarantine.write(path.stem, batch)
        dedup = default_dedup(spec, index if spec.dedup.against_published else None, run / "work")
        kept, kept_published = _keep(staged, dedup, index, run / "data", quarantine)
    finally:
        quarantine.close()
    stages = ([ingest] if ingest else []) + added_stages([p.stages for p in parts]) + dedup.counts
    found = added_reports([p.report for p in parts])
    found.text_columns, found.text_detected = [column_name(c) for c in spec.text_columns], text_detected
    return finish(spec, folder, run, kept, stages, found, index, kept_published, report_extra, inputs)


def added_stages(per_part: list[list[StageCount]]) -> list[StageCount]:
    """The row steps' counts of every partition added up, step by step (every partition runs the same steps)."""
    total: list[StageCount] = []
    for stages in per_part:
        for i, s in enumerate(stages):
            if i == len(total):
                total.append(StageCount(s.stage))
            total[i].rows_in += s.rows_in
            total[i].rows_out += s.rows_out
            total[i].removed.update(s.removed)
    return total


def added_reports(reports: list[CurationReport]) -> CurationReport:
    pii: Counter = Counter()
    erased: Counter = Counter()
    for r in reports:
        pii.update({(p.type, p.column, p.policy): p.count for p in r.pii})
        erased.update(r.erased)
    return CurationReport(pii=[PiiCount(*key, n) for key, n in sorted(pii.items())],
                          ner=reports[0].ner if reports else "off", erased=dict(sorted(erased.items())))


def partition_inputs(inputs: dict, partition_version: str) -> dict:
    """A partition's inputs: the source's, with its own records' digest in place of the whole source's, and no
    published version (a partition does not dedup)."""
    return {**{k: v for k, v in inputs.items() if k not in ("raw", "published")}, "raw": partition_version}


def drop_others(folder: Path, names: Iterable[str]) -> None:
    """Remove the folders of partitions not in `names` (all of them when empty): a source cut anew, a vanished
    file's or day's partition."""
    kept = set(names)
    for path in sorted((Path(folder) / PARTITIONS).glob("*")):
        if path.name not in kept:
            shutil.rmtree(path, ignore_errors=True)
