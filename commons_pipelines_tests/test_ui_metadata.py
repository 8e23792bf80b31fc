"""What the Dagster UI shows of a source: definitions (labels, owners, descriptions, kinds, code references, code
versions, freshness, schedules, the failure sensor) and the metadata of every materialisation and check, over two
real nightly runs of the school notices sample: one where a declared expectation fails, one where all pass."""

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from dagster import (AssetKey, DagsterEventType, DagsterInstance, DefaultScheduleStatus, DefaultSensorStatus,
                     build_run_status_sensor_context)

from commons_pipelines.orchestration import build_definitions
from commons_pipelines.orchestration.sensors import failure_line, run_failures
from commons_pipelines.spec import CATALOG_DIR, load_spec

STAGES = ("raw", "curated", "published")
OWNERS = ["team:education-data", "data.steward@example.org"]
COLUMNS = {"audience": "Who the notice is for: parents, students or staff.", "body": "The text of the notice."}


@pytest.fixture
def catalog(tmp_path):
    """The school notices YAML with owners and column descriptions, and a declared expectation that fails
    (staff notices are outside the set), in a temporary catalog."""
    folder = tmp_path / "catalog"
    folder.mkdir()
    shutil.copytree(CATALOG_DIR.parent / "samples" / "school_notices", tmp_path / "samples" / "school_notices")
    data = yaml.safe_load((CATALOG_DIR / "school_notices.yaml").read_text())
    data |= {"owners": OWNERS, "columns": COLUMNS}
    data["expectations"][0]["expect_column_values_to_be_in_set"]["value_set"] = ["parents", "students"]
    path = folder / "school_notices.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path, data


def run(path: Path, settings, instance):
    spec = load_spec(path)
    defs = build_definitions({spec.id: spec}, settings)
    return defs, defs.resolve_job_def("nightly").execute_in_process(instance=instance, raise_on_error=False)


