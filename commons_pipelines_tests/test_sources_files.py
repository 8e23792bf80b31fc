"""The shipped `files` sources, each run from a capture of its real file served over local HTTP, through dlt and
the whole Dagster job to a published version; and the `json` format and the `where:` filter they rely on."""

import json

import duckdb
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard

from commons_pipelines.ingest.warehouse import pipeline
from commons_pipelines.ingest.runner import Ingest
from commons_pipelines.spec import SpecError, scan_catalog

from .conftest import BDPM, OTL, SHARED_DATA
from .replay import Replay
from .test_pipeline import checks, published, run_nightly

GUTENBERG = SHARED_DATA / "api_captures" / "gutenberg_catalog" / "pg_catalog_prefix_truncated.csv"
WHO = SHARED_DATA / "api_captures" / "who_gho_odata" / "HEPATITIS_HBV_DEATHS_NUM.json"
CAPTURES = {
    "fr_medicines": ("https://base-donnees-publique.medicaments.gouv.fr/download/file/CIS_bdpm.txt", BDPM),
    "open_textbooks": ("https://raw.githubusercontent.com/creativecommons/quantifying/"
                       "dfca3e0f9599d2e895d599b1847a0598b57630ab/pre-automation/education/datasets/OTL.csv", OTL),
    "gutenberg_catalog": ("https://www.gutenberg.org/cache/epub/feeds/pg_catalog.csv", GUTENBERG),
}


@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    """The three sources in one nightly run, as the schedule would run them."""
    from commons_pipelines.settings import Settings

    tmp = tmp_path_factory.mktemp("files_sources")
    with Replay() as replay:
        for url, capture in CAPTURES.values():
            replay.add(url, capture, content_type="text/csv")
        specs, broken = scan_catalog(replay.catalog(tmp, list(CAPTURES)))
        assert not broken and sorted(specs) == sorted(CAPTURES)
        settings = Settings.from_env({"COMMONS_HOME": str(tmp / "home"), "COMMONS_ALLOW_LOCAL_URLS": "1",
                                      "COMMONS_WORKERS": "1"})  # the pool has its tests (test_curate, test_pipeline)
        result = run_nightly(specs, settings)
        yield result, settings, replay.seen


def rows(settings, source_id):
    return pq.read_table(settings.publish_dir / source_id / "current" / "data").to_pylist()


@pytest.mark.parametrize("source_id", sorted(CAPTURES))
def test_each_source_publishes_v1_from_its_capture_with_attribution(nightly, source_id):
    result, settings, seen = nightly
    assert published(result, source_id)["version"] == "v1"
    assert all(checks(result)[(source_id, s)] for s in ("generic_suite", "declared_suite"))
    url = CAPTURES[source_id][0]
    assert any(r.endswith(url.split("://", 1)[1]) for r in seen)
    got = rows(settings, source_id)
    assert got and {r["_source_url"].split("/", 3)[3] for r in got} == {url.split("://", 1)[1]}
    folder = settings.publish_dir / source_id / "current"
    card = DatasetCard.load(folder / "README.md")
    assert "## Attribution" in card.text and "Please cite:" in card.text
    croissant = json.loads((folder / "croissant.json").read_text())
    assert croissant["citeAs"] and croissant["creator"][0]["@type"] == "sc:Organization"


def test_medicines_land_every_record_of_the_file(nightly):
    _, settings, _ = nightly
    got = rows(settings, "fr_medicines")
    assert len(got) == len(BDPM.read_bytes().splitlines()) == 15756
    doliprane = [r for r in got if r["denomination"].startswith("DOLIPRANE 1000 mg, comprimé")]
    assert doliprane and doliprane[0]["_licence"] == "etalab-2.0"


def test_the_where_filter_keeps_only_cc_by_textbooks_and_counts_the_others(nightly):
    result, settings, _ = nightly
    got = rows(settings, "open_textbooks")
    assert got and {r["license"] for r in got} == {"Attribution"}
    [mat] = [e.materialization for e in result.get_asset_materialization_events()
             if e.asset_key.path == ["open_textbooks", "curated"]]
    filtered = mat.metadata["removed/ingest/where"].value
    assert filtered == 1112 - 292 and len(got) <= 292


