"""The Ray engine on a real local Ray cluster (`ray start --head`, 2 CPUs): what it publishes is what the local
engine publishes, byte for byte, and an unreachable cluster is one clear error.

The cluster runs `ray start --block` in its own session and is stopped by signalling that process (it stops its own
node's processes), not with `ray stop`, which would stop every Ray process on the machine."""

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from commons_pipelines.settings import Settings

from .conftest import OTL
from .test_pipeline import run_nightly

RAY = Path(sys.executable).with_name("ray")
pytestmark = pytest.mark.ray


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_processes(sid: int) -> list[str]:
    ps = subprocess.run(["ps", "-eo", "sid=,pid=,args="], capture_output=True, text=True, check=True).stdout
    return [line for line in ps.splitlines() if line.split()[0] == str(sid)]


@pytest.fixture(scope="module")
def cluster():
    temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))  # short: Ray's unix sockets live under it
    port = free_port()
    ports = {f"--{name}-port": str(free_port()) for name in (
        "ray-client-server", "dashboard", "dashboard-agent-listen", "dashboard-agent-grpc", "runtime-env-agent",
        "metrics-export")}
    log = (temp / "start.log").open("w+")
    head = subprocess.Popen(
        [str(RAY), "start", "--head", "--block", "--num-cpus", "2", "--port", str(port), "--disable-usage-stats",
         "--temp-dir", str(temp), "--object-store-memory", str(200 * 1024 ** 2), "--include-dashboard", "false",
         *[x for pair in ports.items() for x in pair]],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while "will now block forever" not in (temp / "start.log").read_text():
            assert head.poll() is None and time.monotonic() < deadline, (temp / "start.log").read_text()[-3000:]
            time.sleep(0.2)
        yield f"127.0.0.1:{port}", temp
    finally:
        head.terminate()  # its SIGTERM handler stops the node's processes
        try:
            head.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        deadline = time.monotonic() + 30
        while session_processes(head.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = session_processes(head.pid)
        if left:
            os.killpg(head.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)
        assert not left, f"Ray processes left after the cluster stopped: {left}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def outcome(settings: Settings, source_id: str) -> dict:
    """What a run published and the curation's counts, moved aside so that the next run starts afresh."""
    published = settings.publish_dir / source_id / "current"
    data = published / "data"
    manifest = json.loads((settings.curated_dir / source_id / "current" / "manifest.json").read_text())
    result = {"hashes": pq.read_table(data, columns=["_row_sha256"]).column(0).to_pylist(),
              "shards": {p.name: sha256(p) for p in sorted(data.glob("*.parquet"))},
              "stages": manifest["stages"], "report": manifest["report"], "rows": manifest["rows"]}
    shutil.rmtree(settings.publish_dir / source_id)
    shutil.rmtree(settings.curated_dir / source_id)
    return result


def actors(temp: Path) -> list[str]:
    """The engine's actors the cluster started: each writes its class name at the top of its worker's log."""
    return [p.name for p in temp.glob("session_latest/logs/worker-*.out")
            if ":actor_name:_Prefix" in p.read_text(errors="replace")]


def test_ray_engine_publishes_what_the_local_engine_publishes(cluster, write_spec, tmp_path):
    address, temp = cluster
    spec = write_spec("open_textbooks", title="Open Textbook Library", licence="CC0-1.0",
                      files={"path": str(OTL), "format": "csv"}, text_columns=["Title", "Description"],
                      primary_key=["OTL ID"], where="subject_1 like 'Mathematics%'")  # 124 books, to be quick
    # batches of 20 rows: 7, the first 2 curated in process, the next 5 in the engine (local: 2 worker processes)
    env = {"COMMONS_HOME": str(tmp_path / "home"), "COMMONS_ALLOW_LOCAL_URLS": "1", "COMMONS_BATCH_ROWS": "20",
           "COMMONS_WORKERS": "2", "RAY_ADDRESS": address}
    # the same home: the second run ingests nothing new, so `_retrieved_at` (in the shards) is the first run's
    results = {}
    for engine in ("local", "ray"):
        run = run_nightly({spec.id: spec}, Settings.from_env({**env, "COMMONS_ENGINE": engine}))
        assert run.success, [e.message for e in run.all_events if e.is_failure]
        results[engine] = outcome(Settings.from_env(env), spec.id)
        assert len(actors(temp)) == (2 if engine == "ray" else 0), actors(temp)  # one actor a CPU
    local, ray = results["local"], results["ray"]
    assert local["rows"] == 124 and len(local["hashes"]) == 124 and local["shards"]
    assert ray["hashes"] == local["hashes"]
    assert ray["shards"] == local["shards"]
    assert ray["stages"] == local["stages"] and ray["report"] == local["report"]
    pii = {s["stage"]: s for s in local["stages"]}["pii"]
    assert pii["rows_in"] == 124 and local["report"]["pii"], "the counts made in the engine came back"


def test_engine_ray_without_a_reachable_cluster_is_one_clear_error(write_spec, tmp_path):
    spec = write_spec("unreachable", files={"path": str(OTL), "format": "csv"})
    port = free_port()  # nothing listens there
    settings = Settings.from_env({"COMMONS_HOME": str(tmp_path / "home"), "COMMONS_ALLOW_LOCAL_URLS": "1",
                                  "COMMONS_ENGINE": "ray", "RAY_ADDRESS": f"127.0.0.1:{port}",
                                  "COMMONS_BATCH_ROWS": "400"})
    run = run_nightly({spec.id: spec}, settings)
    assert not run.success
    failure = "\n".join(str(e.message) + str(getattr(e.event_specific_data, "error", "")) for e in run.all_events
                        if e.is_failure)
    assert f"RAY_ADDRESS='127.0.0.1:{port}'" in failure and "no Ray cluster reachable" in failure
    assert not (settings.publish_dir / spec.id).exists()


def test_an_unknown_engine_names_the_variable_and_the_allowed_values():
    with pytest.raises(ValueError, match=r"COMMONS_ENGINE='spark': allowed values are 'local' and 'ray'"):
        Settings.from_env({"COMMONS_ENGINE": "spark"})
