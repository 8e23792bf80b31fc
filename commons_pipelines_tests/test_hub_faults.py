"""Hub faults through the emulator, with the real huggingface_hub client: every fault at every call a publish makes
still converges to exactly one new tagged version; a fault that lasts past the retry budget fails clearly and leaves
the previous version the newest tag; a crash between commit and tag is repaired; purge_history keeps one version.

Run with `-s` to see the table of faults injected and survived.
"""

import os

os.environ["HF_HUB_DISABLE_XET"] = "1"  # before huggingface_hub is imported, see hub_emulator's docstring

import hashlib
import logging
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from unittest.mock import ANY

import pytest
from huggingface_hub import CommitOperationAdd, HfApi, constants
from huggingface_hub.utils import _http

from commons_pipelines.publish import HubError, HubTarget, PublishConflict, Version, publish
from commons_pipelines.publish.hub import parse_trailer, set_request_timeout, version_trailer
from commons_pipelines.publish.previous import previous_rows
from commons_pipelines.publish.release import remote_staging
from commons_pipelines_tests.hub_emulator import serve
from commons_pipelines_tests.test_publish_release import SMALL, STAGES, make_spec, write_curated
from commons_pipelines_tests.test_publish_shards import otl_table

TOKEN = "hf_commons_fault_token_5b1c"
REPO = "commons/open_textbook_library"
TIMEOUT = 1.0  # the client's; "timeout" faults hold an answer 2 s
ROOT = Path(__file__).resolve().parents[1]

# (name, method, path regex) of every call a publish makes, in the order it makes them
CALLS = [
    ("refs", "GET", r"/refs$"),
    ("commits", "GET", r"/commits/"),
    ("preupload", "POST", r"/preupload/main$"),
    ("lfs-batch", "POST", r"/info/lfs/objects/batch$"),
    ("lfs-upload", "PUT", r"^/_emulator/lfs/"),
    ("commit", "POST", r"/commit/main$"),
    ("tag", "POST", r"/tag/"),
]
FAULTS = [429, 500, 502, 503, "reset", "timeout"]
TABLE: list[tuple[str, str, int, str]] = []  # (call, fault, injected, outcome)


class Naps:
    """Stands for huggingface_hub's own retry sleeps: records them instead of sleeping."""

    def __init__(self):
        self.taken: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.taken.append(seconds)


@pytest.fixture(scope="module", autouse=True)
def table():
    """Print the table of faults (with -s); benchmarks/faults.py has it written to FAULTS_TABLE."""
    yield
    if TABLE:
        rows = [f"| {call} | {fault} | {injected} | {outcome} |" for call, fault, injected, outcome in TABLE]
        text = "| call | fault | injected | outcome |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"
        print("\n\n" + text)
        if os.environ.get("FAULTS_TABLE"):
            Path(os.environ["FAULTS_TABLE"]).write_text(text, encoding="utf-8")


@pytest.fixture
def naps(monkeypatch):
    taken = Naps()
    monkeypatch.setattr(_http, "time", taken)
    return taken


@pytest.fixture
def hub(tmp_path, monkeypatch, naps):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    yield from serve(tokens={TOKEN: "commons"})
    set_request_timeout(None)  # the timeout is process-wide: give other tests huggingface_hub's defaults back


@pytest.fixture
def target(hub):
    return HubTarget(hub.url, token=TOKEN, attempts=4, wait=0.001, max_wait=2.0, timeout=TIMEOUT)


@pytest.fixture
def inputs(tmp_path):
    table = otl_table()
    return [write_curated(tmp_path / f"c{i}", table.slice(0, rows)) for i, rows in enumerate((200, 400, 300), 1)]


def trailer_names(hub) -> list[str]:
    return [parse_trailer(f"{c.title}\n{c.message}").get("version", "") for c in hub.commits(REPO)]


def assert_converged(hub, target, results) -> None:
    """Exactly one tagged commit per version, with the published shards, and nothing else named a version."""
    spec = make_spec()
    assert hub.refs(REPO)["tags"] == {r.version: r.ref for r in results}
    assert sorted(name for name in trailer_names(hub) if name) == sorted(r.version for r in results)
    for result in results:
        files = hub.files(REPO, revision=result.version)
        data = {path: f for path, f in files.items() if path.startswith("data/")}
        assert [(p, hashlib.sha256(f.data).hexdigest()) for p, f in sorted(data.items())] == [
            (s.path, s.sha256) for s in result.shards]
        assert {"README.md", "croissant.json"} <= set(files)
    assert [(v.name, v.content_sha256, v.ref) for v in target.history(spec)] == [
        (r.version, r.content_sha256, r.ref) for r in results]


