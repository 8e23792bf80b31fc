"""Records follow their source: what a refresh reads, keeps and removes, file by file (ingest, without Dagster)."""

import http.server
import os
import shutil
import threading
from functools import partial

import duckdb
import pytest

from commons_pipelines.ingest.runner import Ingest, NoFiles
from commons_pipelines.ingest.state import known_files, last_run
from commons_pipelines.ingest.warehouse import ingest_count, pipeline, quarantine_counts, read_records

from .conftest import OTL


def land(spec, settings, check=lambda url: None):
    db = settings.warehouse_dir / f"{spec.id}.duckdb"
    plan = Ingest(spec, db, settings.dlt_dir / "downloads" / spec.id, check).run(
        pipeline(spec, settings.warehouse_dir, settings.dlt_dir))
    return db, plan


def rows(db) -> dict[str, dict]:
    return {r["id"]: r for b in read_records(db) for r in b.to_pylist()}


@pytest.fixture
def folder(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.csv").write_text("id,text\n1,one\n2,two\n")
    (src / "b.csv").write_text("id,text\n3,three\n4,four,extra\n")
    return src


@pytest.fixture
def spec(write_spec, folder):
    return write_spec("refresh", files={"path": str(folder), "glob": "*.csv", "format": "csv"})


def test_a_deleted_file_takes_its_rows_and_quarantine_entries_with_it(spec, settings, folder):
    db, _ = land(spec, settings)
    assert sorted(rows(db)) == ["1", "2", "3"] and quarantine_counts(db) == {"malformed_csv_row": 1}
    (folder / "b.csv").unlink()
    db, plan = land(spec, settings)
    assert plan.vanished == ["b.csv"] and sorted(rows(db)) == ["1", "2"] and not quarantine_counts(db)
    assert sorted(known_files(db)) == ["a.csv"]


def test_a_file_rewritten_with_only_malformed_rows_keeps_none_of_its_old_rows(spec, settings, folder):
    land(spec, settings)
    (folder / "a.csv").write_text("id,text\n1,one,x\n2,two,y\n")
    db, _ = land(spec, settings)
    assert sorted(rows(db)) == ["3"] and quarantine_counts(db) == {"malformed_csv_row": 3}


def test_a_file_copied_with_an_old_modification_time_is_read(spec, settings, folder, tmp_path):
    land(spec, settings)
    old = tmp_path / "old.csv"
    old.write_text("id,text\n9,nine\n")
    os.utime(old, (1_000_000_000, 1_000_000_000))  # 2001: older than every file already read
    shutil.copy2(old, folder / "c.csv")  # cp -p
    db, plan = land(spec, settings)
    assert [f.path for f in plan.read] == ["c.csv"] and "9" in rows(db)


def test_touch_and_a_copy_of_the_same_bytes_read_nothing_and_keep_retrieved_at(spec, settings, folder):
    db, _ = land(spec, settings)
    before = rows(db)
    os.utime(folder / "a.csv")
    shutil.copy(folder / "b.csv", folder / "b.tmp")
    os.replace(folder / "b.tmp", folder / "b.csv")  # new inode, same bytes
    db, plan = land(spec, settings)
    assert not plan.read and sorted(f.path for f in plan.checked) == ["a.csv", "b.csv"]
    assert rows(db) == before
    db, plan = land(spec, settings)
    assert not plan.read and not plan.checked  # the new stat was recorded: not even hashed again


def test_an_edited_file_is_read_again_and_its_unchanged_records_keep_their_first_retrieval(spec, settings, folder):
    db, _ = land(spec, settings)
    first = rows(db)
    (folder / "a.csv").write_text("id,text\n1,one\n2,TWO\n5,five\n")
    db, _ = land(spec, settings)
    now = rows(db)
    assert now["1"]["_retrieved_at"] == first["1"]["_retrieved_at"]  # same content: first seen then
    assert now["2"]["_retrieved_at"] > first["2"]["_retrieved_at"] and now["2"]["text"] == "TWO"
    assert now["3"]["_retrieved_at"] == first["3"]["_retrieved_at"]  # b.csv was not read again


def test_a_file_that_becomes_unreadable_takes_its_rows_and_the_source_recovers_when_it_goes(write_spec, settings,
                                                                                           tmp_path):
    src = tmp_path / "gz"
    src.mkdir()
    (src / "a.csv").write_text("id,text\n1,one\n")
    import gzip
    (src / "b.csv.gz").write_bytes(gzip.compress(b"id,text\n2,two\n3,three\n"))
    spec = write_spec("unreadable", files={"path": str(src), "glob": "*.csv*", "format": "csv"})
    db, _ = land(spec, settings)
    assert sorted(rows(db)) == ["1", "2", "3"]
    (src / "b.csv.gz").write_bytes(gzip.compress(b"id,text\n2,two\n3,three\n" * 1000)[:-40])  # truncated
    db, _ = land(spec, settings)
    assert sorted(rows(db)) == ["1"] and quarantine_counts(db) == {"unreadable_file": 1}
    (src / "b.csv.gz").write_bytes(b"")  # a download that failed to an empty file is not an empty dataset
    db, _ = land(spec, settings)
    assert sorted(rows(db)) == ["1"] and quarantine_counts(db) == {"unreadable_file": 1}
    (src / "b.csv.gz").unlink()
    db, _ = land(spec, settings)
    assert sorted(rows(db)) == ["1"] and not quarantine_counts(db)


def test_a_crash_between_load_and_reconcile_is_undone_by_the_next_ingest(spec, settings, folder):
    db, _ = land(spec, settings)
    (folder / "a.csv").write_text("id,text\n1,one\n2,two\n6,six\n")
    job = Ingest(spec, db, settings.dlt_dir / "downloads" / spec.id, lambda url: None)
    job.make_plan()
    pipeline(spec, settings.warehouse_dir, settings.dlt_dir).run(job.source()).raise_on_failed_jobs()
    with duckdb.connect(str(db), read_only=True) as con:  # the load landed next to the old rows: not reconciled
        assert con.execute("select count(*) from raw.records where id = '1'").fetchone()[0] == 2
    db, _ = land(spec, settings)
    assert sorted(rows(db)) == ["1", "2", "3", "6"] and ingest_count(db).rows_out == 4


def test_a_new_source_whose_glob_matches_nothing_is_an_error_naming_file_and_field(write_spec, settings, folder):
    spec = write_spec("nothing", files={"path": str(folder), "glob": "*.jsonl", "format": "jsonl"})
    with pytest.raises(NoFiles, match=r"nothing\.yaml: field 'files\.glob': '\*\.jsonl' matches no file"):
        land(spec, settings)


def test_an_existing_source_whose_listing_becomes_empty_keeps_its_records(spec, settings, folder):
    db, _ = land(spec, settings)
    for f in folder.iterdir():
        f.rename(folder.parent / f.name)
    db, plan = land(spec, settings)
    assert not plan.listed and sorted(rows(db)) == ["1", "2", "3"]
    assert last_run(db)["listed"] == 0 and last_run(db)["note"] == "no file listed"


def test_source_url_of_a_one_file_path_is_that_file(write_spec, settings):
    spec = write_spec("one_file", files={"path": str(OTL), "format": "csv"})
    db, _ = land(spec, settings)
    urls = {r["_source_url"] for b in read_records(db) for r in b.to_pylist()}
    assert urls == {OTL.resolve().as_uri()}


class _Site(http.server.SimpleHTTPRequestHandler):
    etag = True

    def do_GET(self):
        if not self.etag:  # nor does it answer conditional requests
            del self.headers["If-Modified-Since"]
            del self.headers["If-None-Match"]
        super().do_GET()

    def end_headers(self):
        if not self.etag:  # a server that sends neither ETag nor Last-Modified
            self._headers_buffer = [h for h in self._headers_buffer if not h.lower().startswith(b"last-modified")]
        super().end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "data.csv").write_text("id,text\n1,one\n2,two\n")
    handler = partial(_Site, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_http_credentials_never_reach_the_rows_and_unchanged_bytes_are_not_read_again(write_spec, settings, site):
    root, base = site
    host = base.removeprefix("http://")
    spec = write_spec("http_src", files={"path": f"http://reader:s3cret@{host}/data.csv?token=abc123&lang=en",
                                         "format": "csv"})
    db, plan = land(spec, settings)
    urls = {r["_source_url"] for r in rows(db).values()}
    assert urls == {f"http://{host}/data.csv?token=REDACTED&lang=en"}
    with duckdb.connect(str(db), read_only=True) as con:
        everything = str(con.execute("select * from commons.files").fetchall())
    assert "s3cret" not in everything and "abc123" not in everything
    db, plan = land(spec, settings)  # Last-Modified: If-Modified-Since, answered 304
    assert not plan.read and len(plan.checked) == 1
    _Site.etag = False
    try:
        db, plan = land(spec, settings)  # no validator: downloaded again, same bytes, not read
        assert not plan.read
        (root / "data.csv").write_text("id,text\n1,one\n2,two\n3,three\n")
        db, plan = land(spec, settings)  # downloaded again, other bytes: read
        assert len(plan.read) == 1 and sorted(rows(db)) == ["1", "2", "3"]
    finally:
        _Site.etag = True
