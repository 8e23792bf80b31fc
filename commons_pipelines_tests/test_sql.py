"""The `sql` kind against a real PostgreSQL server (real public data: the French medicines database) and SQLite
files written by the tests: types, table and query units, incremental reads, credentials kept out of everything
written, connection failures, SQLite paths."""

import json
import sqlite3
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import duckdb
import pyarrow.parquet as pq
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from commons_pipelines.ingest.runner import Ingest
from commons_pipelines.ingest.sql import SqlError, Unreachable, location
from commons_pipelines.ingest.state import known_files, renamed_columns
from commons_pipelines.ingest.warehouse import pipeline, read_records
from commons_pipelines.settings import Settings

from .conftest import BDPM, BDPM_COLUMNS, readable
from .postgres import SCHEMA, postgres  # noqa: F401 (the session fixture)
from .test_pipeline import run_nightly, versions

ENV = "COMMONS_TEST_SQL_URL"


def bdpm() -> list[dict]:
    """The medicines as the file says (tab-separated, no header)."""
    lines = BDPM.read_text(encoding="utf-8").splitlines()
    return [dict(zip(BDPM_COLUMNS, line.split("\t"))) for line in lines]


def ingest(spec, settings) -> Ingest:
    db = settings.warehouse_dir / f"{spec.id}.duckdb"
    job = Ingest(spec, db, settings.dlt_dir / "downloads" / spec.id, lambda url: None)
    job.run(pipeline(spec, settings.warehouse_dir, settings.dlt_dir))
    return job


def landed(job: Ingest) -> list[dict]:
    return [r for b in read_records(job.db) for r in b.to_pylist()]


def sql_spec(write_spec, sql: dict, **fields):
    """A source of the medicines database (the database's own licence), through the URL in ENV."""
    return write_spec("pg_source", kind="sql", sql={"url_env": ENV, **sql}, licence="etalab-2.0", languages=["fr"],
                      domain="health", **fields)


@pytest.fixture
def pg(postgres, monkeypatch):  # noqa: F811
    monkeypatch.setenv(ENV, postgres.url())
    return postgres


def test_postgres_tables_land_with_their_types_and_a_public_source_url(pg, write_spec, settings):
    spec = sql_spec(write_spec, {"schema": SCHEMA, "tables": ["awkward", "medicines"]})
    job = ingest(spec, settings)
    rows = landed(job)
    public = f"postgresql://127.0.0.1:{pg.port}/commons"
    medicines = {r["cis"]: r for r in rows if r["_source_file"] == f"{SCHEMA}.medicines"}
    source = bdpm()
    assert len(medicines) == len(source) == job.results[f"{SCHEMA}.medicines"].rows
    for record in source[::997]:
        got = medicines[int(record["cis"])]
        assert got["denomination"] == record["denomination"] and got["holders"] == record["holders"]
        assert got["amm_date"] == datetime.strptime(record["amm_date"], "%d/%m/%Y").date()
        assert got["reinforced_monitoring"] is (record["reinforced_monitoring"] == "Oui")
        assert got["_source_url"] == f"{public}#{SCHEMA}.medicines"

    awkward = {r["id"]: r for r in rows if r["_source_file"] == f"{SCHEMA}.awkward"}
    one, two, nulls = awkward[1], awkward[2], awkward[3]
    assert one["label"] == "Crème brûlée — 東京" and two["label"] == ""
    assert one["price"] == Decimal("12345678.1234") and two["price"] == Decimal("-0.0001")
    assert one["big"] == 9007199254740993 and two["big"] == -2 ** 63 and two["ratio"] == -1e300
    assert one["active"] is True and two["active"] is False and str(one["born"]) == "1999-12-31"
    assert one["updated_at"] == datetime(2024, 1, 2, 1, 4, 5, 123456, tzinfo=timezone.utc)
    assert json.loads(one["doc"]) == {"a": [1, 2], "b": {"c": None}} and json.loads(two["doc"]) == []
    assert one["blob"] == b"\x00\xff" and two["blob"] == b""
    assert all(v is None for k, v in nulls.items() if not k.startswith("_") and k not in ("id", "updated_at"))
    assert one["rank"] == 7 and renamed_columns(job.db) == {"_rank": "rank"}  # '_' is the system columns' prefix
    with duckdb.connect(str(job.db), read_only=True) as con:
        types = dict(con.execute("select column_name, data_type from information_schema.columns "
                                 "where table_schema = 'raw' and table_name = 'records'").fetchall())
    assert types["price"] == "DECIMAL(14,4)" and types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert (types["big"], types["active"], types["born"], types["blob"]) == ("BIGINT", "BOOLEAN", "DATE", "BLOB")
    assert pg.password not in readable(job.db) and "reader" not in json.dumps([r["_source_url"] for r in rows])


