"""The `files` kind: one dlt resource that reads the files a plan (listing.py) says to read, through our readers.

Rows land in `raw.records`, unparseable records in `raw.quarantine`, both appended with the file (`_source_file`),
its public URL (`_source_url`), the time it was read (`_retrieved_at`) and the ingest run (`_ingest_run`);
state.reconcile then keeps exactly the rows of each file's latest successful read. `ingest` runs the whole step:
list, plan, load with dlt, reconcile (the class `Ingest`).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import dlt
import pyarrow as pa
from dlt.sources import DltResource, DltSource

from ..columns import (INGEST_RUN, INGEST_RUN_FIELD, RETRIEVED_AT, RETRIEVED_AT_FIELD, SOURCE_FILE, SOURCE_FILE_FIELD,
                       SOURCE_URL, SOURCE_URL_FIELD)
from ..faults import failpoint
from ..spec import SourceSpec
from .listing import Plan, plan_files
from .readers import UNREADABLE, Quarantined, compression_of, open_stream, read_file
from .state import QUARANTINE, RECORDS, FileResult, known_files, reconcile, record_empty_listing

QUARANTINE_SCHEMA = pa.schema([
    SOURCE_FILE_FIELD, ("position", pa.string()), ("reason", pa.string()), ("detail", pa.string()),
    ("raw", pa.string()), RETRIEVED_AT_FIELD, INGEST_RUN_FIELD,
])
QUARANTINE_BATCH = 5000


def _quarantine(rows: list[dict]):
    return dlt.mark.with_table_name(pa.Table.from_pylist(rows, QUARANTINE_SCHEMA), QUARANTINE)


def _tag(part, tags: dict[str, object]):
    if isinstance(part, list):
        return [{**r, **tags} for r in part]
    n = part.num_rows
    for f in (SOURCE_FILE_FIELD, SOURCE_URL_FIELD, RETRIEVED_AT_FIELD, INGEST_RUN_FIELD):
        part = part.append_column(f, pa.array([tags[f.name]] * n, f.type))
    return part


def files_source(spec: SourceSpec, plan: Plan | None = None, run: str = "",
                 results: dict[str, FileResult] | None = None) -> DltSource:
    """The dlt source of one ingest run. Without a plan it reads nothing (Dagster builds the asset from it)."""
    cfg = spec.files
    results = {} if results is None else results

    def read() -> Iterator:
        for f in plan.read if plan else ():
            retrieved = datetime.now(timezone.utc)
            result = results[f.path] = FileResult()
            tags = {SOURCE_FILE: f.path, SOURCE_URL: f.url, RETRIEVED_AT: retrieved, INGEST_RUN: run}
            bad: list[dict] = []
            notes: dict = {}
            with open(f.open_path, "rb") as raw:
                parts = read_file(open_stream(raw, f.path, cfg.compression), f.path, cfg, notes)
                if f.size == 0 and compression_of(f.path, cfg.compression):  # pyarrow reads it as empty, no error
                    parts = [Quarantined(f.path, "byte 0", UNREADABLE, "an empty compressed file", "")]
                for part in parts:
                    if isinstance(part, Quarantined):
                        result.quarantined += 1
                        result.unreadable |= part.reason == UNREADABLE
                        bad.append({SOURCE_FILE: f.path, **part.as_row(), RETRIEVED_AT: retrieved, INGEST_RUN: run})
                        if len(bad) >= QUARANTINE_BATCH:
                            yield _quarantine(bad)
                            bad = []
                        continue
                    result.rows += len(part) if isinstance(part, list) else part.num_rows
                    yield _tag(part, tags)
                    failpoint("ingest.extract")
            result.renamed = notes.get("renamed", {})
            if bad:
                yield _quarantine(bad)

    @dlt.source(name=spec.id, max_table_nesting=0)
    def source() -> DltResource:
        return dlt.resource(read, name=RECORDS, write_disposition="append")

    return source()


class NoFiles(RuntimeError):
    """A new source whose listing is empty: a wrong path or glob, never an empty dataset."""


class Ingest:
    """One ingest of a `files` source: plan(), then source() for dlt to load (when plan.read), then commit().

    Splitting it lets Dagster's dlt resource run the load in between; `run()` does all three with plain dlt."""

    def __init__(self, spec: SourceSpec, db: Path, work: Path, check: Callable[[str], None]):
        self.spec, self.db, self.work, self.check = spec, Path(db), Path(work), check
        self.run_id = uuid.uuid4().hex
        self.results: dict[str, FileResult] = {}
        self.plan: Plan | None = None

    def make_plan(self) -> Plan:
        known = known_files(self.db)
        self.plan = plan_files(self.spec, known, self.work, self.check)
        if not self.plan.listed and not known:  # a remote file is always listed, or its fetch failed
            raise NoFiles(f"{self.spec.origin}: field 'files.glob': {self.spec.files.glob!r} matches no file in "
                          f"{self.spec.files_location()}")
        return self.plan

    def source(self) -> DltSource:
        return files_source(self.spec, self.plan, self.run_id, self.results)

    def commit(self) -> None:
        """Record the listing and keep only the rows it allows; an empty listing of a known source changes nothing
        (a folder that went missing must not empty the dataset): the listing check fails instead."""
        failpoint("ingest.loaded")
        if self.plan.listed:
            reconcile(self.db, self.plan, self.run_id, self.results)
        else:
            record_empty_listing(self.db, self.run_id)
        failpoint("ingest.committed")
        shutil.rmtree(self.work, ignore_errors=True)

    def run(self, pipeline: dlt.Pipeline) -> Plan:
        plan = self.make_plan()
        if plan.read:
            pipeline.abort_packages()  # an interrupted load is read again, as dagster-dlt does
            pipeline.run(self.source()).raise_on_failed_jobs()
        self.commit()
        return plan