def cases():
    for name, method, path in CALLS:
        for fault in FAULTS:
            yield pytest.param(name, method, path, fault, "before", id=f"{name}-{fault}")
    for name, method, path in CALLS:
        if name in ("commit", "tag"):  # the call lands, its answer is lost: the ambiguous case
            for fault in (502, "reset", "timeout"):
                yield pytest.param(name, method, path, fault, "after", id=f"{name}-{fault}-after-landing")
    yield pytest.param("commit", "POST", r"/commit/main$", "conflict", "before", id="commit-conflict")


@pytest.mark.parametrize("call, method, path, fault, when", list(cases()))
def test_a_fault_at_each_call_still_publishes_one_version(hub, target, inputs, caplog, call, method, path, fault,
                                                         when):
    spec = make_spec()
    first = publish(spec, inputs[0], STAGES, target, **SMALL)
    injected = hub.inject(method, path, fault, when=when, delay=2.0)

    second = None
    try:
        second = publish(spec, inputs[1], STAGES, target, **SMALL)
    finally:
        label = f"{fault} after it landed" if when == "after" else str(fault)
        TABLE.append((call, label, injected.fired, "v2 published" if second else "FAILED"))
    assert injected.fired == 1
    assert (second.changed, second.version, second.rows) == (True, "v2", 400)
    assert len(second.shards) == 2  # two LFS uploads, in parallel
    assert_converged(hub, target, [first, second])
    if when == "after" and call == "commit":  # found on main, not committed twice
        assert "v2 landed although its commit call failed" in caplog.text
    if when == "after" and call == "tag":  # the retry met its own tag
        lost = 502 if fault == 502 else 0  # 0: no answer at all
        assert [status for _, path, status in hub.requests if "/tag/" in path] == [200, lost, 409]  # v1's, v2's


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_while_reading_the_previous_version_back(hub, target, inputs, fault):
    spec = make_spec()
    publish(spec, inputs[0], STAGES, target, **SMALL)
    injected = hub.inject("GET HEAD", r"/resolve/", fault, delay=2.0)
    rows = None
    try:
        rows = sum(batch.num_rows for batch in previous_rows(target, spec, ["Title"]))
    finally:
        TABLE.append(("resolve (download)", str(fault), injected.fired, "v1 read back" if rows else "FAILED"))
    assert injected.fired == 1 and rows == 200


def test_retry_after_is_honoured_by_both_retry_layers(hub, target, inputs, naps):
    spec = make_spec()
    publish(spec, inputs[0], STAGES, target, **SMALL)
    hub.inject("GET", r"/refs$", 429, retry_after=1)  # retried here (tenacity)
    started = time.monotonic()
    assert [v.name for v in target.history(spec)] == ["v1"]
    assert time.monotonic() - started >= 1.0  # waits are 1 ms otherwise

    hub.inject("POST", r"/preupload/main$", 429, retry_after=3)  # retried inside huggingface_hub
    assert publish(spec, inputs[1], STAGES, target, **SMALL).version == "v2"
    assert 4.0 in naps.taken  # its Retry-After + 1 s


PERSISTENT = [
    ("refs", "GET", r"/refs$", "timeout"),
    ("preupload", "POST", r"/preupload/main$", "reset"),
    ("lfs-upload", "PUT", r"^/_emulator/lfs/", 503),
    ("commit", "POST", r"/commit/main$", 503),
    ("commit", "POST", r"/commit/main$", 429),
]


@pytest.mark.parametrize("call, method, path, fault", PERSISTENT, ids=[f"{c}-{f}" for c, _, _, f in PERSISTENT])
def test_a_lasting_fault_fails_clearly_and_the_previous_version_stays(hub, target, inputs, caplog, call, method,
                                                                      path, fault):
    spec = make_spec()
    first = publish(spec, inputs[0], STAGES, target, **SMALL)
    retry_after = 0 if fault == 429 else None  # a 1 s Retry-After per attempt would only slow the test
    injected = hub.inject(method, path, fault, times=None, retry_after=retry_after, delay=2.0)

    with caplog.at_level(logging.DEBUG), pytest.raises(HubError) as caught:
        publish(spec, inputs[1], STAGES, target, **SMALL)
    error = caught.value
    TABLE.append((call, f"{fault}, lasting", injected.fired, "HubError, v1 still newest"))
    message = str(error)
    assert "\n" not in message and message.startswith(f"{REPO}: ")
    assert "gave up after" in message
    assert error.__cause__ is None and error.__context__ is None
    for text in (message, repr(error), caplog.text):
        assert TOKEN not in text
    assert injected.fired >= 4

    hub.clear_faults()
    assert hub.refs(REPO)["tags"] == {"v1": first.ref}
    assert hub.refs(REPO)["branches"]["main"] == first.ref  # nothing partial: no commit either
    assert [v.name for v in target.history(spec)] == ["v1"]