def test_a_query_is_one_unit(pg, write_spec, settings):
    spec = sql_spec(write_spec, {"query": "select cis, denomination, amm_date from opendata.medicines "
                                          "where reinforced_monitoring order by cis;"})
    job = ingest(spec, settings)
    rows = landed(job)
    expected = sorted(int(r["cis"]) for r in bdpm() if r["reinforced_monitoring"] == "Oui")
    assert [r["cis"] for r in rows] == expected and set(known_files(job.db)) == {"query"}
    assert {r["_source_url"] for r in rows} == {f"postgresql://127.0.0.1:{pg.port}/commons#query"}
    assert type(rows[0]["amm_date"]).__name__ == "date" and set(rows[0]) >= {"cis", "denomination", "amm_date"}


def test_incremental_reads_only_new_rows_and_an_updated_row_replaces_its_older_copy(pg, write_spec, settings):
    table = f"events_{uuid.uuid4().hex[:8]}"
    pg.execute(f"create table {SCHEMA}.{table} (id integer primary key, body text, updated_at timestamptz not null);"
               f"insert into {SCHEMA}.{table} values (1, 'before the start', '2019-06-01 00:00+00'),"
               f"(2, 'two', '2024-01-01 10:00+00'), (3, 'three', '2024-01-02 10:00+00');")
    spec = sql_spec(write_spec, {"schema": SCHEMA, "tables": [table], "incremental": {
        "cursor": "updated_at", "initial_value": "2020-01-01T00:00:00+00:00"}}, primary_key=["id"])
    unit = f"{SCHEMA}.{table}"
    job = ingest(spec, settings)
    assert {r["id"]: r["body"] for r in landed(job)} == {2: "two", 3: "three"}
    assert known_files(job.db)[unit].cursor == "2024-01-02T10:00:00+00:00"

    pg.execute(f"update {SCHEMA}.{table} set body = 'two, edited', updated_at = '2024-02-01 00:00+00' where id = 2;"
               f"insert into {SCHEMA}.{table} values (4, 'four', '2024-01-15 00:00+00');")
    job = ingest(spec, settings)
    assert job.results[unit].rows == 3  # the rows past the cursor, and those at it (a primary key absorbs them)
    rows = landed(job)
    assert sorted((r["id"], r["body"]) for r in rows) == [(2, "two, edited"), (3, "three"), (4, "four")]
    assert known_files(job.db)[unit].cursor == "2024-02-01T00:00:00+00:00"

    job = ingest(spec, settings)  # nothing new: every row stays
    assert job.results[unit].rows == 1 and len(landed(job)) == 3  # the row at the cursor, replaced by its key
    assert known_files(job.db)[unit].cursor == "2024-02-01T00:00:00+00:00"


def test_a_wrong_password_fails_clearly_without_the_password_and_the_rows_stay(pg, write_spec, settings,
                                                                              monkeypatch):
    spec = sql_spec(write_spec, {"schema": SCHEMA, "tables": ["awkward"]})
    job = ingest(spec, settings)
    wrong = "wrong-" + uuid.uuid4().hex
    monkeypatch.setenv(ENV, pg.url(password=wrong))
    with pytest.raises(Unreachable) as err:
        ingest(spec, settings)
    message = str(err.value)
    assert f"{spec.origin}: field 'sql.url_env': cannot connect to postgresql://127.0.0.1:{pg.port}/commons" in message
    assert "password authentication failed" in message
    assert wrong not in message and pg.password not in message and err.value.__cause__ is None
    assert sorted(r["id"] for r in landed(job)) == [1, 2, 3]

    monkeypatch.delenv(ENV)
    with pytest.raises(SqlError, match=f"field 'sql.url_env': the environment variable {ENV} is not set"):
        ingest(spec, settings)
    assert location(spec) == f"the database named by ${ENV}"  # the UI still shows the source


def test_what_is_wrong_is_named_with_its_field(pg, write_spec, settings, monkeypatch):
    spec = sql_spec(write_spec, {"schema": SCHEMA, "tables": ["awkward", "nowhere"]})
    with pytest.raises(SqlError, match=f"field 'sql.tables': no table '{SCHEMA}.nowhere' in postgresql://127"):
        ingest(spec, settings)
    spec = sql_spec(write_spec, {"schema": SCHEMA, "tables": ["awkward"], "incremental": {"cursor": "changed"}})
    with pytest.raises(SqlError, match="field 'sql.incremental.cursor': table 'opendata.awkward' has no column"):
        ingest(spec, settings)
    # what reading finds, dlt reports as the extract step's failure, with our message
    spec = sql_spec(write_spec, {"query": "select id from opendata.awkward", "incremental": {"cursor": "changed"}})
    with pytest.raises(PipelineStepFailed, match="field 'sql.incremental.cursor': the query gives no column 'changed'"):
        ingest(spec, settings)
    spec = sql_spec(write_spec, {"query": "select id frm opendata.awkward"})
    with pytest.raises(PipelineStepFailed, match=f"field 'sql.query': cannot read postgresql://127.0.0.1:{pg.port}/commons#query: "
                                       f".*syntax error"):
        ingest(spec, settings)
    monkeypatch.setenv(ENV, pg.url().replace("postgresql:", "postgresql+psycopg2:"))
    with pytest.raises(SqlError, match="field 'sql.url_env': no driver for 'postgresql\\+psycopg2'"):
        ingest(spec, settings)


