"""What the warehouse knows of a source's files, and the one transaction that makes the landed records agree with it.

dlt appends what an ingest read to `raw.records` and `raw.quarantine`, each row tagged with its file
(`_source_file`) and the ingest run (`_ingest_run`). Then `reconcile` records the files in `commons.files` and, in the
same DuckDB transaction, keeps only the rows of each listed file's recorded run: rows of files that are gone or have
become unreadable, of older reads of a file, and of a run that crashed before reconciling, all go. A crash anywhere
leaves the recorded state of the previous ingest; the files it did not record are read again next time.

A file is read again when the ingest code (or dlt, pyarrow, duckdb) changed since it was read (`code_version`), so a
fix in a reader reaches the data without anyone deleting the warehouse.

`commons.seen` keeps, per file, the first time each record content was seen, so a record read again unchanged keeps
its `_retrieved_at` (the content is the record's non-null data values with their column names: a new empty column
changes no record).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from ..code import code_version
from ..settings import DUCKDB_MEMORY
from ..columns import INGEST_RUN, RETRIEVED_AT, SOURCE_FILE, is_system, sql_string
from .listing import Known, Listed, Plan
from .readers import UNREADABLE

SCHEMA = "commons"
RAW = "raw"
RECORDS, QUARANTINE = "records", "quarantine"

DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.files (
    path varchar primary key, url varchar, size bigint, mtime_ns bigint, ctime_ns bigint, inode bigint,
    etag varchar, last_modified varchar, sha256 varchar, run varchar, status varchar,
    rows bigint, quarantined bigint, renamed varchar, read_at timestamptz, checked_at timestamptz, code varchar);
alter table {SCHEMA}.files add column if not exists code varchar;
alter table {SCHEMA}.files add column if not exists cursor varchar;
create table if not exists {SCHEMA}.seen (path varchar, sha256 varchar, first_seen timestamptz);
create table if not exists {SCHEMA}.runs (
    run varchar, started timestamptz, listed bigint, read bigint, checked bigint, vanished bigint, note varchar);
alter table {SCHEMA}.runs add column if not exists compute varchar;
"""


@dataclass
class FileResult:
    """What reading one file gave: filled by the dlt resource while it extracts."""
    rows: int = 0
    quarantined: int = 0
    unreadable: bool = False
    renamed: dict[str, str] = field(default_factory=dict)
    sha256: str | None = None  # of what was read, for a unit whose listing gave no digest
    cursor: str | None = None  # an incremental unit's last cursor value after this read


class _Instance:
    """An in-memory DuckDB that attaches one warehouse file while it is used and can reach no other file: opening a
    DuckDB costs ~36 ms of CPU (it registers its 3,300 functions), attaching a file ~2 ms, and a run opens its
    warehouse about a dozen times. Between uses the file is detached, so that other processes can open it."""

    def __init__(self) -> None:
        self.con: duckdb.DuckDBPyConnection | None = None
        self.users, self.read_only = 0, False

    def attach(self, db: str, read_only: bool) -> None:
        if self.con is None:
            self.con = duckdb.connect(config={"memory_limit": DUCKDB_MEMORY, "temp_directory": f"{db}.spill"})
            files = ", ".join(sql_string(db + end) for end in ("", ".wal", ".wal.checkpoint", ".wal.recovery"))
            self.con.execute(f"set allowed_paths = [{files}]")
            self.con.execute(f"set allowed_directories = [{sql_string(db + '.spill/')}]")
            self.con.execute("set enable_external_access = false")  # a `where:` predicate reads no file, no URL
        self.con.execute(f"attach {sql_string(db)} as {_ATTACHED}{' (read_only)' if read_only else ''}")

    def close(self) -> None:
        if self.con is not None:
            self.con.close()


_ATTACHED = "warehouse"
_KEPT = 8  # idle DuckDBs kept per process (~5 MB each), the most recently used
_instances: OrderedDict[str, _Instance] = OrderedDict()
_lock = threading.Lock()
_orphans: list[_Instance] = []


def _forget_after_fork() -> None:
    """A forked child neither uses nor frees its parent's DuckDBs: their threads did not follow it."""
    global _lock
    _orphans.extend(_instances.values())
    _instances.clear()
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


@contextmanager
def connect(db: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a source's warehouse that spills to disk beside it past DUCKDB_MEMORY (DuckDB would take up to
    80% of the RAM: reconciling a 1 GB load went from 0.4 to 0.9 GB of RSS without the cap) and reaches no other
    file. The uses of one file in a process share one DuckDB (and its settings), all read-only or all writing, as
    DuckDB's connections to one file do; the file is detached, and checkpointed, when the last use ends."""
    path = os.path.abspath(db)
    with _lock:
        instance = _instances.pop(path, None) or _Instance()
        _instances[path] = instance
        if instance.users and instance.read_only != read_only:
            raise duckdb.ConnectionException(
                f"{path} is open {'read-only' if instance.read_only else 'for writing'} in this process")
        if not instance.users:
            instance.attach(path, read_only)
        instance.users, instance.read_only = instance.users + 1, read_only
        for key in [k for k, i in _instances.items() if i.users == 0][:max(0, len(_instances) - _KEPT)]:
            _instances.pop(key).close()
    try:
        con = instance.con.cursor()
        try:
            con.execute(f"use {_ATTACHED}")
            yield con
        finally:
            con.close()
    finally:
        with _lock:
            instance.users -= 1
            if instance.users == 0:
                try:
                    instance.con.execute(f"detach {_ATTACHED}")
                except duckdb.Error:  # its checkpoint failed (a full disk): DuckDB gave the file up, and so do we
                    _instances.pop(path, None)
                    instance.close()
                    raise