def test_the_gutenberg_catalogue_keeps_multi_line_titles_whole(nightly):
    """Titles with line breaks inside quotes are one record each: the rows published are the records Python's csv
    module finds in the capture (the capture's last record, cut inside an unquoted field, cannot be told from a
    complete one: it is kept)."""
    import csv

    _, settings, _ = nightly
    got = {r["ebook_id"]: r for r in rows(settings, "gutenberg_catalog")}
    with open(GUTENBERG, encoding="utf-8", newline="") as f:
        records = list(csv.reader(f))[1:]
    assert sorted(got, key=int) == sorted({r[0] for r in records}, key=int)
    assert got["2"]["title"] == next(r[3] for r in records if r[0] == "2") and "\n" in got["2"]["title"]
    assert got["1"]["language"] == "en" and got["1"]["_lang"] == "en"


def test_a_json_document_lands_one_row_per_record_at_its_record_path(write_spec, settings, tmp_path):
    """The WHO GHO OData answer saved as a file: 90 KB in one line, its records under `value` (it used to land as
    one row holding the whole document as a string)."""
    spec = write_spec("who_hbv", licence="CC0-1.0", domain="health",
                      files={"path": str(WHO.parent), "glob": WHO.name, "format": "json", "record_path": "value"})
    Ingest(spec, settings.warehouse_dir / "who_hbv.duckdb", tmp_path / "work", lambda host: None).run(
        pipeline(spec, settings.warehouse_dir, settings.dlt_dir))
    expected = json.loads(WHO.read_text())["value"]
    with duckdb.connect(str(settings.warehouse_dir / "who_hbv.duckdb"), read_only=True) as con:
        landed = con.execute("select spatial_dim, time_dim, numeric_value from raw.records order by rowid").fetchall()
    assert len(landed) == len(expected) > 100
    assert landed[0] == (expected[0]["SpatialDim"], expected[0]["TimeDim"], expected[0]["NumericValue"])


def test_a_missing_record_path_makes_the_file_unreadable_naming_the_path(write_spec, settings, tmp_path):
    spec = write_spec("who_bad", licence="CC0-1.0", files={"path": str(WHO.parent), "glob": WHO.name,
                                                           "format": "json", "record_path": "data.items"})
    Ingest(spec, settings.warehouse_dir / "who_bad.duckdb", tmp_path / "work", lambda host: None).run(
        pipeline(spec, settings.warehouse_dir, settings.dlt_dir))
    with duckdb.connect(str(settings.warehouse_dir / "who_bad.duckdb"), read_only=True) as con:
        [(reason, detail)] = con.execute("select reason, detail from raw.quarantine").fetchall()
    assert reason == "unreadable_file" and "'data'" in detail and "@odata.context" in detail


@pytest.mark.parametrize("where, problem", [
    ("license = 'x'; drop table raw.records", "without ';'"),
    ("license = ", "not a DuckDB SQL predicate"),
])
def test_a_where_that_is_not_one_predicate_is_refused_when_loaded(write_spec, where, problem):
    with pytest.raises(SpecError, match=f"field 'where': .*{problem}"):
        write_spec("bad_where", files={"path": ".", "format": "csv"}, where=where)


def test_a_where_on_an_unknown_column_fails_curation_naming_the_field(write_spec, settings, tmp_path):
    from commons_pipelines.ingest.warehouse import WhereError, ingest_count

    spec = write_spec("where_col", files={"path": str(OTL.parent), "format": "csv"}, where="licence = 'CC BY'")
    db = settings.warehouse_dir / "where_col.duckdb"
    Ingest(spec, db, tmp_path / "work", lambda host: None).run(pipeline(spec, settings.warehouse_dir, settings.dlt_dir))
    with pytest.raises(WhereError, match="field 'where'.*licence"):
        ingest_count(db, spec.where)


def test_a_where_cannot_read_files(write_spec, settings, tmp_path):
    from commons_pipelines.ingest.warehouse import WhereError, read_records

    spec = write_spec("where_file", files={"path": str(OTL.parent), "format": "csv"},
                      where="exists (select 1 from read_csv('/etc/hostname'))")
    db = settings.warehouse_dir / "where_file.duckdb"
    Ingest(spec, db, tmp_path / "work", lambda host: None).run(pipeline(spec, settings.warehouse_dir, settings.dlt_dir))
    with pytest.raises(WhereError, match="field 'where'"):
        list(read_records(db, where=spec.where))


@pytest.mark.parametrize("source_id", sorted(CAPTURES))
def test_commons_check_finds_every_column_the_yaml_names_in_the_landed_schema(nightly, source_id):
    from commons_pipelines.cli.check import check_source
    from commons_pipelines.spec import CATALOG_DIR, load_spec

    _, settings, _ = nightly
    problems, notes = check_source(load_spec(CATALOG_DIR / f"{source_id}.yaml"), settings)
    assert problems == [] and any(n.startswith("columns: checked against the landed schema") for n in notes)
