"""System columns: the one definition of the columns the pipeline adds, used by ingest, curate, validate and publish.

A name that starts with "_" belongs to the pipeline. An input column whose warehouse name would start with "_"
(`_id`, `_lang`, or `1st` which the snake_case convention writes `_1st`) is renamed on the way in (`input_names`), so
that it can never be taken for, or overwrite, a system column, and it stays in the row hash like every data column.
"""

from __future__ import annotations

import os
import threading

import duckdb
import pyarrow as pa

from .naming import column_name

# written by ingest, per landed record
SOURCE_FILE = "_source_file"  # the file's path inside the source's listing: the unit that is re-read or removed
SOURCE_URL = "_source_url"  # where the record came from, fit for publishing (no credentials)
RETRIEVED_AT = "_retrieved_at"  # the first time the record's current content was seen
INGEST_RUN = "_ingest_run"  # the ingest run that landed the record; only that run's rows of a file are kept

# written by curation
SOURCE = "_source"
LICENCE = "_licence"
ROW_SHA256 = "_row_sha256"  # sha256 over the data columns: a record's identity when the source has no primary key
LANG, LANG_SCORE, LANG2, LANG2_SHARE = "_lang", "_lang_score", "_lang2", "_lang2_share"
REASON = "_reason"  # in quarantine files: why a step removed the row
# written by the row steps for dedup (curate/dedup.DedupKeys), read by the source-wide stage, never published
DEDUP_KEY, MINHASH = "_dedup_key", "_minhash"
DEDUP_KEYS = [DEDUP_KEY, MINHASH]

PROVENANCE = [SOURCE, LICENCE, SOURCE_URL, RETRIEVED_AT, ROW_SHA256]
INGEST_ONLY = [SOURCE_FILE, INGEST_RUN]  # dropped by curation: bookkeeping of the warehouse, not of the data

SOURCE_FILE_FIELD = pa.field(SOURCE_FILE, pa.string(), nullable=False)
SOURCE_URL_FIELD = pa.field(SOURCE_URL, pa.string())
RETRIEVED_AT_FIELD = pa.field(RETRIEVED_AT, pa.timestamp("us", tz="UTC"))
INGEST_RUN_FIELD = pa.field(INGEST_RUN, pa.string())


def is_system(name: str) -> bool:
    return name.startswith("_")


def data_columns(schema: pa.Schema) -> list[str]:
    """The columns that came from the source, in order: every name not starting with '_'."""
    return [n for n in schema.names if not is_system(n)]


def input_names(names: list[str]) -> tuple[list[str], dict[str, str]]:
    """Warehouse names for a source's column names, and the renames forced by the reserved '_' prefix.

    Names follow the project's convention (`naming.column_name`); one that would start with '_' loses its leading
    underscores ('_id' -> 'id'; '1st' -> 'col_1st', since a name must not start with a digit either); a name taken
    twice gets a suffix ('id_2'). An empty or unusable name becomes 'column_<position>'."""
    bases: list[tuple[str, bool]] = []
    for i, name in enumerate(names):
        try:
            base = column_name(name)
        except ValueError:  # nothing left of the name (only spaces or symbols)
            base = f"column_{i + 1}"
        if is_system(base):
            base = base.lstrip("_")
            bases.append((f"col_{base}" if not base or base[0].isdigit() else base, True))
        else:
            bases.append((base, False))
    taken = {b for b, reserved in bases if not reserved}  # a source's own names keep priority over renamed ones
    out: list[str] = []
    renamed: dict[str, str] = {}
    for name, (base, reserved) in zip(names, bases):
        new, n = base, 2
        while new in out or (reserved and new in taken):
            new, n = f"{base}_{n}", n + 1
        out.append(new)
        if reserved:
            renamed[name] = new
    return out, renamed


def row_sha256(batch: pa.RecordBatch) -> pa.Array:
    """SHA-256 over the data columns, hashed by DuckDB over the Arrow batch (vectorised, no Python per row).
    Each value is cast to text, NULL is kept apart from '' and the fields are joined with a unit separator."""
    cols = data_columns(batch.schema)
    fields = ", ".join(f"coalesce('v' || cast(\"{c}\" as varchar), 'n')" for c in cols) or "''"
    return over(batch, f"select sha256(concat_ws(chr(31), {fields})) as h from t").column("h").combine_chunks()


_scratch = threading.local()
_orphans: list[duckdb.DuckDBPyConnection] = []


def _forget_after_fork() -> None:
    """A forked child neither uses nor frees its parent's DuckDB: its threads did not follow, and a query that
    waits for them waits forever."""
    global _scratch
    if (con := getattr(_scratch, "con", None)) is not None:
        _orphans.append(con)
    _scratch = threading.local()


os.register_at_fork(after_in_child=_forget_after_fork)


def scratch() -> duckdb.DuckDBPyConnection:
    """This thread's in-memory DuckDB (opening one costs ~36 ms of CPU, as long as hashing a batch: one per thread
    serves every batch and query). Use it through a cursor of its own, which no other use's unfinished result
    blocks: `with scratch().cursor() as con`."""
    con = getattr(_scratch, "con", None)
    if con is None:
        con = _scratch.con = duckdb.connect()
    return con


def sql_string(text: str) -> str:
    """`text` as a DuckDB string literal, for the statements that take no parameters (ATTACH, SET, CREATE VIEW)."""
    return "'" + text.replace("'", "''") + "'"


def over(data: pa.RecordBatch | pa.Table, sql: str) -> pa.Table:
    """`sql` over `data`, registered as `t`, in this thread's in-memory DuckDB."""
    with scratch().cursor() as con:
        con.register("t", data)
        return con.sql(sql).to_arrow_table()
