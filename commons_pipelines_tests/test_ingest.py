import http.server
import io
import os
import shutil
import threading
from functools import partial

import duckdb
import pytest
import pyarrow as pa
import pyarrow.parquet  # noqa: F401  (pa.parquet)

from commons_pipelines.ingest.runner import Ingest
from commons_pipelines.ingest.readers import Quarantined, open_stream, read_file
from commons_pipelines.ingest.warehouse import ingest_count, pipeline, quarantine_counts, read_records
from commons_pipelines.settings import DUCKDB_MEMORY
from commons_pipelines.spec import FilesConfig

from .conftest import BDPM, BDPM_COLUMNS, OTL


def land(spec, settings, check=lambda url: None):
    db = settings.warehouse_dir / f"{spec.id}.duckdb"
    Ingest(spec, db, settings.dlt_dir / "downloads" / spec.id, check).run(
        pipeline(spec, settings.warehouse_dir, settings.dlt_dir))
    return db


def rows(db):
    return [r for b in read_records(db) for r in b.to_pylist()]


def parts(data: bytes, name: str, notes: dict | None = None, **cfg):
    items = list(read_file(open_stream(io.BytesIO(data), name, "auto"), name, FilesConfig(path=".", **cfg), notes))
    good = [r for i in items if not isinstance(i, Quarantined) for r in (i if isinstance(i, list) else i.to_pylist())]
    return good, [i for i in items if isinstance(i, Quarantined)]


def test_csv_reader_pads_short_rows_and_quarantines_the_rest_with_position():
    data = b'id,text\n1,one\n2,two,extra\n3\n"4\xff",four\n5,"unclosed\n'
    good, bad = parts(data, "x.csv", format="csv")
    assert good == [{"id": "1", "text": "one"}, {"id": "3", "text": None}]
    assert [(q.position, q.reason) for q in bad] == [
        ("line 3", "malformed_csv_row"), ("line 5", "invalid_encoding"), ("line 6", "malformed_csv_row")]
    assert "expected 2 fields, found 3" in bad[0].detail and bad[0].raw == "2,two,extra"
    assert bad[1].raw == "4\\xff,four" and bad[2].raw == '5,"unclosed'  # undecodable bytes written as \xff


def test_jsonl_reader_quarantines_bad_lines():
    good, bad = parts(b'{"a": 1}\n\n{"a": \n[1, 2]\n{"a": "\xff"}\n{"a": 2}\n', "x.jsonl", format="jsonl")
    assert good == [{"a": 1}, {"a": 2}]
    assert [(q.position, q.reason) for q in bad] == [
        ("line 3", "malformed_json"), ("line 4", "not_an_object"), ("line 5", "invalid_encoding")]


def test_readers_give_warehouse_names_and_note_the_reserved_prefix():
    notes = {}
    good, _ = parts("OTL ID,Dénomination,_id\n1,a,x\n".encode(), "n.csv", notes, format="csv")
    assert good == [{"otl_id": "1", "denomination": "a", "id": "x"}] and notes == {"renamed": {"_id": "id"}}
    notes = {}
    good, _ = parts('{"Méta": {"_k": 1}, "_lang": "fr"}\n'.encode(), "n.jsonl", notes, format="jsonl")
    assert good == [{"meta": {"_k": 1}, "lang": "fr"}] and notes == {"renamed": {"_lang": "lang"}}  # nested keys stay


def compress(data: bytes, codec: str) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, codec) as out:
        out.write(data)
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize("suffix, codec", [(".gz", "gzip"), (".zst", "zstd")])
def test_compressed_files_are_read(suffix, codec):
    good, bad = parts(compress(b"a\tb\nx\ty\n", codec), "t.tsv" + suffix, format="tsv")
    assert good == [{"a": "x", "b": "y"}] and not bad


def test_latin1_csv_is_decoded_by_declared_encoding():
    good, bad = parts("nom;ville\nJosé;Besançon\n".encode("latin-1"), "l.csv", format="csv",
                      csv={"delimiter": ";", "encoding": "latin-1"})
    assert good == [{"nom": "José", "ville": "Besançon"}] and not bad


def test_open_textbook_library_lands_in_duckdb(write_spec, settings):
    spec = write_spec("otl", files={"path": str(OTL), "format": "csv"})
    db = land(spec, settings)
    landed = rows(db)
    assert len(landed) == 1112 and not quarantine_counts(db)
    first = landed[0]
    assert first["title"] == "Financial Accounting" and first["otl_id"].strip() == "4"
    assert first["_source_file"] == "OTL.csv" and first["_retrieved_at"] is not None
    # 30 columns + _source_file, _source_url, _retrieved_at; short rows padded
    assert all(len(r) == 33 for r in landed)
    assert first["_source_url"] == OTL.resolve().as_uri()