def test_a_commit_whose_tag_keeps_failing_is_tagged_by_the_next_run(hub, target, inputs):
    spec = make_spec()
    first = publish(spec, inputs[0], STAGES, target, **SMALL)
    hub.inject("POST", r"/tag/", 503, times=None)
    with pytest.raises(HubError, match="tag v2"):
        publish(spec, inputs[1], STAGES, target, **SMALL)
    hub.clear_faults()
    assert hub.refs(REPO)["tags"] == {"v1": first.ref}  # v1 is still the newest version
    assert trailer_names(hub)[0] == "v2"  # main is one untagged commit ahead

    again = publish(spec, inputs[1], STAGES, target, **SMALL)  # repair tags it; the data is then unchanged
    assert (again.changed, again.version) == (False, "v2")
    assert hub.refs(REPO)["tags"]["v2"] == hub.commits(REPO)[0].id == again.ref


def test_repair_tags_an_untagged_version_and_is_idempotent(hub, target, inputs):
    spec = make_spec()
    publish(spec, inputs[0], STAGES, target, **SMALL)
    second = publish(spec, inputs[1], STAGES, target, **SMALL)
    HfApi(endpoint=hub.url, token=TOKEN).delete_tag(REPO, tag="v2", repo_type="dataset")  # as a crash leaves it
    target.repair(spec)
    assert hub.refs(REPO)["tags"]["v2"] == second.ref
    tags_created = sum(1 for method, path, _ in hub.requests if method == "POST" and "/tag/" in path)
    target.repair(spec)
    assert sum(1 for method, path, _ in hub.requests if method == "POST" and "/tag/" in path) == tags_created


def test_a_conflict_raises_publish_conflict_for_the_caller(hub, target, inputs, tmp_path):
    spec = make_spec()
    publish(spec, inputs[0], STAGES, target, **SMALL)
    staged = tmp_path / "staged"
    (staged / "data").mkdir(parents=True)
    (staged / "data" / "train-00000-of-00001.parquet").write_bytes(inputs[1][0].read_bytes())
    hub.inject("POST", r"/commit/main$", "conflict")
    version = Version("v2", "f" * 64, 1, "2030-01-01T00:00:00Z")
    with pytest.raises(PublishConflict, match="412"):
        target.commit(spec, staged, version, "Publish v2")
    assert hub.refs(REPO)["tags"].keys() == {"v1"} and "v2" not in trailer_names(hub)


