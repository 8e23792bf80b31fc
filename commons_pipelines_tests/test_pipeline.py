"""The whole nightly job in process, on the default catalog and on real shared data."""

import json
import shutil
import subprocess
import sys

import datasets
import duckdb
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey, materialize
from huggingface_hub import DatasetCard, hf_hub_download

from commons_pipelines.curate.takedown import Entry, add_entry
from commons_pipelines.orchestration import build_definitions
from commons_pipelines.settings import Settings
from commons_pipelines.spec import CATALOG_DIR, load_catalog, load_spec, offline_split

from .conftest import BDPM, BDPM_COLUMNS, OTL, ROOT
from .hub_emulator import serve


PLANTED = [  # the personal data written into the default catalog's samples
    "jane.holloway@riverside-primary.example.org", "Jane Holloway", "01 42 68 53 07", "Pedro Sánchez Ruiz",
    "+34 612 345 678", "secretaria@cpmiguelhernandez.example.es", "020 7946 0321", "12345678Z",
    "FR76 3000 6000 0112 3456 7890 189", "ce.0751234x@ac-paris.example.fr", "Claire Dubois", "06 12 34 56 78",
    "pflegeberatung@pflegestuetzpunkt-nord.example.de", "Tom Barker", "+44 20 7946 0958",
]


def run_nightly(specs, settings):
    defs = build_definitions(specs, settings)
    return defs.resolve_job_def("nightly").execute_in_process(raise_on_error=False)


def published(result, source_id):
    mats = [e.materialization for e in result.get_asset_materialization_events()
        if e.asset_key == AssetKey([source_id, "published"])]
    return {k: v.value for k, v in mats[0].metadata.items()} if mats else None


def checks(result):
    return {(e.asset_key.path[0], e.check_name): e.passed for e in result.get_asset_check_evaluations()}


def versions(settings, source_id):
    return sorted(p.name for p in (settings.publish_dir / source_id / "versions").iterdir())


