"""Curation in partitions, for large sources (`partitions: N` in the source's YAML).

The landed files are split into N partitions by a hash of their name (ingest/warehouse.partition_of), so a file
stays in its partition while others come and go. Each partition goes through the row steps on its own (`stage`) and
is kept as a curation without dedup in `<source>/partitions/<k>/`, reused while its files and everything else it
depends on are unchanged: a refresh where one file changed runs the row steps on that file's partition only. In
Dagster each partition is a partition of the source's `staged` asset, so partitions run in parallel runs (one
machine each, with a shared COMMONS_HOME) and a failed one is retried alone.

The source-wide stages then run once over the partitions' outputs, in partition order (`combine`): exact and near
dedup read every partition's rows (Dedup's keys and MinHash index are on disk), the kept rows become the source's
curation, and the partitions' quarantined rows are copied into it; their counts and reports are added up. The
curated rows come in partition order, then file and row order: the same rows as an unpartitioned curation, in
another order, and a duplicate is kept in the partition that comes first.
"""

from __future__ import annotations

import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa

from .. import parquet
from ..naming import column_name
from ..spec import SourceSpec
from ..stats import CurationReport, PiiCount, StageCount
from .runner import (RUNS, Curated, _keep, _Parts, _Quarantine, _reusable, curate, default_dedup, finish,
                     published_index)

PARTITIONS = "partitions"


def partition_names(count: int) -> list[str]:
    return [f"{k:03d}" for k in range(count)]


def folder_of(folder: Path, partition: int) -> Path:
    """Where partition `partition` of the source curated in `folder` is kept."""
    return Path(folder) / PARTITIONS / f"{partition:03d}"


def stage(spec: SourceSpec, batches: Iterable[pa.RecordBatch], folder: Path, partition: int, inputs: dict,
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


def drop_others(folder: Path, count: int) -> None:
    """Remove the partitions' folders of a source now cut in `count` partitions (all of them when 0)."""
    for path in sorted((Path(folder) / PARTITIONS).glob("*")):
        if path.name not in partition_names(count):
            shutil.rmtree(path, ignore_errors=True)
