"""The `sql` kind: tables of any database SQLAlchemy reaches, or one SELECT, read with dlt's sql_database source and
its pyarrow backend (typed Arrow tables: numbers, decimals, dates, timestamps in UTC, booleans, JSON as text).

Units: one per table (`schema.table`), or one named `query`. A database gives no digest of its content, so every
unit is read on every run; the runner hashes what was read, so unchanged content keeps its data version. A table is
read with dlt's `sql_table`; a query through SQLAlchemy's `text()`, its rows turned into Arrow by dlt's converter.

The URL is `url`, or the value of the environment variable named in `url_env` (it may hold credentials). Whatever
is shown or published (`location`, `_source_url`, errors) is that URL without user, password or query, plus the
unit: `postgresql://host:5432/db#schema.table`. A database that cannot be reached is a `FetchError` (a network
failure, which Dagster retries); anything else wrong is a `SqlError` naming the YAML and the field.

Incremental (`incremental.cursor`): dlt's own incremental state is not used: dlt commits it with the load package,
before `state.reconcile` records the rows, and a crash between the two would skip rows forever. Each unit is an
append unit instead: it asks for the rows whose cursor is past the value recorded with the unit's last read (or
`initial_value`), and `notes["cursor"]` carries the largest value read, which reconcile records with the rows in the
same transaction. A row sent again with the same primary key replaces its older copy (`state._append`).

SQLite: a relative path starts at the YAML's folder; the file must exist (SQLite would create an empty one) and lie
inside the allowed roots, as for the `files` kind.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from dlt.sources.sql_database import sql_table
from dlt.sources.sql_database.arrow_helpers import row_tuples_to_arrow

from ..columns import input_names
from ..spec import SourceSpec, allowed_roots, inside_roots
from .http import FetchError
from .listing import Known, Listed, Plan
from .runner import SourceError

__all__ = ["location", "plan", "read"]

QUERY = "query"


class SqlError(SourceError):
    """A SQL source that cannot be read; the message names the YAML and the field, never a credential."""


class Unreachable(SqlError, FetchError):
    """The database refused or did not answer the connection."""


def _field(spec: SourceSpec, name: str) -> str:
    return f"{spec.origin}: field 'sql.{name}'"


def _given(spec: SourceSpec) -> sa.URL:
    """The URL as configured (credentials included, when url_env holds them)."""
    cfg = spec.config
    name = "url_env" if cfg.url_env else "url"
    text = os.environ.get(cfg.url_env) if cfg.url_env else cfg.url
    if not text:
        raise SqlError(f"{_field(spec, name)}: the environment variable {cfg.url_env} is not set")
    try:
        return sa.make_url(text)
    except (sa.exc.ArgumentError, ValueError):
        raise SqlError(f"{_field(spec, name)}: not a SQLAlchemy URL (dialect://user:password@host:port/database, "
                       f"sqlite:///path.db)") from None


def _sqlite(spec: SourceSpec, url: sa.URL) -> sa.URL:
    """A SQLite URL with its file made absolute from the YAML's folder."""
    if url.get_backend_name() != "sqlite":
        return url
    name = url.database or ""
    if name in ("", ":memory:") or name.startswith("file:"):
        raise SqlError(f"{_field(spec, 'url')}: a SQLite URL names a file: sqlite:///relative/path.db "
                       f"or sqlite:////absolute/path.db")
    return url.set(database=str((spec.root / name).resolve()))


def _public(url: sa.URL) -> str:
    return sa.URL.create(url.get_backend_name(), host=url.host, port=url.port, database=url.database).render_as_string()


def location(spec: SourceSpec) -> str:
    try:
        return _public(_sqlite(spec, _given(spec)))
    except SqlError:  # the variable is not set here (the UI's process): the source is still shown
        return f"the database named by ${spec.config.url_env}"


def _url(spec: SourceSpec) -> sa.URL:
    """The URL to connect to: a SQLite file must exist inside the allowed roots."""
    url = _sqlite(spec, _given(spec))
    if url.get_backend_name() == "sqlite":
        roots = allowed_roots(spec.origin) if spec.origin else ()
        if roots and not inside_roots(url.database, roots):
            raise SqlError(f"{_field(spec, 'url')}: {url.database} is outside the allowed roots "
                           f"({', '.join(map(str, roots))}); add a root to COMMONS_DATA_ROOTS")
        if not os.path.isfile(url.database):
            raise FileNotFoundError(f"{_field(spec, 'url')}: {url.database} does not exist")
    return url


def _engine(spec: SourceSpec, url: sa.URL) -> sa.Engine:
    try:
        return sa.create_engine(url)
    except (ImportError, sa.exc.ArgumentError) as err:
        name = "url_env" if spec.config.url_env else "url"
        raise SqlError(f"{_field(spec, name)}: no driver for {url.drivername!r}: {err}") from None


def _sa_error(err: BaseException | None) -> sa.exc.SQLAlchemyError | None:
    while err is not None and not isinstance(err, sa.exc.SQLAlchemyError):
        err = err.__cause__ or err.__context__
    return err


def _why(err: sa.exc.SQLAlchemyError, url: sa.URL) -> str:
    """The driver's reason, on one line, without the password."""
    cause = getattr(err, "orig", None) or err
    text = " ".join(str(cause).split("\n(Background")[0].split())
    return text.replace(url.password, "***") if url.password else text