def test_definitions_validate_with_the_dagster_cli_even_with_a_broken_yaml(tmp_path):
    """What the UI loads: every good source, and the broken one as an asset that shows its error."""
    catalog = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, catalog)
    shutil.copytree(CATALOG_DIR.parent / "samples", tmp_path / "samples")
    (catalog / "who_gho.yaml").write_text("id: who_gho\nlicence: CC-BY-NC-SA-3.0-IGO\n")
    (tmp_path / "dagster").mkdir()
    env = {"COMMONS_HOME": str(tmp_path), "DAGSTER_HOME": str(tmp_path / "dagster"), "PATH": "",
           "COMMONS_CATALOG": str(catalog)}
    out = subprocess.run([sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
                         cwd=ROOT, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Validation successful" in out.stdout + out.stderr
    lister = ("from commons_pipelines.definitions import defs; "
              "print(sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()))")
    keys = subprocess.run([sys.executable, "-c", lister], cwd=ROOT, capture_output=True, text=True, env=env).stdout
    assert "who_gho/catalog" in keys and "school_notices/published" in keys and "home_care_guides/published" in keys


def test_loading_the_definitions_writes_nothing(tmp_path):
    """The UI's code server loads the definitions at each reload, maybe from a home it may only read: the warehouse
    and dlt's pipeline folders are made by the run that ingests (loading them used to write every source's)."""
    home = tmp_path / "home"
    defs = build_definitions(load_catalog(), Settings.from_env({"COMMONS_HOME": str(home)}))
    assert AssetKey(["fr_medicines", "raw"]) in defs.resolve_asset_graph().get_all_asset_keys()
    assert sorted(str(p.relative_to(home)) for p in home.rglob("*")) == []


def test_nightly_job_publishes_every_default_source_once(settings):
    """Offline, as `make run` runs it: the sources that need the network are left out (each has its recorded-response
    test in test_sources_*.py)."""
    specs, skipped = offline_split(load_catalog(), offline=True)
    assert len(specs) >= 2 and len(skipped) >= 8
    first = run_nightly(specs, settings)
    assert first.success
    # the listing check on raw, the generic suite, and the declared one when there are expectations
    assert all(checks(first).values()) and len(checks(first)) == sum(3 if s.expectations else 2 for s in specs.values())
    for source_id in specs:
        meta = published(first, source_id)
        assert meta["version"] == "v1" and meta["changed"] is True
        assert versions(settings, source_id) == ["v1"]
        current = settings.publish_dir / source_id / "current"
        table = pq.read_table(current / "data")
        assert table.num_rows == meta["dagster/row_count"] > 0
        assert duckdb.connect().execute(f"select count(*) from read_parquet('{current}/data/**/*.parquet')").fetchone()[0] == table.num_rows
        card = DatasetCard((current / "README.md").read_text())
        assert card.data.license and card.data.configs and json.loads((current / "croissant.json").read_text())
        loaded = datasets.load_dataset(str(current), cache_dir=str(settings.home / "hf-cache"))
        assert loaded["train"].num_rows == table.num_rows
    notices = pq.read_table(settings.publish_dir / "school_notices" / "current" / "data").to_pylist()
    ids = [r["notice_id"] for r in notices]
    # 24 data lines: three quarantined, one duplicate dropped, one dropped for quoting a national ID
    assert len(ids) == len(set(ids)) == 19 and "SN-2026-003" not in ids
    for source_id in specs:
        rows = pq.read_table(settings.publish_dir / source_id / "current" / "data").to_pylist()
        text = "\n".join(str(v) for row in rows for v in row.values())
        assert [value for value in PLANTED if value in text] == []
        card = (settings.publish_dir / source_id / "current" / "README.md").read_text()
        assert [value for value in PLANTED if value in card] == []
    second = run_nightly(specs, settings)
    assert second.success
    for source_id in specs:
        assert published(second, source_id)["changed"] is False
        assert versions(settings, source_id) == ["v1"]


def test_curated_metadata_counts_every_stage(settings):
    specs = {"home_care_guides": load_catalog()["home_care_guides"]}
    result = run_nightly(specs, settings)
    [mat] = [e.materialization for e in result.get_asset_materialization_events()
             if e.asset_key == AssetKey(["home_care_guides", "curated"])]
    meta = {k: v.value for k, v in mat.metadata.items()}
    assert meta["removed/ingest/malformed_json"] == 1 and meta["removed/ingest/not_an_object"] == 1
    assert meta["removed/exact_dedup/exact_duplicate"] == 2  # the same guide twice, and its text under a new id
    assert meta["removed/near_dedup/near_duplicate"] == 1 and meta["removed/quality/quality:min_words"] == 1
    stages = {r.data["stage"]: r.data for r in meta["stages"].records}
    assert stages["ingest"]["rows_in"] == 18 and stages["near_dedup"]["rows_out"] == meta["dagster/row_count"] == 12
    assert meta["pii/EMAIL"] == 1 and meta["pii/PHONE"] == 2 and meta["pii/PERSON"] >= 2
    assert meta["pii/ner"].startswith("spaCy") and "xx_names 1.2.0 (de, pt)" in meta["pii/ner"]
    assert {r.data["language"]: r.data["rows"] for r in meta["languages"].records} == {
        "en": 4, "de": 3, "fr": 2, "pt": 2, "es": 1}


def test_failing_expectation_blocks_publishing_and_v1_stays_current(tmp_path, settings):
    catalog = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, catalog)
    samples = tmp_path / "samples"
    shutil.copytree(CATALOG_DIR.parent / "samples" / "school_notices", samples / "school_notices")
    spec = load_spec(catalog / "school_notices.yaml")
    assert run_nightly({spec.id: spec}, settings).success
    (samples / "school_notices" / "notices_2027.csv").write_text(
        "notice_id,school,published_on,language,audience,title,body\n"
        "SN-2027-001,Riverside Primary School,2027-01-04,en,governors,Governors' meeting,"
        "The governing body meets on 20 January; minutes are published on the school website.\n")
    result = run_nightly({spec.id: spec}, settings)
    assert not result.success
    assert checks(result)[("school_notices", "declared_suite")] is False
    assert checks(result)[("school_notices", "generic_suite")] is True
    assert published(result, spec.id) is None
    assert versions(settings, spec.id) == ["v1"]
    assert (settings.publish_dir / spec.id / "current").resolve().name == "v1"


def test_open_textbook_library_end_to_end(write_spec, settings):
    spec = write_spec("open_textbooks", title="Open Textbook Library", licence="CC0-1.0",
                      files={"path": str(OTL), "format": "csv"}, text_columns=["Title", "Description"],
                      primary_key=["OTL ID"], pii={"ner": "auto"},
                      expectations=[{"expect_column_values_to_not_be_null": {"column": "License"}}])
    result = run_nightly({spec.id: spec}, settings)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    meta = published(result, spec.id)
    curated = {k: v.value for k, v in [e.materialization for e in result.get_asset_materialization_events()
                                       if e.asset_key == AssetKey([spec.id, "curated"])][0].metadata.items()}
    # books of a series share their description (volumes 2, 3 ...), but each has its own OTL ID: every book stays
    assert not any(k.startswith("removed/exact_dedup") for k in curated) and "removed/near_dedup" not in str(curated)
    assert meta["version"] == "v1" and meta["dagster/row_count"] == 1112
    assert curated["pii/EMAIL"] == 14 and "en_names" in curated["pii/ner"] and "no model" not in curated["pii/ner"]
    assert curated["pii/PERSON"] > 300, "the authors in the descriptions"
    rows = pq.read_table(settings.publish_dir / spec.id / "current" / "data").to_pylist()
    assert rows[0]["title"] == "Financial Accounting" and rows[0]["_licence"] == "CC0-1.0"
    assert rows[0]["_source_url"].endswith("OTL.csv") and len(rows[0]["_row_sha256"]) == 64


def test_french_medicines_end_to_end(write_spec, tmp_path):
    spec = write_spec("fr_medicines", title="Base de données publique des médicaments", licence="etalab-2.0",
                      languages=["fr"], domain="health", primary_key=["cis"], text_columns=["denomination"],
                      pii={"ner": "off"},  # drug names and laboratories, no person
                      files={"path": str(BDPM), "format": "tsv",
                             "csv": {"header": False, "columns": BDPM_COLUMNS, "quote_char": None}},
                      expectations=[{"expect_column_values_to_match_regex": {"column": "cis", "regex": "^[0-9]{8}$"}},
                                    {"expect_column_values_to_match_regex": {
                                        "column": "amm_date", "regex": "^[0-9]{2}/[0-9]{2}/[0-9]{4}$"}}])
    settings = Settings.from_env({"COMMONS_HOME": str(tmp_path / "home"), "COMMONS_WORKERS": "2"})  # a pool of two
    result = run_nightly({spec.id: spec}, settings)
    assert result.success and all(checks(result).values())
    assert published(result, spec.id)["dagster/row_count"] == 15756  # the default dedup kept every CIS code
    current = settings.publish_dir / spec.id / "current"
    first = pq.read_table(current / "data", columns=["cis", "denomination", "routes", "_licence"]).slice(0, 1).to_pylist()
    assert first == [{"cis": "61266250", "denomination": "A 313 200 000 UI POUR CENT, pommade", "routes": "cutanée",
                      "_licence": "etalab-2.0"}]
    card = DatasetCard((current / "README.md").read_text())
    assert card.data.license == "etalab-2.0" and card.data.language == ["fr"]


HUB_TOKEN = "hf_nightly_publisher_token"


@pytest.fixture
def hub():
    yield from serve(tokens={HUB_TOKEN: "commons-pipelines"})


def test_nightly_job_publishes_versions_to_the_hub(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", HUB_TOKEN)
    settings = Settings.from_env({"COMMONS_HOME": str(tmp_path / "home"), "COMMONS_TARGET": "hub",
                                  "HF_ENDPOINT": hub.url, "COMMONS_WORKERS": "1"})
    catalog, samples = tmp_path / "catalog", tmp_path / "samples"
    shutil.copytree(CATALOG_DIR, catalog)
    shutil.copytree(CATALOG_DIR.parent / "samples", samples)
    specs = {s.id: s for s in map(load_spec, sorted(catalog.glob("*.yaml"))) if not s.needs_network}
    repo = "commons-pipelines/school-notices"

    first = run_nightly(specs, settings)
    assert first.success
    assert published(first, "school_notices")["location"] == f"{hub.url}/datasets/{repo}/tree/v1"
    assert set(hub.refs(repo)["tags"]) == {"v1"} and set(hub.refs("commons-pipelines/home-care-guides")["tags"]) == {"v1"}
    assert any(f.lfs for path, f in hub.files(repo, revision="v1").items() if path.endswith(".parquet"))

    assert run_nightly(specs, settings).success
    commits = len(hub.commits(repo))
    lines = (samples / "school_notices" / "notices_2025.csv").read_text(encoding="utf-8").splitlines()
    reposted = next(line for line in lines if line.startswith("SN-2025-001,")).replace("SN-2025-001", "SN-2027-002")
    (samples / "school_notices" / "notices_2027.csv").write_text(
        "notice_id,school,published_on,language,audience,title,body\n"
        "SN-2027-001,Riverside Primary School,2027-01-04,en,parents,Snow day,"
        "The school is closed today because of heavy snow; online lessons start at 10:00.\n"
        + reposted + "\n", encoding="utf-8")
    third = run_nightly(specs, settings)
    assert third.success and published(third, "school_notices")["version"] == "v2"
    [curated] = [e.materialization for e in third.get_asset_materialization_events()
                 if e.asset_key == AssetKey(["school_notices", "curated"])]
    # v1 was read back from the Hub to compare; the repost is a record of its own (its own notice_id)
    assert curated.metadata["previous"].value == {"version": "v1", "kept": 19, "added": 2, "removed": 0}
    assert published(third, "home_care_guides")["changed"] is False
    assert len(hub.commits(repo)) == commits + 1 and set(hub.refs(repo)["tags"]) == {"v1", "v2"}

    import datasets

    v1 = datasets.load_dataset(repo, revision="v1", token=HUB_TOKEN, cache_dir=str(tmp_path / "cache"))["train"]
    v2 = datasets.load_dataset(repo, revision="v2", token=HUB_TOKEN, cache_dir=str(tmp_path / "cache"))["train"]
    assert (v1.num_rows, v2.num_rows) == (19, 21)
    assert "SN-2027-002" in v2["notice_id"]
    assert "SN-2027-001" in v2["notice_id"] and "SN-2027-001" not in v1["notice_id"]
    card = hf_hub_download(repo, "README.md", repo_type="dataset", revision="v2", endpoint=hub.url, token=HUB_TOKEN,
                           cache_dir=tmp_path / "cache")
    assert "| v2 |" in open(card, encoding="utf-8").read()

    logs = "\n".join(str(e) for run in (first, third) for e in run.all_events)
    assert HUB_TOKEN not in logs


def test_publishing_refuses_a_curation_no_suite_has_passed(settings):
    """Blocking checks stop a run; the verdict files also stop a hand-picked materialisation of `published`."""
    spec = load_catalog()["home_care_guides"]
    defs = build_definitions({spec.id: spec}, settings)
    assert defs.resolve_job_def("nightly").execute_in_process().success
    curated, published_ = (defs.resolve_assets_def(AssetKey([spec.id, stage])) for stage in ("curated", "published"))
    same = materialize([curated])  # nothing changed: the checked curation is reused
    assert same.success and same.asset_materializations_for_node(curated.node_def.name)[0].metadata["reused"].value
    add_entry(settings.takedown_dir, spec.id, Entry("key", {"guide_id": "HC-001"}, "test"), [])
    recurated = materialize([curated])  # the asset alone, without its checks: a new curation nobody checked
    assert recurated.success and not recurated.get_asset_check_evaluations()

    alone = materialize([published_], raise_on_error=False)
    assert not alone.success
    [failure] = [e for e in alone.all_events if e.is_step_failure]
    assert "not published, the current version stays live" in failure.event_specific_data.error.message
    assert "has not run on curation" in failure.event_specific_data.error.message
    assert versions(settings, spec.id) == ["v1"]


def test_a_missing_source_path_fails_ingest_naming_file_and_field(write_spec, settings, tmp_path):
    spec = write_spec("gone", files={"path": str(tmp_path / "no-such-folder"), "format": "csv"})
    result = run_nightly({spec.id: spec}, settings)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "ingest_gone"
    assert f"{spec.origin}: field 'files.path'" in failure.event_specific_data.error.message
    assert not (settings.publish_dir / "gone").exists()
