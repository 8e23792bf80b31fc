"""The nightly refresh end to end (Dagster, local target): what a new version holds after the source changed, and
what does not make a new version at all."""

import os
import shutil

import pyarrow.parquet as pq
import pytest
import yaml
from dagster import AssetKey

from commons_pipelines.orchestration import build_definitions
from commons_pipelines.settings import Settings
from commons_pipelines.spec import CATALOG_DIR, load_spec, scan_catalog

from .test_pipeline import checks, published, run_nightly, versions


@pytest.fixture
def notices(tmp_path):
    """The school notices sample in a temporary catalog, so a test can edit its files."""
    catalog, samples = tmp_path / "catalog", tmp_path / "samples"
    catalog.mkdir()
    shutil.copy(CATALOG_DIR / "school_notices.yaml", catalog)
    shutil.copytree(CATALOG_DIR.parent / "samples" / "school_notices", samples / "school_notices")
    spec = load_spec(catalog / "school_notices.yaml")
    return {spec.id: spec}, samples / "school_notices"


def rows(settings, source_id="school_notices") -> dict[str, dict]:
    table = pq.read_table(settings.publish_dir / source_id / "current" / "data")
    return {r["notice_id"]: r for r in table.to_pylist()}


def curated_meta(result, source_id="school_notices") -> dict:
    [mat] = [e.materialization for e in result.get_asset_materialization_events()
             if e.asset_key == AssetKey([source_id, "curated"])]
    return {k: v.value for k, v in mat.metadata.items()}


def edit(path, old: str, new: str) -> None:
    data = path.read_bytes()  # the samples hold a line with bytes that are not UTF-8, on purpose
    assert old.encode() in data
    path.write_bytes(data.replace(old.encode(), new.encode(), 1))


def test_a_corrected_record_is_published_with_its_correction(notices, settings):
    specs, folder = notices
    assert run_nightly(specs, settings).success
    assert rows(settings)["SN-2025-001"]["audience"] == "parents"
    edit(folder / "notices_2025.csv", "SN-2025-001,Riverside Primary School,2025-09-01,en,parents,",
         "SN-2025-001,Riverside Primary School,2025-09-01,en,staff,")
    result = run_nightly(specs, settings)
    assert result.success and published(result, "school_notices")["version"] == "v2"
    now = rows(settings)
    assert now["SN-2025-001"]["audience"] == "staff" and len(now) == 19
    assert curated_meta(result)["previous"] == {"version": "v1", "kept": 18, "added": 1, "removed": 1}


def test_a_new_column_keeps_every_old_record(notices, settings):
    specs, folder = notices
    assert run_nightly(specs, settings).success
    path = folder / "notices_2026.csv"
    lines = path.read_bytes().splitlines()
    path.write_bytes(b"\n".join([lines[0] + b",room"] + [line + b",Hall" for line in lines[1:]]) + b"\n")
    result = run_nightly(specs, settings)
    assert result.success and published(result, "school_notices")["version"] == "v2"
    now = rows(settings)
    assert len(now) == 19 and now["SN-2026-001"]["room"] == "Hall" and now["SN-2025-001"]["room"] is None


def test_touching_every_file_publishes_nothing(notices, settings):
    specs, folder = notices
    first = run_nightly(specs, settings)
    retrieved = {k: r["_retrieved_at"] for k, r in rows(settings).items()}
    for path in folder.iterdir():
        os.utime(path)
    again = run_nightly(specs, settings)
    assert again.success and published(again, "school_notices")["changed"] is False
    assert versions(settings, "school_notices") == ["v1"]
    assert {k: r["_retrieved_at"] for k, r in rows(settings).items()} == retrieved
    assert published(first, "school_notices")["content_sha256"] == published(again, "school_notices")["content_sha256"]


def test_a_repost_under_a_new_key_is_a_new_record_and_a_removed_key_is_removed(notices, settings):
    specs, folder = notices
    assert run_nightly(specs, settings).success
    lines = (folder / "notices_2025.csv").read_bytes().splitlines()
    repost = next(line for line in lines if line.startswith(b"SN-2025-001,")).replace(b"SN-2025-001", b"SN-2027-002")
    (folder / "notices_2027.csv").write_bytes(lines[0] + b"\n" + repost + b"\n")
    (folder / "notices_2025.csv").write_bytes(
        b"\n".join(line for line in lines if not line.startswith(b"SN-2025-002,")) + b"\n")
    result = run_nightly(specs, settings)
    assert result.success
    now = rows(settings)
    assert "SN-2027-002" in now and "SN-2025-001" in now and "SN-2025-002" not in now and len(now) == 19
    assert "removed/exact_dedup/published_duplicate" not in curated_meta(result)  # keys always win


def test_system_column_names_in_a_source_are_renamed_and_stay_data(write_spec, settings, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.csv").write_text("_id,_lang,text\n1,en,The same notice text for both rows of this file.\n"
                               "2,en,The same notice text for both rows of this file.\n")
    spec = write_spec("collide", files={"path": str(src), "format": "csv"}, dedup={"near": None})
    result = run_nightly({spec.id: spec}, settings)
    assert result.success
    table = pq.read_table(settings.publish_dir / spec.id / "current" / "data")
    assert {"id", "lang", "text"} <= set(table.column_names) and table.num_rows == 2
    assert len(set(table.column("_row_sha256").to_pylist())) == 2
    assert curated_meta(result, spec.id)["renamed_columns"] == {"_id": "id", "_lang": "lang"}
    card = (settings.publish_dir / spec.id / "current" / "README.md").read_text(encoding="utf-8")
    assert "Columns renamed on the way in" in card and "`_lang` → `lang`" in card