def tables(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    return {r[0] for r in con.execute("select table_name from information_schema.tables "
                                      "where table_catalog = current_database() and table_schema = ?",
                                      [schema]).fetchall()}


def _read(db: Path, table: str, sql: str) -> list[tuple]:
    """Rows of a query on one of the state tables; none before the first ingest made them."""
    if not Path(db).exists():
        return []
    with connect(db, read_only=True) as con:
        return con.execute(sql).fetchall() if table in tables(con, SCHEMA) else []


def known_files(db: Path) -> dict[str, Known]:
    rows = _read(db, "files", f"select path, size, mtime_ns, ctime_ns, inode, etag, last_modified, sha256, status, "
                              f"code, cursor from {SCHEMA}.files")
    return {r[0]: Known(*r) for r in rows}


def dlt_columns(db: Path) -> bool:
    """Whether the records table has dlt's row columns (`_dlt_id`, `_dlt_load_id`, NOT NULL), which dlt gives rows
    it reads as dicts: Arrow rows must then carry them too. A new table gets them, so that both can land in it."""
    if not Path(db).exists():
        return True
    with connect(db, read_only=True) as con:
        found = con.execute("select count(*) from information_schema.columns where table_schema = ? and "
                            "table_name = ? and column_name = '_dlt_id'", [RAW, RECORDS]).fetchone()[0]
        return bool(found) or RECORDS not in tables(con, RAW)


_TYPES = {"VARCHAR": pa.string(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_()}


def column_types(db: Path) -> dict[str, pa.DataType | None]:
    """The Arrow type of each column of the records table, None where records must go to dlt as dicts (JSON,
    timestamps, variants)."""
    if not Path(db).exists():
        return {}
    with connect(db, read_only=True) as con:
        rows = con.execute("select column_name, data_type from information_schema.columns where table_schema = ? "
                           "and table_name = ?", [RAW, RECORDS]).fetchall()
    return {name: _TYPES.get(t) for name, t in rows}


def renamed_columns(db: Path) -> dict[str, str]:
    """Input columns renamed because their name started with '_' (reserved for system columns), over all files."""
    out: dict[str, str] = {}
    for (text,) in _read(db, "files", f"select renamed from {SCHEMA}.files where renamed is not null order by path"):
        out.update(json.loads(text))
    return out


def last_run(db: Path) -> dict | None:
    rows = _read(db, "runs", f"select run, started, listed, read, checked, vanished, note, compute from {SCHEMA}.runs "
                             f"order by started desc limit 1")
    if not rows:
        return None
    run = dict(zip(("run", "started", "listed", "read", "checked", "vanished", "note", "compute"), rows[0]))
    run["compute"] = json.loads(run["compute"]) if run["compute"] else None
    return run


def record_compute(db: Path, run: str, compute: dict) -> None:
    """What an ingest run cost (footprint.Footprint), kept with the run."""
    with connect(db) as con:
        con.execute(DDL)
        con.execute(f"update {SCHEMA}.runs set compute = ? where run = ?", [json.dumps(compute), run])


def _content_hash(con: duckdb.DuckDBPyConnection) -> str:
    cols = [r[0] for r in con.execute(f"describe {RAW}.{RECORDS}").fetchall() if not is_system(r[0])]
    pairs = ", ".join(f"case when \"{c}\" is not null then '{c}' || chr(30) || cast(\"{c}\" as varchar) end"
                      for c in cols) or "''"
    return f"sha256(concat_ws(chr(31), {pairs}))"


def _row(f: Listed, run: str, result: FileResult, now: datetime) -> list:
    return [f.path, f.url, f.size, f.mtime_ns, f.ctime_ns, f.inode, f.etag, f.last_modified, f.sha256 or result.sha256,
            run, "unreadable" if result.unreadable else "ok", result.rows, result.quarantined,
            json.dumps(result.renamed) if result.renamed else None, now, now, code_version("ingest"),
            result.cursor if result.cursor is not None else f.cursor]


def _append(con: duckdb.DuckDBPyConnection, f: Listed, run: str, key: list[str]) -> None:
    """An incremental unit's earlier rows (and quarantine entries) stay, but for those the new read sends again (same
    primary key): they join this run, so that the rule "a unit's rows are its recorded run's" keeps them."""
    before = con.execute(f"select run from {SCHEMA}.files where path = ? and status = 'ok'", [f.path]).fetchone()
    if not before:
        return
    columns = {r[0] for r in con.execute(f"describe {RAW}.{RECORDS}").fetchall()}
    if key and set(key) <= columns:
        cols = ", ".join(f'"{c}"' for c in key)
        con.execute(f"delete from {RAW}.{RECORDS} where {SOURCE_FILE} = ? and {INGEST_RUN} = ? and ({cols}) in "
                    f"(select ({cols}) from {RAW}.{RECORDS} where {SOURCE_FILE} = ? and {INGEST_RUN} = ?)",
                    [f.path, before[0], f.path, run])
    for table in (RECORDS, QUARANTINE) if QUARANTINE in tables(con, RAW) else (RECORDS,):
        con.execute(f"update {RAW}.{table} set {INGEST_RUN} = ? where {SOURCE_FILE} = ? and {INGEST_RUN} = ?",
                    [run, f.path, before[0]])


def reconcile(db: Path, plan: Plan, run: str, results: dict[str, FileResult], key: list[str] = ()) -> None:
    """Record what this ingest listed and read, and make raw.records / raw.quarantine agree with it, atomically.
    `key` is the source's primary key: a record an incremental unit sends again replaces its earlier copy."""
    now = datetime.now(timezone.utc)
    with connect(db) as con:
        con.execute(DDL)
        landed = tables(con, RAW)
        con.execute("begin")
        for f in plan.read:
            if f.append and RECORDS in landed and not results.get(f.path, FileResult()).unreadable:
                _append(con, f, run, list(key))
            con.execute(f"delete from {SCHEMA}.files where path = ?", [f.path])
            con.execute(f"insert into {SCHEMA}.files values ({', '.join('?' * 18)})",
                        _row(f, run, results.get(f.path, FileResult()), now))
        for f in plan.checked:
            con.execute(f"update {SCHEMA}.files set url = ?, size = coalesce(?, size), mtime_ns = ?, ctime_ns = ?, "
                        f"inode = ?, etag = ?, last_modified = ?, checked_at = ? where path = ?",
                        [f.url, f.size, f.mtime_ns, f.ctime_ns, f.inode, f.etag, f.last_modified, now, f.path])
        if plan.vanished:
            con.execute(f"delete from {SCHEMA}.files where path in (select unnest(?))", [plan.vanished])
        keep = (f"exists (select 1 from {SCHEMA}.files f where f.path = t.{SOURCE_FILE} "
                f"and f.run = t.{INGEST_RUN}{{extra}})")
        if RECORDS in landed:
            con.execute(f"delete from {RAW}.{RECORDS} t where not "
                        + keep.format(extra=" and f.status = 'ok'"))
            _keep_first_seen(con, run)
        if QUARANTINE in landed:
            con.execute(f"delete from {RAW}.{QUARANTINE} t where not " + keep.format(
                extra=f" and (f.status = 'ok' or t.reason = '{UNREADABLE}')"))
        con.execute(f"delete from {SCHEMA}.seen where path not in (select path from {SCHEMA}.files)")
        con.execute(f"insert into {SCHEMA}.runs values (?, ?, ?, ?, ?, ?, '', null)",
                    [run, now, len(plan.listed), len(plan.read), len(plan.checked), len(plan.vanished)])
        con.execute("commit")


def record_empty_listing(db: Path, run: str) -> None:
    with connect(db) as con:
        con.execute(DDL)
        con.execute(f"insert into {SCHEMA}.runs values (?, ?, 0, 0, 0, 0, 'no file listed', null)",
                    [run, datetime.now(timezone.utc)])


def data_version(db: Path) -> str:
    """A digest of every recorded file's content: equal digests mean the landed records are the same."""
    rows = _read(db, "files", f"select path, sha256, status from {SCHEMA}.files order by path")
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest() if rows else ""


def _keep_first_seen(con: duckdb.DuckDBPyConnection, run: str) -> None:
    """Records this run read keep the `_retrieved_at` of the same content in the same file, when it was seen before."""
    content = _content_hash(con)
    con.execute(f"create or replace temp table fresh as select rowid as rid, {SOURCE_FILE} as path, "
                f"{content} as sha256, {RETRIEVED_AT} as seen_at from {RAW}.{RECORDS} where {INGEST_RUN} = ?", [run])
    con.execute(f"update {RAW}.{RECORDS} set {RETRIEVED_AT} = s.first_seen from fresh f join {SCHEMA}.seen s "
                f"on s.path = f.path and s.sha256 = f.sha256 where {RAW}.{RECORDS}.rowid = f.rid "
                f"and s.first_seen < f.seen_at")
    con.execute(f"create or replace temp table first as select f.path, f.sha256, "
                f"min(least(f.seen_at, coalesce(s.first_seen, f.seen_at))) as first_seen "
                f"from fresh f left join {SCHEMA}.seen s on s.path = f.path and s.sha256 = f.sha256 group by 1, 2")
    con.execute(f"delete from {SCHEMA}.seen where path in (select distinct path from fresh)")
    con.execute(f"insert into {SCHEMA}.seen select path, sha256, first_seen from first")
    con.execute("drop table fresh; drop table first")
