"""Steps on machines that share no volume (COMMONS_STORE_URL): the warehouse file and the curated folders are kept in
an object store, moto's S3 server on loopback. Two COMMONS_HOME folders play two machines: one ingests, the other
curates, checks and publishes from what the store holds, and publishes what one machine alone publishes; the first
then reuses the second's curation. Partitions staged on either machine are kept side by side and reused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from dagster import AssetKey, DagsterInstance

from commons_pipelines.orchestration import build_definitions
from commons_pipelines.orchestration.mirror import Mirror
from commons_pipelines.settings import Settings
from commons_pipelines.spec import load_catalog

from .conftest import BUCKET, KEY_ID, SECRET
from .kill_harness import SOURCE, change, workspace
from .test_pipeline import published

RAW, CURATED = AssetKey([SOURCE, "raw"]), AssetKey([SOURCE, "curated"])
STORE = f"s3://{BUCKET}/state"


def machine(ws: Path, name: str, store: str | None = STORE) -> Settings:
    env = {"COMMONS_HOME": str(ws / name), "COMMONS_RETRIES": "0", "COMMONS_WORKERS": "1",
           "COMMONS_PUBLISH_DIR": f"s3://{BUCKET}/published-{ws.name}"}
    return Settings.from_env(env | ({"COMMONS_STORE_URL": store} if store else {}))


def run(ws: Path, settings: Settings, keys: list[AssetKey] | None = None, partition: str | None = None,
        instance: DagsterInstance | None = None):
    defs = build_definitions(load_catalog(ws / "catalog"), settings)
    job = defs.resolve_job_def("nightly") if partition is None else defs.resolve_job_def(f"partitions_{SOURCE}")
    result = job.execute_in_process(asset_selection=keys, partition_key=partition, instance=instance,
                                    raise_on_error=False)
    assert result.success, [str(e.message) for e in result.all_events if e.is_failure]
    return result


def materialized(result, key: AssetKey) -> dict:
    [mat] = [e.materialization for e in result.get_asset_materialization_events() if e.asset_key == key]
    return {k: v.value for k, v in mat.metadata.items()}


def runs(s3, prefix: str) -> list[str]:
    return sorted(p.rsplit("/", 1)[-1] for p in s3.fs.ls(f"{BUCKET}/state/curated/{prefix}/runs"))


def test_one_machine_ingests_another_curates_and_publishes_what_one_machine_alone_publishes(s3, tmp_path):
    alone_ws, ws = workspace(tmp_path / "alone"), workspace(tmp_path / "two")
    alone = published(run(alone_ws, machine(alone_ws, "home", store=None)), SOURCE)

    a, b = machine(ws, "a"), machine(ws, "b")
    run(ws, a, [RAW])
    assert not (ws / "b").exists()
    second = run(ws, b, [CURATED, AssetKey([SOURCE, "published"])])
    assert published(second, SOURCE)["content_sha256"] == alone["content_sha256"]
    assert materialized(second, CURATED)["reused"] is False
    record = json.loads(s3.fs.cat_file(f"{BUCKET}/state/warehouse/{SOURCE}.json"))
    db = b.warehouse_dir / f"{SOURCE}.duckdb"
    assert db.read_bytes() == (a.warehouse_dir / f"{SOURCE}.duckdb").read_bytes()
    assert Path(f"{db}.copy").read_text() == record["copy"]
    [cid] = runs(s3, SOURCE)
    assert json.loads(s3.fs.cat_file(f"{BUCKET}/state/curated/{SOURCE}/current.json")) == {"run": cid}
    # the checks' verdicts, written after the curation, are in the store too
    assert s3.fs.exists(f"{BUCKET}/state/curated/{SOURCE}/runs/{cid}/checks/generic.json")

    # the first machine, which never curated, runs the whole nightly: nothing changed, so the curation it fetches
    # from the store is reused and the same version stays live
    again = run(ws, a)
    assert materialized(again, CURATED)["reused"] is True and materialized(again, CURATED)["curation"] == cid
    assert published(again, SOURCE)["changed"] is False
    assert (a.curated_dir / SOURCE / "current").resolve().name == cid

    # a change ingested on b is curated anew on a: the store keeps only the new curation
    change(ws)
    run(ws, b, [RAW])
    third = run(ws, a, [CURATED, AssetKey([SOURCE, "published"])])
    assert materialized(third, CURATED)["reused"] is False
    assert published(third, SOURCE)["version"] == "v2"
    assert runs(s3, SOURCE) == [materialized(third, CURATED)["curation"]]


def test_partitions_staged_on_two_machines_are_kept_side_by_side_and_reused(s3, tmp_path):
    """One Dagster instance (as a deployment shares its storage), two machines: each stages one file's partition;
    the curated step on either stages none again."""
    ws = workspace(tmp_path / "parts")
    path = ws / "catalog" / f"{SOURCE}.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**spec, "partitions": {"by": "file"}}, allow_unicode=True), encoding="utf-8")
    a, b = machine(ws, "a"), machine(ws, "b")
    with DagsterInstance.ephemeral() as instance:
        run(ws, a, [RAW], instance=instance)
        first, second = sorted(instance.get_dynamic_partitions(f"{SOURCE}_files"))
        run(ws, a, partition=first, instance=instance)
        run(ws, b, partition=second, instance=instance)
        staged = sorted(p.rsplit("/", 1)[-1] for p in s3.fs.ls(f"{BUCKET}/state/curated/{SOURCE}/partitions"))
        assert staged == [first, second]  # b kept its partition without removing a's
        assert not (b.curated_dir / SOURCE / "partitions" / first).exists()

        result = run(ws, b, [CURATED], instance=instance)
    anew = [e for e in result.get_asset_materialization_events() if e.asset_key == AssetKey([SOURCE, "staged"])]
    assert anew == []  # both partitions came from the store
    assert sorted(p.name for p in (b.curated_dir / SOURCE / "partitions").iterdir()) == [first, second]
    assert materialized(result, CURATED)["dagster/row_count"] > 0


def test_a_local_partition_the_store_no_longer_has_goes(s3, tmp_path):
    folder = tmp_path / "curated" / "src"
    for name in ("p1", "p2"):
        run_dir = folder / "partitions" / name / "runs" / f"r{name}"
        (run_dir / "data").mkdir(parents=True)
        (run_dir / "data" / "part-00000.parquet").write_bytes(b"rows of " + name.encode())
        (run_dir / "manifest.json").write_text("{}")
        (folder / "partitions" / name / "current").symlink_to(Path("runs") / f"r{name}", target_is_directory=True)
    mirror = Mirror(f"s3://{BUCKET}/unit-{tmp_path.name}")
    mirror.keep_curated(folder, "src")
    shutil.rmtree(folder / "partitions" / "p2")
    mirror.keep_curated(folder, "src")  # the store follows the folder: p2 removed there too
    other = tmp_path / "other" / "src"
    (other / "partitions" / "stale").mkdir(parents=True)
    assert mirror.fetch_curated(other, "src")
    assert sorted(p.name for p in (other / "partitions").iterdir()) == ["p1"]
    assert (other / "partitions" / "p1" / "current" / "data" / "part-00000.parquet").read_bytes() == b"rows of p1"


def test_the_store_url_must_be_an_object_store():
    with pytest.raises(ValueError, match="COMMONS_STORE_URL='/srv/shared': the URL of an object store"):
        Settings.from_env({"COMMONS_STORE_URL": "/srv/shared"})
    assert Settings.from_env({"COMMONS_STORE_URL": "s3://b/p/"}).store_url == "s3://b/p"
    with pytest.raises(ValueError, match="refused: credentials go in the environment"):
        Mirror("s3://key:secret@bucket/state")


def test_a_store_that_cannot_be_written_fails_the_ingest_in_one_line_naming_the_url_without_a_secret(s3, tmp_path):
    ws = workspace(tmp_path / "ws")
    settings = machine(ws, "a", store=f"s3://no-such-bucket-{tmp_path.name.lower()}/state")
    defs = build_definitions(load_catalog(ws / "catalog"), settings)
    result = defs.resolve_job_def("nightly").execute_in_process(raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    line = failure.step_failure_data.error.message.removeprefix("dagster._core.definitions.events.Failure: ")
    assert failure.step_key == f"ingest_{SOURCE}"
    assert line.startswith(f"{settings.store_url}: cannot keep {SOURCE}'s warehouse: ")
    assert line.rstrip("\n").endswith("bucket does not exist; the store keeps its last complete state")
    assert "\n" not in line.rstrip("\n")
    text = "\n".join(str(e.message) + str(e.event_specific_data) for e in result.all_events)
    assert KEY_ID not in text and SECRET not in text
    assert not published(result, SOURCE)