def run_killed_at(hub, point: str, curated: list[Path]) -> subprocess.CompletedProcess:
    script = (
        "import sys; from pathlib import Path\n"
        "from commons_pipelines.publish import HubTarget, publish\n"
        "from commons_pipelines_tests.test_publish_release import SMALL, STAGES, make_spec\n"
        "publish(make_spec(), [Path(p) for p in sys.argv[2:]], STAGES, HubTarget(sys.argv[1]), **SMALL)\n"
    )
    env = {**os.environ, **hub.env(), "HF_TOKEN": TOKEN, "COMMONS_FAILPOINT": point}
    with subprocess.Popen([sys.executable, "-c", script, hub.url, *map(str, curated)], env=env, cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        out, err = process.communicate(timeout=300)
    killed = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    killed.staged = list(remote_staging(make_spec()).glob(f".publish-{process.pid}-*"))
    return killed


def test_killed_between_commit_and_tag_the_next_run_finishes(hub, target, inputs):
    spec = make_spec()
    first = publish(spec, inputs[0], STAGES, target, **SMALL)
    killed = run_killed_at(hub, "publish.committed", inputs[1])
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert hub.refs(REPO)["tags"] == {"v1": first.ref} and trailer_names(hub)[0] == "v2"

    assert killed.staged  # a killed process cannot remove its staged version: the next publish does
    again = publish(spec, inputs[1], STAGES, target, **SMALL)
    assert (again.changed, again.version) == (False, "v2")
    assert not any(path.exists() for path in killed.staged)
    assert hub.refs(REPO)["tags"] == {"v1": first.ref, "v2": hub.commits(REPO)[0].id}
    assert TOKEN not in killed.stderr + killed.stdout


def test_killed_after_the_upload_the_next_run_commits_without_uploading_again(hub, target, inputs):
    spec = make_spec()
    first = publish(spec, inputs[0], STAGES, target, **SMALL)
    killed = run_killed_at(hub, "publish.uploaded", inputs[1])
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert hub.refs(REPO)["branches"]["main"] == first.ref and len(hub.lfs_objects(REPO)) == 3  # v1's + v2's two

    uploads = Counter(method for method, _, _ in hub.requests)["PUT"]
    second = publish(spec, inputs[1], STAGES, target, **SMALL)
    assert Counter(method for method, _, _ in hub.requests)["PUT"] == uploads  # already stored
    assert_converged(hub, target, [first, second])


def test_purge_history_keeps_only_the_kept_version(hub, target, inputs):
    spec = make_spec()
    results = [publish(spec, curated, STAGES, target, **SMALL) for curated in inputs]
    keep = target.history(spec)[-1]
    old = [r.ref for r in results[:-1]]
    kept_files = {p: f.sha256 for p, f in hub.files(REPO, revision="v3").items()}
    hub.inject("POST", r"/super-squash/main$", 502, when="after")  # squashed, answer lost: squashed again
    hub.inject("DELETE", r"/tag/v1$", "reset", when="after")  # deleted, answer lost: 404 on the retry

    purged = target.purge_history(spec, keep)

    [head] = hub.commits(REPO)
    assert purged.ref == head.id and not head.parents
    assert hub.refs(REPO)["tags"] == {"v3": head.id}
    assert {p: f.sha256 for p, f in hub.files(REPO, revision="v3").items()} == kept_files
    v3_lfs = {f.sha256 for f in hub.files(REPO).values() if f.lfs}
    assert set(hub.lfs_objects(REPO)) == v3_lfs  # the older versions' files are gone
    for oid in old:
        with pytest.raises(Exception, match="Invalid rev id"):
            hub.files(REPO, revision=oid)
    assert [(v.name, v.content_sha256, v.rows, v.changelog, v.ref) for v in target.history(spec)] == [
        (keep.name, keep.content_sha256, keep.rows, keep.changelog, head.id)]

    assert target.purge_history(spec, purged) == purged  # nothing left to do
    assert len(hub.commits(REPO)) == 1
    follow = publish(spec, inputs[0], STAGES, target, **SMALL)  # publishing goes on from v3
    assert follow.version == "v4" and hub.refs(REPO)["tags"].keys() == {"v3", "v4"}


def test_purge_history_interrupted_after_the_squash_finishes_when_run_again(hub, target, inputs):
    spec = make_spec()
    for curated in inputs[:2]:
        publish(spec, curated, STAGES, target, **SMALL)
    keep = target.history(spec)[-1]
    hub.inject("DELETE", r"/tag/", 503, times=None)
    with pytest.raises(HubError, match="delete tag v1"):
        target.purge_history(spec, keep)
    hub.clear_faults()
    [head] = hub.commits(REPO)
    assert hub.refs(REPO)["tags"] == {"v1": ANY, "v2": keep.ref}  # squashed, the old tags still in place

    purged = target.purge_history(spec, keep)
    assert hub.refs(REPO)["tags"] == {"v2": head.id} == {"v2": purged.ref}
    assert hub.commits(REPO) == [head]  # not squashed twice


def test_purge_history_refuses_a_version_that_is_not_the_newest(hub, target, inputs):
    spec = make_spec()
    for curated in inputs[:2]:
        publish(spec, curated, STAGES, target, **SMALL)
    with pytest.raises(PublishConflict, match="v1 is not main's head"):
        target.purge_history(spec, target.history(spec)[0])
    assert len(hub.refs(REPO)["tags"]) == 2


def test_trailer_carries_version_and_changelog_and_old_commits_still_parse(hub, target, inputs):
    spec = make_spec()
    api = HfApi(endpoint=hub.url, token=TOKEN)
    api.create_repo(REPO, repo_type="dataset")
    old = api.create_commit(REPO, [CommitOperationAdd("data/a.parquet", inputs[0][0].read_bytes())],
                            commit_message="Publish v1", repo_type="dataset",
                            commit_description="content-sha256: abc\nrows: 7\ndate: 2024-01-01T00:00:00Z\n")
    api.create_tag(REPO, tag="v1", revision=old.oid, repo_type="dataset")
    [v1] = target.history(spec)
    assert (v1.name, v1.content_sha256, v1.rows, v1.changelog) == ("v1", "abc", 7, "")

    second = publish(spec, inputs[1], STAGES, target, **SMALL)
    fields = parse_trailer(hub.commits(REPO)[0].message)
    assert fields["version"] == "v2" and fields["content-sha256"] == second.content_sha256
    assert target.history(spec)[-1].changelog == fields["changelog"] != ""

    sneaky = Version("v3", "abc", 5, "2030-01-01T00:00:00Z", changelog="5 rows.\nrows: 999")
    assert parse_trailer(version_trailer(sneaky)) == {
        "version": "v3", "content-sha256": "abc", "rows": "5", "date": "2030-01-01T00:00:00Z",
        "changelog": "5 rows. rows: 999"}  # one line: a changelog cannot forge another field


def test_a_client_error_is_not_retried(hub, target, inputs):
    spec = make_spec()
    publish(spec, inputs[0], STAGES, target, **SMALL)
    forbidden = hub.inject("GET", r"/refs$", 403, times=None)
    with pytest.raises(HubError) as caught:
        target.history(spec)
    assert caught.value.status == 403 and forbidden.fired == 1 and "gave up" not in str(caught.value)