def _connect_error(spec: SourceSpec, url: sa.URL, err: Exception) -> Unreachable:
    name = "url_env" if spec.config.url_env else "url"
    return Unreachable(f"{_field(spec, name)}: cannot connect to {_public(url)}: {_why(err, url)}")


def _unit(spec: SourceSpec, name: str) -> str:
    schema = spec.config.db_schema
    return f"{schema}.{name}" if schema and name != QUERY else name


def plan(spec: SourceSpec, known: dict[str, Known], work, check) -> Plan:
    """Every table (or the query) is read; tables that left the YAML take their rows with them. The connection, the
    tables and the cursor column are checked here, so that what is wrong is said before anything is read."""
    cfg = spec.config
    url = _url(spec)
    engine = _engine(spec, url)
    try:
        try:
            with engine.connect() as con:
                inspector = sa.inspect(con)
                for table in cfg.tables:
                    if not inspector.has_table(table, schema=cfg.db_schema):
                        raise SqlError(f"{_field(spec, 'tables')}: no table {_unit(spec, table)!r} in {_public(url)}")
                    columns = {c["name"] for c in inspector.get_columns(table, schema=cfg.db_schema)}
                    if cfg.incremental and cfg.incremental.cursor not in columns:
                        raise SqlError(f"{_field(spec, 'incremental.cursor')}: table {_unit(spec, table)!r} has no "
                                       f"column {cfg.incremental.cursor!r}")
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as err:
            raise _connect_error(spec, url, err) from None
    finally:
        engine.dispose()
    public = _public(url)
    listed = []
    for name in cfg.tables or [QUERY]:
        path = _unit(spec, name)
        before = known.get(path)
        cursor = before.cursor if before is not None and before.status == "ok" else None
        if cursor is None and cfg.incremental and cfg.incremental.initial_value is not None:
            cursor = str(cfg.incremental.initial_value)
        listed.append(Listed(path=path, url=f"{public}#{path}", append=cfg.incremental is not None,
                             cursor=cursor if cfg.incremental else None))
    return Plan(listed, read=list(listed), vanished=sorted(set(known) - {f.path for f in listed}))


def _value(text: str, kind: type | None):
    """A recorded cursor (text) as a value to compare with: of the column's Python type, or, for a query, an
    integer or an ISO date and time when it reads as one."""
    if kind is None:
        kind = int if re.fullmatch(r"-?\d+", text) else datetime if _iso(text) else str
    if kind in (date, datetime):
        return kind.fromisoformat(text)
    return kind(text) if kind in (int, float, Decimal) else text


def _iso(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _text(value) -> str:
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def _python_type(column: sa.Column) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def _table(spec: SourceSpec, engine: sa.Engine, unit: Listed):
    cfg = spec.config
    adapt = None
    if unit.cursor is not None:
        def adapt(query, table):
            column = table.c[cfg.incremental.cursor]
            start = _value(unit.cursor, _python_type(column))
            return query.where(column >= start if spec.primary_key else column > start)
    name = unit.path.removeprefix(f"{cfg.db_schema}.") if cfg.db_schema else unit.path
    return sql_table(engine, name, schema=cfg.db_schema, backend="pyarrow", chunk_size=cfg.chunk_size,
                     query_adapter_callback=adapt)


def _query(spec: SourceSpec, engine: sa.Engine, unit: Listed) -> Iterator:
    cfg = spec.config
    query = cfg.query.strip().rstrip(";")
    if unit.cursor is None:
        statement = sa.text(query)
    else:
        cursor = engine.dialect.identifier_preparer.quote(cfg.incremental.cursor)
        above = ">=" if spec.primary_key else ">"
        statement = sa.text(f"select * from ({query}) as q where q.{cursor} {above} :start").bindparams(
            start=_value(unit.cursor, None))
    with engine.connect() as con:
        result = con.execution_options(yield_per=cfg.chunk_size).execute(statement)
        columns = {c: {"name": c} for c in result.keys()}
        for rows in result.partitions():
            yield row_tuples_to_arrow([tuple(r) for r in rows], columns, tz="UTC")


def read(spec: SourceSpec, unit: Listed, notes: dict) -> Iterator:
    cfg = spec.config
    url = _url(spec)
    engine = _engine(spec, url)
    renamed = notes.setdefault("renamed", {})
    cursor = cfg.incremental.cursor if cfg.incremental else None
    top = None
    try:
        parts = _query(spec, engine, unit) if cfg.query else _table(spec, engine, unit)
        for table in parts:
            if cursor and cursor not in table.column_names:
                raise SqlError(f"{_field(spec, 'incremental.cursor')}: the query gives no column {cursor!r}")
            if cursor and table.num_rows:
                most = pc.max(table[cursor]).as_py()
                if most is not None and (top is None or most > top):
                    top = most
            names, forced = input_names(table.column_names)
            renamed.update(forced)
            # nullable: the units share one table, where a column of another unit's table is null
            yield pa.Table.from_arrays(table.columns, schema=pa.schema(
                [f.with_name(n).with_nullable(True) for f, n in zip(table.schema, names)]))
    except SqlError:
        raise
    except Exception as err:  # dlt wraps what the database said: name the YAML, the field and the unit
        found = _sa_error(err)
        name = QUERY if spec.config.query else "tables"
        reason = _why(found, url) if found else f"{type(err).__name__}: {err}"
        raise SqlError(f"{_field(spec, name)}: cannot read {unit.url}: {reason}") from (None if found else err)
    finally:
        engine.dispose()
    if top is not None:
        notes["cursor"] = _text(top)