def materialised(result) -> dict[str, dict]:
    return {e.asset_key.path[-1]: {k: v.value for k, v in e.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()}


def checks(result) -> dict[str, tuple[bool, dict]]:
    return {e.check_name: (e.passed, {k: v.value for k, v in e.metadata.items()})
            for e in result.get_asset_check_evaluations()}


def test_the_ui_shows_definitions_materialisations_and_checks(catalog, settings):
    path, data = catalog
    instance = DagsterInstance.ephemeral()
    defs, first = run(path, settings, instance)

    # definitions: one node per stage, owners, YAML description and code reference, kinds, freshness
    graph = defs.resolve_asset_graph()
    nodes = {stage: graph.get(AssetKey(["school_notices", stage])) for stage in STAGES}
    # the UI labels a node with its key's last part: each stage's node has its own label, in the source's group
    assert sorted(k.path[-1] for k in graph.get_all_asset_keys() if k.path[0] == "school_notices") == sorted(STAGES)
    assert {s: n.kinds for s, n in nodes.items()} == {
        "raw": {"dlt", "duckdb"}, "curated": {"parquet"}, "published": {"parquet", "huggingface"}}
    for stage, node in nodes.items():
        assert node.description.startswith(f"{stage.capitalize()}: School notices to families. Short notices")
        assert node.owners == OWNERS and node.group_name == "school_notices"
        refs = node.metadata["dagster/code_references"].code_references
        assert refs[0].file_path == str(path.resolve()) and refs[0].label == "source YAML"
        assert not [k for k in node.metadata if k.startswith("dagster_dlt/")]  # no "[DltSource] (unserializable)"
    assert nodes["published"].freshness_policy.fail_window.to_timedelta() == timedelta(hours=26)
    assert nodes["raw"].freshness_policy is None
    [schedule] = defs.schedules
    assert schedule.default_status == DefaultScheduleStatus.RUNNING and schedule.cron_schedule == "0 2 * * *"
    assert defs.resolve_sensor_def("run_failures").default_status == DefaultSensorStatus.RUNNING

    # run 1: the declared suite fails, so nothing is published
    assert not first.success
    meta = materialised(first)
    assert set(meta) == {"raw", "curated"}
    raw, curated = meta["raw"], meta["curated"]
    assert raw["dagster/row_count"] == raw["rows/landed"] == 21 and raw["files/listed"] == raw["files/read"] == 2
    assert raw["quarantined"] == sum(v for k, v in raw.items() if k.startswith("quarantined/")) == 3
    columns = {c.name: c for c in raw["dagster/column_schema"].columns}
    assert columns["audience"].description == COLUMNS["audience"] and "_dlt_id" not in columns
    assert "preview" not in raw and not [k for k, v in raw.items() if "unserializable" in str(v)]
    assert curated["dagster/row_count"] == 19
    assert {c.name: c.description for c in curated["dagster/column_schema"].columns}["body"] == COLUMNS["body"]
    assert "| notice_id |" in curated["preview"] and "SN-2025-001" in curated["preview"]
    assert {r.data["language"] for r in curated["languages"].records} == {"en", "fr", "es"}
    assert curated["pii/EMAIL"] >= 1 and curated["removed/exact_dedup/exact_duplicate"] == 1

    verdicts = checks(first)
    assert verdicts["listing"][0] and verdicts["generic_suite"][0]
    passed, declared = verdicts["declared_suite"]
    assert not passed and declared["evaluated_expectations"] == 3 and declared["unsuccessful_expectations"] == 1
    [failure] = declared["failures"]
    assert failure["expectation"] == "expect_column_values_to_be_in_set" and failure["column"] == "audience"
    assert failure["unexpected_count"] >= 1 and set(failure["sample"]) == {"staff"}
    assert "| expect_column_values_to_be_in_set | audience |" in declared["failing_values"]
    docs = Path(declared["data_docs"].removeprefix("file://"))
    page = docs.read_text()
    # GX's page names the expectation in prose, with its column and the unexpected values found
    assert docs.name == "declared.html" and "values must belong to this set" in page
    assert "audience" in page and "staff" in page
    generic = verdicts["generic_suite"][1]
    assert generic["success_percent"] == 100.0 and Path(generic["data_docs"].removeprefix("file://")).is_file()

    # the failure sensor on the real failed run names the run and its first error
    [failure_event] = [e for e in first.all_events if e.event_type == DagsterEventType.RUN_FAILURE]
    context = build_run_status_sensor_context(sensor_name="run_failures", dagster_event=failure_event,
                                              dagster_instance=instance,
                                              dagster_run=first.dagster_run).for_run_failure()
    line = failure_line(context)
    assert line.startswith(f"run {first.run_id} of job nightly failed: ") and "declared_suite" in line
    run_failures(context)

    # run 2: the YAML fixed; every stage's code version changes, everything is published
    data["expectations"][0]["expect_column_values_to_be_in_set"]["value_set"] = ["parents", "students", "staff"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    fixed, second = run(path, settings, instance)
    assert second.success
    versions = {s: fixed.resolve_asset_graph().get(AssetKey(["school_notices", s])).code_version for s in STAGES}
    assert all(versions[s] != nodes[s].code_version for s in STAGES)
    again = build_definitions({"school_notices": load_spec(path)}, settings).resolve_asset_graph()
    assert versions == {s: again.get(AssetKey(["school_notices", s])).code_version for s in STAGES}

    published = materialised(second)["published"]
    assert published["version"] == "v1" and published["dagster/row_count"] == 19
    assert Path(published["dataset"]).is_dir() and Path(published["card"]).read_text().startswith("---")
    assert {c.name: c.description for c in published["dagster/column_schema"].columns}["audience"] == COLUMNS["audience"]
    assert "SN-2025-001" in published["preview"] and published["languages"].records
    assert published["pii/EMAIL"] >= 1 and published["removed/exact_dedup/exact_duplicate"] == 1
    assert all(passed for passed, _ in checks(second).values())