def test_french_medicines_tsv_without_header(write_spec, settings):
    spec = write_spec("bdpm", languages=["fr"], domain="health", licence="etalab-2.0",
                      files={"path": str(BDPM), "format": "tsv",
                             "csv": {"header": False, "columns": BDPM_COLUMNS, "quote_char": None}})
    db = land(spec, settings)
    count = ingest_count(db)
    assert (count.rows_in, count.rows_out, sum(count.removed.values())) == (15756, 15756, 0)
    first = next(read_records(db)).to_pylist()[0]
    assert first["cis"] == "61266250" and first["routes"] == "cutanée" and first["amm_date"] == "12/03/1998"


def test_malformed_records_are_quarantined_and_counted(write_spec, settings, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.csv").write_text("id,text\n1,ok\n2,too,many\n3,fine\n", encoding="utf-8")
    spec = write_spec("quarantine_demo", files={"path": str(src), "format": "csv"})
    db = land(spec, settings)
    count = ingest_count(db)
    assert (count.rows_in, count.rows_out, dict(count.removed)) == (3, 2, {"malformed_csv_row": 1})
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("select _source_file, position, reason, raw from raw.quarantine").fetchone()
    assert row == ("a.csv", "line 3", "malformed_csv_row", "2,too,many")


def test_a_changed_file_replaces_its_own_rows_and_the_others_stay(write_spec, settings, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.csv").write_text("id\n1\n2\n")
    (src / "b.csv").write_text("id\n3\n")
    spec = write_spec("incremental", files={"path": str(src), "glob": "*.csv", "format": "csv"})
    db = land(spec, settings)
    first = {r["id"]: r["_retrieved_at"] for r in rows(db)}
    land(spec, settings)
    assert {r["id"]: r["_retrieved_at"] for r in rows(db)} == first  # nothing re-read
    (src / "b.csv").write_text("id\n3\n4,extra\n5\n")
    stat = (src / "a.csv").stat()
    os.utime(src / "b.csv", (stat.st_atime + 10, stat.st_mtime + 10))
    land(spec, settings)
    after = {r["id"]: r["_retrieved_at"] for r in rows(db)}
    assert sorted(after) == ["1", "2", "3", "5"]  # b.csv replaced its own rows, a.csv untouched
    assert after["1"] == first["1"] and after["3"] == first["3"]  # b.csv read again, "3" unchanged: first seen then
    assert after["5"] > first["3"]
    assert quarantine_counts(db) == {"malformed_csv_row": 1}


def test_http_source(write_spec, settings, tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    shutil.copy(OTL, root / "OTL.csv")  # served from a temporary folder for this test only
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/OTL.csv"
        spec = write_spec("otl_http", files={"path": url, "format": "csv"})
        db = land(spec, settings)
        assert len(rows(db)) == 1112
    finally:
        server.shutdown()


def test_jsonl_nested_values_and_parquet_types_land(write_spec, settings, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jsonl").write_text('{"id": 1, "Méta": {"tags": ["a", "b"]}}\n{"id": 2, "Méta": {"tags": []}}\n')
    pa.parquet.write_table(pa.table({"id": [1, 2], "score": [0.5, None]}), src / "b.parquet")
    jsonl = land(write_spec("nested", files={"path": str(src), "glob": "*.jsonl", "format": "jsonl"}), settings)
    assert [(r["id"], r["meta"]) for r in rows(jsonl)] == [(1, '{"tags":["a","b"]}'), (2, '{"tags":[]}')]
    parquet = land(write_spec("typed", files={"path": str(src), "glob": "*.parquet", "format": "parquet"}), settings)
    batch = next(read_records(parquet))
    assert batch.schema.field("score").type == pa.float64() and batch.to_pylist()[1]["score"] is None


def _open_elsewhere(db, read_only: bool) -> str:
    """Open the warehouse from another process, as a concurrent run would: 'ok' or DuckDB's error."""
    import subprocess
    import sys

    code = (f"import duckdb\ntry:\n    duckdb.connect({str(db)!r}, read_only={read_only}).close(); print('ok')\n"
            "except duckdb.Error as e:\n    print(type(e).__name__)")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_the_warehouse_is_held_only_while_used_and_written_through_when_let_go(tmp_path):
    """One DuckDB per warehouse in a process: the file is attached for each use, then detached with its write-ahead
    log folded in, so another process can open it the moment no use is left."""
    from commons_pipelines.ingest.state import connect

    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        con.execute("create table t as select 1 a")
        assert _open_elsewhere(db, read_only=True) == "IOException"  # locked while written
        with connect(db) as inner:  # a second use of the same file shares it
            assert inner.execute("select count(*) from t").fetchone() == (1,)
        assert _open_elsewhere(db, read_only=True) == "IOException"  # the outer use still holds it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]  # no .wal left
    assert _open_elsewhere(db, read_only=False) == "ok"
    with connect(db, read_only=True) as con:
        with pytest.raises(duckdb.ConnectionException, match="open read-only in this process"):
            with connect(db):
                pass
        assert con.execute("select a from t").fetchall() == [(1,)]
    with connect(db) as con:  # writable again once the reader is gone
        con.execute("insert into t values (2)")
    assert _open_elsewhere(db, read_only=False) == "ok"


def test_a_warehouse_connection_reaches_no_other_file(tmp_path):
    from commons_pipelines.ingest.state import connect

    other = tmp_path / "other.csv"
    other.write_text("a\n1\n")
    with connect(tmp_path / "w.duckdb") as con:
        for sql in (f"select * from read_csv('{other}')", f"attach '{tmp_path / 'x.duckdb'}' as x",
                    f"copy (select 1) to '{tmp_path / 'out.csv'}'"):
            with pytest.raises(duckdb.PermissionException):
                con.execute(sql)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.csv", "w.duckdb"]


def test_reading_the_records_gives_the_warehouse_its_settings_back(tmp_path):
    """read_records streams with one thread and a small memory cap; after it, read to the end or left early, the
    process's DuckDB for the file has its own settings again."""
    from commons_pipelines.ingest.state import connect

    db, settings = tmp_path / "w.duckdb", "select current_setting('threads'), current_setting('memory_limit')"
    with connect(db) as con:
        con.execute("create schema raw; create table raw.records as select 'f' || (range % 2) as _source_file, "
                    "range as x from range(10)")
        before = con.execute(settings).fetchone()
    assert sum(b.num_rows for b in read_records(db, batch_rows=2)) == 10
    left = read_records(db, batch_rows=2)
    next(left)
    left.close()
    with connect(db) as con:
        assert con.execute(settings).fetchone() == before


def test_a_forked_child_opens_the_warehouse_with_a_duckdb_of_its_own(tmp_path):
    """DuckDB's threads do not follow a fork: a child does not use the DuckDB its parent keeps for the file (whose
    settings would be the parent's)."""
    import multiprocessing as mp

    from commons_pipelines.ingest.state import connect

    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        con.execute("set memory_limit = '7MB'")

    def child(queue):
        with connect(db) as con:
            queue.put(con.execute("select current_setting('memory_limit')").fetchone()[0])

    context = mp.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=child, args=(queue,))
    process.start()
    process.join(60)
    with connect(db) as con:
        parents = con.execute("select current_setting('memory_limit')").fetchone()[0]
    with duckdb.connect(config={"memory_limit": DUCKDB_MEMORY}) as con:
        fresh = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert process.exitcode == 0 and (parents, queue.get(timeout=5)) == ("6.6 MiB", fresh)


def test_a_forked_child_queries_with_a_scratch_duckdb_of_its_own(tmp_path):
    """The thread's scratch DuckDB (columns.scratch) made before a fork: the child's queries run on its own, not on
    one whose worker threads stayed in the parent (such a query waits for them forever)."""
    import multiprocessing as mp

    import pyarrow.parquet as pq

    from commons_pipelines.columns import row_sha256, scratch

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": list(range(200_000))}), path, row_group_size=10_000)
    query = "select count(*), sum(x) from read_parquet(?)"
    left = scratch().cursor()  # a use that leaves its result unfinished blocks no other use of the thread's DuckDB
    assert left.execute(query, [str(path)]).fetchone() == (200_000, 19_999_900_000)
    assert len(row_sha256(pa.record_batch({"x": [1, 2]}))) == 2
    left.close()

    def child(queue):
        with scratch().cursor() as con:
            queue.put(con.execute(query, [str(path)]).fetchone())

    context = mp.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=child, args=(queue,))
    process.start()
    process.join(30)
    if process.exitcode is None:
        process.kill()
    assert process.exitcode == 0 and queue.get(timeout=5) == (200_000, 19_999_900_000)