def test_a_glob_that_matches_nothing_on_an_existing_source_fails_its_check_and_keeps_v1(notices, settings):
    specs, folder = notices
    assert run_nightly(specs, settings).success
    for path in folder.iterdir():
        path.rename(path.with_suffix(".old"))
    result = run_nightly(specs, settings)
    assert not result.success and checks(result)[("school_notices", "listing")] is False
    assert published(result, "school_notices") is None and versions(settings, "school_notices") == ["v1"]
    assert len(rows(settings)) == 19


def test_one_broken_yaml_leaves_the_other_sources_running(notices, settings, tmp_path):
    specs, _ = notices
    catalog = next(iter(specs.values())).origin.parent
    (catalog / "broken.yaml").write_text("id: broken\ntitle: Broken\nlicence: CC-BY-NC-4.0\n")
    good, broken = scan_catalog(catalog)
    assert list(good) == ["school_notices"] and "licence" in broken["broken"]
    defs = build_definitions(good, settings, broken)
    assert "not an open licence" in defs.resolve_assets_def(AssetKey(["broken", "catalog"])).descriptions_by_key[
        AssetKey(["broken", "catalog"])]
    result = defs.resolve_job_def("nightly").execute_in_process(raise_on_error=False)
    assert not result.success and published(result, "school_notices")["version"] == "v1"
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "broken.yaml" in failure.event_specific_data.error.message


def test_an_unreachable_hub_blocks_only_publishing(notices, tmp_path, monkeypatch):
    specs, _ = notices
    monkeypatch.setenv("HF_TOKEN", "hf_never_used")
    settings = Settings.from_env({"COMMONS_HOME": str(tmp_path / "home"), "COMMONS_TARGET": "hub",
                                  "HF_ENDPOINT": "http://127.0.0.1:9", "COMMONS_RETRIES": "0",
                                  "COMMONS_HUB_RETRY_WAIT": "0.05"})
    assert build_definitions(specs, settings).resources["publisher"].make_target().wait == 0.05
    result = run_nightly(specs, settings)
    assert not result.success and all(checks(result).values())
    meta = curated_meta(result)
    assert meta["dagster/row_count"] == 19 and "could not be read" in meta["warnings"][0]
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "school_notices__published" or "published" in failure.step_key
    assert "not published, the current version stays live" in failure.event_specific_data.error.message
    assert "gave up after 5 attempts" in failure.event_specific_data.error.message  # each tried again, sooner


def test_a_network_failure_at_ingest_is_retried_by_dagster(write_spec, tmp_path):
    """The first answer is a 503: Dagster runs ingest again (COMMONS_RETRIES), and the run succeeds."""
    import http.server
    import threading
    from functools import partial

    answers = []

    class Flaky(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            answers.append(self.path)
            if len(answers) == 1:
                self.send_error(503, "busy")
            else:
                super().do_GET()

        def log_message(self, *args):
            pass

    root = tmp_path / "site"
    root.mkdir()
    (root / "notes.csv").write_text("id,text\n1,one\n2,two\n")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Flaky, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        spec = write_spec("flaky", files={"path": f"http://127.0.0.1:{server.server_port}/notes.csv", "format": "csv"})
        settings = Settings.from_env({"COMMONS_HOME": str(tmp_path / "home"), "COMMONS_ALLOW_LOCAL_URLS": "1",
                                      "COMMONS_RETRIES": "1", "COMMONS_RETRY_DELAY": "0"})
        result = run_nightly({spec.id: spec}, settings)
    finally:
        server.shutdown()
    assert result.success and len(answers) == 2
    assert any(e.event_type_value == "STEP_UP_FOR_RETRY" and e.step_key == "ingest_flaky" for e in result.all_events)
    assert published(result, spec.id)["dagster/row_count"] == 2


def test_editing_only_expectations_and_the_title_reuses_the_curation_and_checks_it_again(notices, settings, tmp_path):
    specs, _ = notices
    assert run_nightly(specs, settings).success
    spec = specs["school_notices"]
    data = yaml.safe_load(spec.origin.read_text(encoding="utf-8"))
    data["title"] = "School notices to families, retitled"
    data["expectations"] = data["expectations"][:1] + [{"expect_column_values_to_not_be_null": {"column": "school"}}]
    spec.origin.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    specs = {spec.id: load_spec(spec.origin)}
    result = run_nightly(specs, settings)
    assert result.success and curated_meta(result)["reused"] is True
    assert checks(result)[("school_notices", "declared_suite")] is True
    [check] = [e for e in result.get_asset_check_evaluations() if e.check_name == "declared_suite"]
    assert check.metadata["evaluated_expectations"].value == 2  # the new suite ran on the reused curation
    assert published(result, "school_notices")["changed"] is False
