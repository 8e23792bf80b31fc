"""A source curated in partitions (`partitions: N`): the same rows published as without, only changed partitions
staged again, a partition run alone through its Dagster job, and the source-wide dedup over all partitions."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from dagster import (AssetKey, DagsterInstance, DagsterRunStatus, DagsterUnknownPartitionError, RunRequest,
                     build_run_status_sensor_context, build_sensor_context)

from commons_pipelines.curate.partitions import day_of, file_key, partition_of
from commons_pipelines.ingest.warehouse import read_records
from commons_pipelines.orchestration import build_definitions
from commons_pipelines.settings import Settings
from commons_pipelines.spec import SpecError, load_catalog

from .conftest import ROOT
from .kill_harness import SOURCE, workspace
from .test_pipeline import run_nightly

WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa".split()
SHARED = "This notice is sent to every family of the school whatever their class on the same day."


def sentence(seed: int) -> str:
    words = [WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(9)]
    return f"Notice {seed} tells the families that the {' '.join(words)} club meets on Tuesday."


def write_files(folder: Path, files: int = 8, rows: int = 5) -> None:
    """CSV files whose rows are all different but one, which every file holds (a duplicate across partitions)."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        lines = ["id,text", f"0,{SHARED}"] + [f"{f * 100 + r},{sentence(f * 100 + r)}" for r in range(1, rows)]
        (folder / f"notices-{f}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def home(tmp_path: Path, name: str, **env) -> Settings:
    """Curation in one process: a file is a batch, so each run would start a pool of two for 40 rows (3 CPU-s a
    worker). The pool has its own tests (test_curate, the French medicines end to end in test_pipeline)."""
    return Settings.from_env({"COMMONS_HOME": str(tmp_path / name), "COMMONS_ALLOW_LOCAL_URLS": "1",
                              "COMMONS_WORKERS": "1", **env})


def published_rows(settings: Settings, source_id: str) -> list[dict]:
    table = pq.read_table(settings.publish_dir / source_id / "current" / "data")
    return table.select(["id", "text", "_row_sha256"]).to_pylist()


def staged_runs(settings: Settings, source_id: str, count: int) -> list[str]:
    """The curation id each partition holds now."""
    folder = settings.curated_dir / source_id / "partitions"
    return [(folder / f"{k:03d}" / "current").resolve().name for k in range(count)]


@pytest.fixture
def sources(write_spec, tmp_path):
    src = tmp_path / "src"
    write_files(src)
    files = {"path": str(src), "glob": "*.csv", "format": "csv"}
    plain = write_spec("notices_plain", files=files)
    split = write_spec("notices_split", files=files, partitions=3)
    return plain, split, src


def test_partitions_publish_the_rows_an_unpartitioned_curation_publishes(sources, tmp_path):
    plain, split, src = sources
    assert len({partition_of(f"notices-{f}.csv", 3) for f in range(8)}) == 3, "the files fill every partition"
    a, b = home(tmp_path, "a"), home(tmp_path, "b")
    assert run_nightly({plain.id: plain}, a).success
    result = run_nightly({split.id: split}, b)
    assert result.success
    ours, theirs = published_rows(b, split.id), published_rows(a, plain.id)
    assert sorted(r["_row_sha256"] for r in ours) == sorted(r["_row_sha256"] for r in theirs)
    assert len(ours) == 8 * 4 + 1, "the row every file holds is published once: dedup ran over all partitions"
    staged = [e for e in result.get_asset_materialization_events() if e.asset_key == AssetKey([split.id, "staged"])]
    assert sorted(e.partition for e in staged) == ["000", "001", "002"]
    curated = [e.materialization for e in result.get_asset_materialization_events()
               if e.asset_key == AssetKey([split.id, "curated"])][0].metadata
    stages = {r.data["stage"]: r.data for r in curated["stages"].value.records}
    assert stages["ingest"]["rows_out"] == 8 * 5 and stages["exact_dedup"]["removed"] == 7
    assert stages["pii"]["rows_in"] == 8 * 5, "the row steps' counts of the partitions are added up"


def test_one_partition_runs_alone_and_a_changed_file_stages_its_partition_only(sources, tmp_path):
    _, split, src = sources
    settings = home(tmp_path, "h")
    defs = build_definitions({split.id: split}, settings)
    assert defs.resolve_job_def("nightly").execute_in_process(raise_on_error=False).success
    first = staged_runs(settings, split.id, 3)

    (settings.curated_dir / split.id / "partitions" / "001").rename(settings.curated_dir / "gone")
    run = defs.resolve_job_def(f"partitions_{split.id}").execute_in_process(partition_key="001", raise_on_error=False)
    assert run.success
    [event] = run.get_asset_materialization_events()
    assert event.asset_key == AssetKey([split.id, "staged"]) and event.partition == "001"
    again = staged_runs(settings, split.id, 3)
    assert again[0] == first[0] and again[2] == first[2] and again[1] != first[1]
    assert run_nightly({split.id: split}, settings).success
    assert staged_runs(settings, split.id, 3) == again, "the nightly reuses the partition the job staged"

    changed = src / "notices-5.csv"
    changed.write_text(changed.read_text(encoding="utf-8") + f"999,{sentence(999)}\n", encoding="utf-8")
    assert run_nightly({split.id: split}, settings).success
    after = staged_runs(settings, split.id, 3)
    k = partition_of(changed.name, 3)
    assert after[k] != again[k]
    assert [a for i, a in enumerate(after) if i != k] == [b for i, b in enumerate(again) if i != k]
    assert "999" in {str(r["id"]) for r in published_rows(settings, split.id)}


def test_partition_runs_stage_the_changed_partitions_in_runs_of_their_own_then_finish(sources, tmp_path):
    """COMMONS_PARTITION_RUNS=1: the nightly ingests only; its sensor asks for a run per partition to stage, the
    other sensor for the finishing run once all succeeded; the same rows are published as by the in-step nightly.
    Then nothing changed: no partition run, the finishing run at once; then one file changed: its partition only."""
    _, split, src = sources
    reference = home(tmp_path, "ref")
    assert run_nightly({split.id: split}, reference).success
    settings = home(tmp_path, "runs", COMMONS_PARTITION_RUNS="1")
    defs = build_definitions({split.id: split}, settings)
    raw, curated = AssetKey([split.id, "raw"]), AssetKey([split.id, "curated"])
    stage_sensor = defs.resolve_sensor_def(f"{split.id}_partition_runs")
    finish_sensor = defs.resolve_sensor_def(f"{split.id}_after_partitions")
    with DagsterInstance.ephemeral() as instance:
        def nightly(cursor=None):
            result = defs.resolve_job_def("nightly").execute_in_process(instance=instance, raise_on_error=False)
            assert result.success
            assert {e.asset_key for e in result.get_asset_materialization_events()} == {raw}
            assert {c.check_name for c in result.get_asset_check_evaluations()} == {"listing"}
            return stage_sensor.evaluate_tick(build_sensor_context(instance=instance, definitions=defs,
                                                                   cursor=cursor))

        def run(request):
            result = defs.resolve_job_def(request.job_name).execute_in_process(
                instance=instance, partition_key=request.partition_key, tags=request.tags, raise_on_error=False)
            assert result.success
            return result

        tick = nightly()
        assert sorted(r.partition_key for r in tick.run_requests) == ["000", "001", "002"]
        assert {r.job_name for r in tick.run_requests} == {f"partitions_{split.id}"}
        answers = []
        for request in tick.run_requests:
            done = run(request)
            answers.append(finish_sensor(build_run_status_sensor_context(
                sensor_name=finish_sensor.name, dagster_instance=instance, dagster_run=done.dagster_run,
                dagster_event=done.get_run_success_event())))
        assert [type(a).__name__ for a in answers] == ["SkipReason", "SkipReason", "RunRequest"]
        finish = run(RunRequest(job_name=f"finish_{split.id}", tags=answers[-1].tags))
        assert not [e for e in finish.get_asset_materialization_events() if e.asset_key.path[-1] == "staged"]
        assert {c.check_name for c in finish.get_asset_check_evaluations()} >= {"generic_suite"}
        assert published_rows(settings, split.id) == published_rows(reference, split.id)
        first = staged_runs(settings, split.id, 3)

        tick = nightly(tick.cursor)
        [request] = tick.run_requests
        assert request.job_name == f"finish_{split.id}" and request.partition_key is None
        [mat] = [e.materialization for e in run(request).get_asset_materialization_events() if e.asset_key == curated]
        assert mat.metadata["reused"].value is True

        changed = src / "notices-5.csv"
        changed.write_text(changed.read_text(encoding="utf-8") + f"999,{sentence(999)}\n", encoding="utf-8")
        tick = nightly(tick.cursor)
        assert [r.partition_key for r in tick.run_requests] == [f"{partition_of(changed.name, 3):03d}"]
        run(tick.run_requests[0])
        after = staged_runs(settings, split.id, 3)
        assert sum(a != b for a, b in zip(after, first)) == 1


@pytest.mark.slow
def test_under_the_dagster_daemon_the_nightly_s_partitions_run_apart_then_the_source_is_finished(tmp_path):
    """The real daemon (`dagster-daemon run`) over workspace.yaml, and the nightly run here on the same instance: it
    ingests; the daemon's sensors launch a run per partition, then the finishing run, which publishes."""
    ws = workspace(tmp_path / "ws")
    path = ws / "catalog" / f"{SOURCE}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "partitions: 2\n", encoding="utf-8")
    dagster_home = ws / "dagster"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\nconcurrency:\n  pools:\n"
                                               "    default_limit: 1\n")
    env = {"DAGSTER_HOME": str(dagster_home), "COMMONS_HOME": str(ws / "home"), "COMMONS_CATALOG": str(ws / "catalog"),
           "COMMONS_PARTITION_RUNS": "1", "COMMONS_RETRIES": "0"}
    with DagsterInstance.from_config(str(dagster_home)) as instance:  # its storage made before the daemon starts
        daemon = subprocess.Popen([str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
                                  cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            defs = build_definitions(load_catalog(ws / "catalog"), Settings.from_env(env))
            assert defs.resolve_job_def("nightly").execute_in_process(instance=instance).success
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                runs = instance.get_runs()
                if any(r.status == DagsterRunStatus.FAILURE for r in runs) or any(
                        r.job_name == f"finish_{SOURCE}" and r.status == DagsterRunStatus.SUCCESS for r in runs):
                    break
                time.sleep(1)
            seen = sorted((r.job_name, r.tags.get("dagster/partition", ""), r.status.value) for r in runs)
            # a job of one source runs its steps in its run's process: no process per step
            pids = [len({e.dagster_event.pid for e in instance.all_logs(r.run_id)
                         if e.is_dagster_event and e.dagster_event.is_step_success}) for r in runs]
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait(60)
    assert seen == [(f"finish_{SOURCE}", "", "SUCCESS"), ("nightly", "", "SUCCESS"),
                    (f"partitions_{SOURCE}", "000", "SUCCESS"), (f"partitions_{SOURCE}", "001", "SUCCESS")], seen
    assert pids == [1] * 4, pids
    # the rows: as the in-step nightly's (the test above); here, that the finishing run published them
    settings = Settings.from_env({"COMMONS_HOME": str(ws / "home")})
    assert (settings.publish_dir / SOURCE / "current").resolve().name == "v1"
    assert pq.read_table(settings.publish_dir / SOURCE / "current" / "data").num_rows > 0


def test_partitions_must_be_two_or_more(write_spec, tmp_path):
    with pytest.raises(SpecError, match="partitions"):
        write_spec("one_part", files={"path": str(tmp_path), "format": "csv"}, partitions=1)


DATED = {f"notices-2024-03-0{1 + f % 3}-{f}.csv": f for f in range(6)} | {"20240304/notices-6.csv": 6}
"""Files with a day in their path (YYYY-MM-DD or YYYYMMDD): three files on one day, two on others, one alone."""


def write_dated(folder: Path) -> None:
    for name, f in DATED.items():
        lines = ["id,text", f"0,{SHARED}"] + [f"{f * 100 + r},{sentence(f * 100 + r)}" for r in range(1, 5)]
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def staged_now(settings: Settings, source_id: str) -> dict[str, str]:
    """The curation id each partition folder holds now, by partition key."""
    folder = settings.curated_dir / source_id / "partitions"
    return {p.name: (p / "current").resolve().name for p in sorted(folder.iterdir())}


def staged_events(result, source_id: str) -> list[str]:
    return sorted(e.partition for e in result.get_asset_materialization_events()
                  if e.asset_key == AssetKey([source_id, "staged"]))


def test_partitions_by_file_and_by_date_are_dynamic_and_follow_the_files(write_spec, tmp_path):
    src = tmp_path / "src"
    write_dated(src)
    files = {"path": str(src), "glob": "**/*.csv", "format": "csv"}
    specs = {s.id: s for s in [write_spec("dated_plain", files=files),
                               write_spec("dated_files", files=files, partitions={"by": "file"}),
                               write_spec("dated_days", files=files, partitions={"by": "date"})]}
    settings = home(tmp_path, "h")
    defs = build_definitions(specs, settings)
    keys = {"dated_files": sorted(file_key(n) for n in DATED),
            "dated_days": ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"]}
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("nightly").execute_in_process(instance=instance, raise_on_error=False)
        assert result.success
        held = {s: sorted(instance.get_dynamic_partitions(f"{s}_{'files' if s == 'dated_files' else 'days'}"))
                for s in keys}
        assert held == {s: sorted(k) for s, k in keys.items()}
        assert {s: staged_events(result, s) for s in keys} == {s: sorted(k) for s, k in keys.items()}
        plain = sorted(r["_row_sha256"] for r in published_rows(settings, "dated_plain"))
        assert len(plain) == 7 * 4 + 1, "the row every file holds is published once"
        for s in keys:
            assert sorted(r["_row_sha256"] for r in published_rows(settings, s)) == plain, s
        before = {s: staged_now(settings, s) for s in keys}

        changed, removed = src / "notices-2024-03-02-4.csv", src / "20240304" / "notices-6.csv"
        changed.write_text(changed.read_text(encoding="utf-8") + f"999,{sentence(999)}\n", encoding="utf-8")
        removed.unlink()
        result = defs.resolve_job_def("nightly").execute_in_process(instance=instance, raise_on_error=False)
        assert result.success
        assert staged_events(result, "dated_files") == [changed.name]
        assert staged_events(result, "dated_days") == ["2024-03-02"], "the day's other files are staged again too"
        gone = {"dated_files": file_key("20240304/notices-6.csv"), "dated_days": "2024-03-04"}
        for s, key in gone.items():
            assert key not in instance.get_dynamic_partitions(f"{s}_{'files' if s == 'dated_files' else 'days'}")
            after = staged_now(settings, s)
            assert key not in after, "the vanished file's partition folder is dropped"
            restaged = {k for k in after if after[k] != before[s][k]}
            assert restaged == {changed.name if s == "dated_files" else "2024-03-02"}, s
            assert "999" in {str(r["id"]) for r in published_rows(settings, s)}
        plain = sorted(r["_row_sha256"] for r in published_rows(settings, "dated_plain"))
        for s in keys:
            assert sorted(r["_row_sha256"] for r in published_rows(settings, s)) == plain, s

        folder = settings.curated_dir / "dated_days" / "partitions" / "2024-03-01"
        folder.rename(tmp_path / "gone")
        run = defs.resolve_job_def("partitions_dated_days").execute_in_process(
            instance=instance, partition_key="2024-03-01", raise_on_error=False)
        assert run.success
        [event] = run.get_asset_materialization_events()
        assert event.asset_key == AssetKey(["dated_days", "staged"]) and event.partition == "2024-03-01"
        assert (folder / "current").exists()
        with pytest.raises(DagsterUnknownPartitionError):  # a partition whose files vanished is no key any more
            job = defs.resolve_job_def("partitions_dated_days")
            job.execute_in_process(instance=instance, partition_key=gone["dated_days"])


def test_a_file_without_a_date_stops_the_ingest_naming_the_file_and_the_pattern(write_spec, tmp_path):
    src = tmp_path / "src"
    write_dated(src)
    spec = write_spec("dated_bad", files={"path": str(src), "glob": "*.csv", "format": "csv"},
                      partitions={"by": "date", "pattern": r"(?P<year>\d{4})-(?P<month>\d\d)-(?P<day>\d\d)"})
    settings = home(tmp_path, "h")
    defs, raw = build_definitions({spec.id: spec}, settings), [AssetKey([spec.id, "raw"])]
    with DagsterInstance.ephemeral() as instance:
        def ingest():
            return defs.resolve_job_def("nightly").execute_in_process(instance=instance, asset_selection=raw,
                                                                      raise_on_error=False)
        assert ingest().success
        db = settings.warehouse_dir / f"{spec.id}.duckdb"
        landed = sum(b.num_rows for b in read_records(db))
        assert landed == 6 * 5
        (src / "notices-latest.csv").write_text(f"id,text\n1,{sentence(1)}\n", encoding="utf-8")
        result = ingest()
        assert not result.success
        [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        message = str(failure.event_specific_data.error)
        assert "'notices-latest.csv'" in message and r"(?P<year>\\d{4})-(?P<month>" in message, message
        assert "dated_bad.yaml" in message, "the message names the YAML"
        assert sum(b.num_rows for b in read_records(db)) == landed, "nothing landed, nothing lost"
        assert sorted(instance.get_dynamic_partitions("dated_bad_days")) == ["2024-03-01", "2024-03-02", "2024-03-03"]


@pytest.mark.parametrize("partitions, error", [
    ({"by": "hash"}, "'partitions': by: Input should be 'file' or 'date'"), ("file", "write a number of partitions"),
    ({"by": "file", "pattern": "x"}, "for `by: date` only"),
    ({"by": "date", "pattern": "(?P<year>\\d{4})"}, "missing: day, month"),
    ({"by": "date", "pattern": "(["}, "not a regular"),
])
def test_partitions_spec_errors(write_spec, tmp_path, partitions, error):
    with pytest.raises(SpecError, match=re.escape(error)):
        write_spec("bad_parts", files={"path": str(tmp_path), "format": "csv"}, partitions=partitions)


def test_file_keys_are_readable_safe_and_unique():
    assert file_key("notices-5.csv") == "notices-5.csv"
    odd = ["a/b c.csv", "a_b_c.csv", "../x.csv", "a...b", "é.csv", "x" * 300]
    made = [file_key(f) for f in odd]
    assert len(set(made)) == len(odd) and made[1] == "a_b_c.csv" and made[0].startswith("a_b_c.csv-")
    assert all(re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}", k) and "..." not in k for k in made)
    assert day_of("logs/20240229.json") == "2024-02-29" and day_of("v/2024-13-01/2024-12-31.csv") == "2024-12-31"
