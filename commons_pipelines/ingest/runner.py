"""One ingest of a source, whatever its kind: list its units, read the new and changed ones through dlt, reconcile.

A kind is a module of this package named after it (`files`, `rest_api`, `sql`, `ckan`, `udata`, `hf_dataset`)
with three functions:

    location(spec) -> str                  where the source is, fit for publishing (no credentials)
    plan(spec, known, work, check) -> Plan the units listed now (files, API resources, tables, datasets ...),
                                           compared with what the warehouse recorded: which to read
    read(spec, unit, notes) -> Iterator    one unit's rows (Arrow tables/batches or lists of dicts) and
                                           `Quarantined` entries; notes["renamed"] collects forced renames

Everything else is the same for every kind and lives here: each row is tagged with its unit (`_source_file`), the
unit's public URL (`_source_url`, unless the kind gave the row its own), when it was read and the ingest run; bad
records go to `raw.quarantine`; a unit whose listing gave no digest of its content (an API resource, a table) gets
the sha256 of what was read, so unchanged content keeps the same data version. Then `state.reconcile` keeps exactly
the rows of each unit's recorded read.
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

import dlt
import pyarrow as pa
from dlt.sources import DltResource, DltSource

from ..columns import (INGEST_RUN, INGEST_RUN_FIELD, RETRIEVED_AT, RETRIEVED_AT_FIELD, SOURCE_FILE, SOURCE_FILE_FIELD,
                       SOURCE_URL, SOURCE_URL_FIELD)
from ..faults import failpoint
from ..spec import SourceSpec
from .listing import Listed, Plan
from .readers import JSON_ROWS, UNREADABLE, Quarantined
from .state import QUARANTINE, RECORDS, FileResult, column_types, dlt_columns, known_files, reconcile, record_empty_listing

QUARANTINE_SCHEMA = pa.schema([
    SOURCE_FILE_FIELD, ("position", pa.string()), ("reason", pa.string()), ("detail", pa.string()),
    ("raw", pa.string()), RETRIEVED_AT_FIELD, INGEST_RUN_FIELD,
])
QUARANTINE_BATCH = 5000


def kind_module(spec: SourceSpec) -> ModuleType:
    return importlib.import_module(f"{__package__}.{spec.kind}")


def _quarantine(rows: list[dict]):
    return dlt.mark.with_table_name(pa.Table.from_pylist(rows, QUARANTINE_SCHEMA), QUARANTINE)


def _tag(part, tags: dict[str, object], ids: Iterator[int] | None):
    """The rows with the unit's tags; Arrow rows also with dlt's row columns when the table has them (`ids`)."""
    if isinstance(part, list):
        return [{**tags, **r} for r in part]
    n = part.num_rows
    for f in (SOURCE_FILE_FIELD, SOURCE_URL_FIELD, RETRIEVED_AT_FIELD, INGEST_RUN_FIELD):
        if f.name not in part.schema.names:
            part = part.append_column(f, pa.array([tags[f.name]] * n, f.type))
    if ids is not None:
        run = tags[INGEST_RUN]
        part = part.append_column("_dlt_load_id", pa.array([run] * n, pa.string()))
        part = part.append_column("_dlt_id", pa.array([f"{run}{next(ids):x}" for _ in range(n)], pa.string()))
    return part


_SCALARS = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}


def as_arrow(rows: list[dict], types: dict[str, pa.DataType | None]) -> pa.RecordBatch | list[dict]:
    """Records as an Arrow batch, which dlt loads without looking at each value, when it lands them as dlt would land
    the dicts: every key holds one scalar type (or null), the type its column has (`types`: the warehouse's and
    this run's columns, None for a column only dicts may feed). Otherwise the dicts, for dlt to type: nested values
    land as JSON, a second type gets its own variant column. A key null in every record is left out, as dlt leaves
    it out of the dicts. `types` learns the columns of either."""
    arrays, names, seen = [], [], {}
    for key in dict.fromkeys(k for r in rows for k in r):
        values = [r.get(key) for r in rows]
        kinds = set(map(type, values))
        kinds.discard(type(None))
        if kinds:
            seen[key] = _SCALARS.get(kinds.pop()) if len(kinds) == 1 else None
            arrays.append(values)
            names.append(key)
    if not _fits(seen, types):
        return rows
    return pa.RecordBatch.from_arrays([pa.array(v, seen[k]) for k, v in zip(names, arrays)], names)


def json_arrow(batch: pa.RecordBatch, types: dict[str, pa.DataType | None]) -> pa.RecordBatch | list[dict]:
    """as_arrow for JSON records pyarrow read (readers.JSON_ROWS: scalar columns, none null in every row): the
    batch, or the dicts the Python reader gives (nulls left out, as dlt leaves them out)."""
    batch = batch.replace_schema_metadata(None)
    if _fits(dict(zip(batch.schema.names, batch.schema.types)), types):
        return batch
    return [{k: v for k, v in r.items() if v is not None} for r in batch.to_pylist()]


def _fits(seen: dict[str, pa.DataType | None], types: dict[str, pa.DataType | None]) -> bool:
    fits = bool(seen) and all(t is not None and types.get(k, t) == t for k, t in seen.items())
    for k, t in seen.items():
        types.setdefault(k, t if fits else None)
    return fits


def typed(part, types: dict[str, pa.DataType | None]):
    """What the runner hands dlt for a part: as_arrow for dicts, json_arrow for JSON rows, other Arrow as it is."""
    if isinstance(part, list):
        return as_arrow(part, types)
    return json_arrow(part, types) if JSON_ROWS in (part.schema.metadata or {}) else part


def _digest(digest, part) -> None:
    if isinstance(part, list):
        for r in part:
            digest.update(json.dumps(r, sort_keys=True, default=str).encode())
        return
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, part.schema) as writer:
        writer.write(part)
    digest.update(sink.getvalue())


def records_source(spec: SourceSpec, plan: Plan | None = None, run: str = "",
                   results: dict[str, FileResult] | None = None, dlt_ids: bool = True,
                   types: dict[str, pa.DataType | None] | None = None) -> DltSource:
    """The dlt source of one ingest run. Without a plan it reads nothing (Dagster builds the asset from it).
    `dlt_ids`: the records table has dlt's row columns (state.dlt_columns), which Arrow rows must then carry;
    `types`: the types of its columns (state.column_types), so that records become Arrow only where dicts would
    land the same."""
    results = {} if results is None else results
    types = dict(types or {})
    kind = kind_module(spec)
    ids = itertools.count() if dlt_ids else None

    def read() -> Iterator:
        for unit in plan.read if plan else ():
            retrieved = datetime.now(timezone.utc)
            result = results[unit.path] = FileResult()
            tags = {SOURCE_FILE: unit.path, SOURCE_URL: unit.url, RETRIEVED_AT: retrieved, INGEST_RUN: run}
            digest = None if unit.sha256 else hashlib.sha256()
            bad: list[dict] = []
            notes: dict = {}
            for part in kind.read(spec, unit, notes):
                if isinstance(part, Quarantined):
                    result.quarantined += 1
                    result.unreadable |= part.reason == UNREADABLE
                    bad.append({SOURCE_FILE: unit.path, **part.as_row(), RETRIEVED_AT: retrieved, INGEST_RUN: run})
                    if len(bad) >= QUARANTINE_BATCH:
                        yield _quarantine(bad)
                        bad = []
                    continue
                if digest is not None:
                    _digest(digest, part)
                result.rows += len(part) if isinstance(part, list) else part.num_rows
                yield _tag(typed(part, types), tags, ids)
                failpoint("ingest.extract")
            result.renamed = notes.get("renamed", {})
            result.cursor = notes.get("cursor")
            if digest is not None:
                result.sha256 = digest.hexdigest()
            if bad:
                yield _quarantine(bad)

    @dlt.source(name=spec.id, max_table_nesting=0)
    def source() -> DltResource:
        return dlt.resource(read, name=RECORDS, write_disposition="append")

    src = source()
    # the raw layer keeps what the source says: a JSON string stays text whether dlt reads it as a dict or in Arrow
    src.schema.remove_type_detection("iso_timestamp")
    return src


class SourceError(RuntimeError):
    """A source that cannot be read as its YAML says (a table, a repository, a variable that is not there): the
    message names the YAML and the field; retrying would change nothing."""


class NoFiles(SourceError):
    """A new source whose listing is empty: a wrong path, glob or filter, never an empty dataset."""


class Ingest:
    """One ingest: make_plan(), then source() for dlt to load (when plan.read), then commit().

    Splitting it lets Dagster's dlt resource run the load in between; `run()` does all three with plain dlt."""

    def __init__(self, spec: SourceSpec, db: Path, work: Path, check: Callable[[str], None]):
        self.spec, self.db, self.work, self.check = spec, Path(db), Path(work), check
        self.run_id = uuid.uuid4().hex
        self.results: dict[str, FileResult] = {}
        self.plan: Plan | None = None
        self.dlt_ids = True
        self.types: dict[str, pa.DataType | None] = {}

    def make_plan(self) -> Plan:
        known = known_files(self.db)
        self.dlt_ids = dlt_columns(self.db)
        self.types = column_types(self.db)
        self.plan = kind_module(self.spec).plan(self.spec, known, self.work, self.check)
        if not self.plan.listed and not known:
            raise NoFiles(empty_listing(self.spec))
        return self.plan

    def source(self) -> DltSource:
        return records_source(self.spec, self.plan, self.run_id, self.results, self.dlt_ids,
                              self.types)

    def commit(self) -> None:
        """Record the listing and keep only the rows it allows; an empty listing of a known source changes nothing
        (a folder that went missing must not empty the dataset): the listing check fails instead."""
        failpoint("ingest.loaded")
        if self.plan.listed:
            reconcile(self.db, self.plan, self.run_id, self.results, self.spec.primary_key)
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


def empty_listing(spec: SourceSpec) -> str:
    """What an empty listing means, naming the field to look at."""
    where = kind_module(spec).location(spec)
    if spec.files:
        return f"{spec.origin}: field 'files.glob': {spec.files.glob!r} matches no file in {where}"
    return f"{spec.origin}: field '{spec.kind}': nothing listed at {where}"


__all__ = ["Ingest", "Listed", "NoFiles", "Plan", "SourceError", "empty_listing", "kind_module", "records_source"]