def test_a_postgres_source_is_published_and_its_credentials_are_written_nowhere(pg, write_spec, settings, tmp_path,
                                                                               monkeypatch):
    spec = sql_spec(write_spec, {"query": "select cis, denomination, form, routes, holders, amm_date "
                                          "from opendata.medicines where amm_date >= '2023-01-01'"},
                    primary_key=["cis"], pii={"ner": "off"}, text_columns=["denomination"])
    result = run_nightly({spec.id: spec}, settings)
    assert result.success and versions(settings, spec.id) == ["v1"]
    data = pq.read_table(settings.publish_dir / spec.id / "current" / "data").to_pylist()
    expected = {int(r["cis"]) for r in bdpm() if datetime.strptime(r["amm_date"], "%d/%m/%Y").year >= 2023}
    assert {r["cis"] for r in data} == expected
    assert {r["_source_url"] for r in data} == {f"postgresql://127.0.0.1:{pg.port}/commons#query"}
    card = (settings.publish_dir / spec.id / "current" / "README.md").read_text()
    assert f"postgresql://127.0.0.1:{pg.port}/commons" in card

    wrong = "wrong-" + uuid.uuid4().hex
    monkeypatch.setenv(ENV, pg.url(password=wrong))
    failing = Settings.from_env({"COMMONS_HOME": str(settings.home), "COMMONS_ALLOW_LOCAL_URLS": "1",
                                 "COMMONS_RETRIES": "0"})
    failed = run_nightly({spec.id: spec}, failing)
    assert not failed.success and versions(settings, spec.id) == ["v1"]
    said = "\n".join(str(e) for e in failed.all_events)
    assert "cannot connect to postgresql://127.0.0.1" in said

    secrets = [pg.password, wrong]
    found = [f"events: {s}" for s in secrets if s in said + "\n".join(str(e) for e in result.all_events)]
    for path in (p for p in tmp_path.rglob("*") if p.is_file()):
        text = readable(path) + path.read_bytes().decode("latin-1")
        found += [f"{path.relative_to(tmp_path)}: {s}" for s in secrets if s in text]
    assert found == []


# SQLite

def books_db(path, rows=((1, "Une histoire", 12.5, "2024-01-01"), (2, "Zweite Ausgabe", None, None))):
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as con:
        con.execute("create table if not exists books (id integer primary key, title text, price real, issued text)")
        con.executemany("insert into books values (?, ?, ?, ?)", rows)
    con.close()
    return path


def test_sqlite_file_relative_to_the_yaml(write_spec, settings, tmp_path):
    db = books_db(tmp_path / "dbs" / "books.db")
    spec = write_spec("books", kind="sql", sql={"url": "sqlite:///../dbs/books.db", "tables": ["books"]})
    assert not spec.needs_network
    rows = landed(ingest(spec, settings))
    assert [(r["id"], r["title"], r["price"], r["issued"]) for r in rows] == [
        (1, "Une histoire", 12.5, "2024-01-01"), (2, "Zweite Ausgabe", None, None)]
    assert {r["_source_url"] for r in rows} == {f"sqlite:///{db.resolve()}#books"}


def test_sqlite_query_incremental_on_an_integer_cursor(write_spec, settings, tmp_path):
    db = books_db(tmp_path / "books.db")
    spec = write_spec("books", kind="sql", sql={"url": "sqlite:///../books.db", "query": "select * from books",
                                                "incremental": {"cursor": "id"}})
    job = ingest(spec, settings)
    assert [r["id"] for r in landed(job)] == [1, 2] and known_files(job.db)["query"].cursor == "2"
    books_db(db, rows=[(3, "Tercera", 3.0, "2024-03-03")])
    job = ingest(spec, settings)
    assert job.results["query"].rows == 1 and [r["id"] for r in landed(job)] == [1, 2, 3]


def test_sqlite_outside_the_allowed_roots_or_missing_is_refused(write_spec, settings, tmp_path):
    outside = books_db(tmp_path.parent / f"outside-{uuid.uuid4().hex[:6]}.db")
    try:
        spec = write_spec("books", kind="sql", sql={"url": f"sqlite:///{outside}", "tables": ["books"]})
        with pytest.raises(SqlError, match=r"field 'sql.url': .*outside-.*\.db is outside the allowed roots"):
            ingest(spec, settings)
        spec = write_spec("books", kind="sql", sql={"url": "sqlite:///../../" + outside.name, "tables": ["books"]})
        with pytest.raises(SqlError, match="outside the allowed roots"):
            ingest(spec, settings)
    finally:
        outside.unlink()
    spec = write_spec("books", kind="sql", sql={"url": "sqlite:///missing.db", "tables": ["books"]})
    with pytest.raises(FileNotFoundError, match=r"field 'sql.url': .*missing.db does not exist"):
        ingest(spec, settings)
    assert not (write_spec.catalog / "missing.db").exists()
