"""Publishing to an object store (COMMONS_PUBLISH_DIR=s3://bucket/prefix) against a real S3 server: moto's, started on
loopback for this module. The whole nightly publishes there what it publishes to a local folder; a second run with a
change makes v2, an unchanged one nothing; a crash (SIGKILL at a failpoint, in a subprocess) leaves the old version
live and the next publish repairs; a missing bucket or a bad endpoint is one line naming the URL, never a secret."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from commons_pipelines.curate.takedown import Entry, add_entry
from commons_pipelines.publish import ObjectTarget, StoreError, publish
from commons_pipelines.publish.erase import purge
from commons_pipelines.publish.previous import live_table, previous_rows
from commons_pipelines.settings import Settings
from commons_pipelines.spec import load_catalog

from .conftest import BUCKET, KEY_ID, ROOT, SECRET
from .kill_harness import SOURCE, change, workspace
from .test_cli import invoke
from .test_pipeline import published, run_nightly
from .test_publish_release import SMALL, STAGES, make_spec, write_curated
from .test_publish_shards import otl_table

def settings_for(ws: Path, publish_dir: str | None = None) -> Settings:
    env = {"COMMONS_HOME": str(ws / "home"), "COMMONS_RETRIES": "0", "COMMONS_WORKERS": "1"}
    return Settings.from_env(env | ({"COMMONS_PUBLISH_DIR": publish_dir} if publish_dir else {}))


def objects(fs, prefix: str) -> dict[str, bytes]:
    paths = fs.find(prefix)
    return {path[len(prefix) + 1:]: data for path, data in (fs.cat(paths).items() if paths else ())}


def names(fs, prefix: str) -> list[str]:
    return [path[len(prefix) + 1:] for path in fs.find(prefix)]


def events_text(result) -> str:
    """Every event's message and the published asset's metadata."""
    return "\n".join(str(e.message) for e in result.all_events) + repr(published(result, SOURCE))


def unmeasured(data: bytes) -> bytes:
    """The card without the measured cost of its checks (rows `| check ...` of its compute table)."""
    return re.sub(rb"(?m)^\| check [^|]*\|.*$", b"| check (measured) |", data)


@pytest.fixture(scope="module")
def nightly(s3, tmp_path_factory):
    """One workspace: a nightly to a local folder, then the same nightly (its curation reused) to the bucket."""
    ws = workspace(tmp_path_factory.mktemp("s3") / "ws")
    specs = load_catalog(ws / "catalog")
    local = run_nightly(specs, settings_for(ws))
    remote = run_nightly(specs, settings := settings_for(ws, f"s3://{BUCKET}/commons/"))
    return SimpleNamespace(ws=ws, specs=specs, settings=settings, local=local, remote=remote)


def test_the_nightly_publishes_to_the_bucket_what_it_publishes_to_a_folder(s3, nightly):
    assert nightly.local.success and nightly.remote.success
    assert nightly.settings.publish_dir == f"s3://{BUCKET}/commons"
    md = published(nightly.remote, SOURCE)
    assert (md["version"], md["changed"]) == ("v1", True)
    assert md["location"] == f"s3://{BUCKET}/commons/{SOURCE}/versions/v1"

    folder = nightly.ws / "home" / "published" / SOURCE / "versions" / "v1"
    here = {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    there = objects(s3.fs, f"{BUCKET}/commons/{SOURCE}/versions/v1")
    assert sorted(there) == sorted(here) and any(name.startswith("data/") for name in there)
    assert {"README.md", "croissant.json", "version.json"} <= set(there)
    dates = [json.loads(files["version.json"])["date"] for files in (here, there)]
    for name, data in here.items():  # byte for byte, but the publication date and the checks' compute (they ran again)
        assert unmeasured(there[name].replace(dates[1].encode(), dates[0].encode())) == unmeasured(data), name
    assert unmeasured(here["README.md"]) != here["README.md"]  # the card has a compute table, and only it is masked
    assert json.loads(s3.fs.cat_file(f"{BUCKET}/commons/{SOURCE}/current.json")) == {"version": "v1"}

    every = b"".join(objects(s3.fs, f"{BUCKET}/commons").values()).decode("utf-8", "replace")
    assert SECRET not in every and KEY_ID not in every
    assert SECRET not in events_text(nightly.remote)


def test_a_missing_bucket_fails_in_one_line_naming_the_url_without_a_secret(s3, nightly, tmp_path):
    url = "s3://no-such-bucket/commons"
    with pytest.raises(StoreError) as caught:
        publish(make_spec(), write_curated(tmp_path / "c", otl_table().slice(0, 50)), STAGES, ObjectTarget(url))
    message = str(caught.value)
    assert message.startswith(f"{url}: ") and "bucket does not exist" in message and "\n" not in message
    assert SECRET not in message and KEY_ID not in message

    result = run_nightly(nightly.specs, settings_for(nightly.ws, url))  # its curation is reused
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    line = failure.step_failure_data.error.message
    assert f"not published, the current version stays live: {url}: " in line and SECRET not in events_text(result)


def test_a_change_makes_v2_and_moves_current_and_no_change_publishes_nothing(s3, nightly):
    prefix = f"{BUCKET}/commons/{SOURCE}"
    change(nightly.ws)
    second = run_nightly(nightly.specs, nightly.settings)
    assert second.success and (published(second, SOURCE)["version"], published(second, SOURCE)["changed"]) == (
        "v2", True)
    assert json.loads(s3.fs.cat_file(f"{prefix}/current.json")) == {"version": "v2"}
    target = ObjectTarget(nightly.settings.publish_dir)
    spec = nightly.specs[SOURCE]
    assert [v.name for v in target.history(spec)] == ["v1", "v2"]
    live = live_table(target, spec)
    assert "SN-2027-001" in live.column("notice_id").to_pylist()
    assert live.num_rows == sum(b.num_rows for b in previous_rows(target, spec, ["_row_sha256"]))

    before = objects(s3.fs, prefix)
    third = run_nightly(nightly.specs, nightly.settings)
    assert third.success and (published(third, SOURCE)["version"], published(third, SOURCE)["changed"]) == (
        "v2", False)
    assert objects(s3.fs, prefix) == before

    env = {**s3.env, "COMMONS_HOME": nightly.ws / "home", "COMMONS_CATALOG": nightly.ws / "catalog",
           "COMMONS_PUBLISH_DIR": nightly.settings.publish_dir}
    listed = invoke("versions", SOURCE, **env)
    assert listed.exit_code == 0 and f"2 version(s) in s3://{BUCKET}/commons/{SOURCE}" in listed.stdout
    diff = invoke("versions", SOURCE, "--diff", "v1", "v2", **env)
    assert diff.exit_code == 0, diff.stdout
    total = next(line.split() for line in diff.stdout.splitlines() if line.strip().startswith("total"))
    assert total[1:4] == ["1", "0", "1"]  # one notice added, none removed, one changed (its audience)

    erased = Entry("key", {"notice_id": "SN-2025-002"}, "a test request")  # in both versions
    add_entry(nightly.settings.takedown_dir, SOURCE, erased, spec.primary_key)
    assert list(purge(spec, nightly.settings)) == [f"{SOURCE}: removed v1 (they held erased rows); v2 is live"]
    assert [v.name for v in target.history(spec)] == ["v2"] and not names(s3.fs, f"{prefix}/versions/v1")


def kill_at(point: str, url: str, curated: list[Path]) -> subprocess.CompletedProcess:
    script = ("import sys; from pathlib import Path\n"
              "from commons_pipelines.publish import ObjectTarget, publish\n"
              "from commons_pipelines_tests.test_publish_release import SMALL, STAGES, make_spec\n"
              "publish(make_spec(), [Path(p) for p in sys.argv[2:]], STAGES, ObjectTarget(sys.argv[1]), **SMALL)\n")
    return subprocess.run([sys.executable, "-c", script, url, *map(str, curated)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False, env={**os.environ, "COMMONS_FAILPOINT": point})


@pytest.mark.parametrize("point", ["publish.uploaded", "publish.committed"])
def test_a_crash_before_the_pointer_leaves_v1_live_and_the_next_publish_repairs(s3, tmp_path, point):
    url, spec, table = f"s3://{BUCKET}/crash-{point.split('.')[1]}", make_spec(), otl_table()
    target = ObjectTarget(url)
    first = publish(spec, write_curated(tmp_path / "c1", table.slice(0, 300)), STAGES, target, **SMALL)
    second_input = write_curated(tmp_path / "c2", table.slice(0, 600))

    killed = kill_at(point, url, second_input)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    prefix = f"{BUCKET}/crash-{point.split('.')[1]}/{spec.id}"
    assert any(p.startswith("versions/v2/data/") for p in names(s3.fs, prefix))  # v2's shards are up
    assert target.live(spec) == "v1" and live_table(target, spec).num_rows == 300  # readers see v1
    complete = [v.name for v in target.history(spec)]
    assert complete == (["v1"] if point == "publish.uploaded" else ["v1", "v2"])

    target.repair(spec)
    assert target.live(spec) == complete[-1]
    left = names(s3.fs, prefix)
    assert {p.split("/")[1] for p in left if p.startswith("versions/")} == set(complete)  # incomplete v2 removed

    again = publish(spec, second_input, STAGES, target, **SMALL)
    assert (again.version, again.changed) == ("v2", point == "publish.uploaded")
    assert target.live(spec) == "v2" and live_table(target, spec).num_rows == 600

    with pytest.raises(ValueError, match="live version"):
        target.remove(spec, ["v2"])
    target.remove(spec, ["v1"])
    assert [v.name for v in target.history(spec)] == ["v2"] and first.version == "v1"
    assert not [p for p in names(s3.fs, prefix) if p.startswith("versions/v1/")]


def test_a_bad_endpoint_or_credentials_in_the_url_fail_in_one_line_without_a_secret(s3, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard: nothing listens
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore's retries with backoff take 10 s otherwise
    with pytest.raises(StoreError) as caught:
        ObjectTarget(f"s3://{BUCKET}/commons").history(make_spec())
    message = str(caught.value)
    assert message.startswith(f"s3://{BUCKET}/commons: ") and "127.0.0.1:9" in message and "\n" not in message
    assert SECRET not in message

    with pytest.raises(ValueError) as refused:
        ObjectTarget(f"s3://{KEY_ID}:{SECRET}@{BUCKET}/commons")
    assert "not in the URL" in str(refused.value) and SECRET not in str(refused.value)
