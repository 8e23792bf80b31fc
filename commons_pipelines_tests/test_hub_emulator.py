"""The real huggingface_hub / datasets clients against HubEmulator."""

import os

os.environ["HF_HUB_DISABLE_XET"] = "1"  # before huggingface_hub is imported, see hub_emulator's docstring

import hashlib
import io
import json
from pathlib import Path

import datasets
import httpx2
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    DatasetCard,
    HfApi,
    HfFileSystem,
    constants,
    hf_hub_download,
    snapshot_download,
)
from huggingface_hub.errors import (
    BadRequestError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import get_session, hf_raise_for_status

from commons_pipelines_tests.hub_emulator import HubEmulator, serve

ALICE, BOB = "hf_alice_token", "hf_bob_token"
REPO = "alice/ds"
README = b"---\nlicense: cc-by-4.0\n---\n# Test dataset\n"


def parquet(**columns) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@pytest.fixture
def hub(tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))  # downloads out of ~/.cache
    yield from serve(tokens={ALICE: "alice", BOB: "bob"})


@pytest.fixture
def api(hub):
    return HfApi(endpoint=hub.url, token=ALICE)


@pytest.fixture
def published(api):
    """Private dataset with two tagged versions of a parquet file: (commit v1, commit v2, bytes v1, bytes v2)."""
    api.create_repo(REPO, repo_type="dataset", private=True, exist_ok=True)
    v1, v2 = parquet(x=[1, 2, 3]), parquet(x=[4, 5, 6, 7])
    c1 = api.create_commit(
        REPO,
        repo_type="dataset",
        commit_message="v1 data",
        operations=[CommitOperationAdd("README.md", README), CommitOperationAdd("data/train.parquet", v1)],
    )
    api.create_tag(REPO, tag="v1", revision=c1.oid, tag_message="first", repo_type="dataset")
    c2 = api.create_commit(
        REPO,
        repo_type="dataset",
        commit_message="v2 data",
        commit_description="more rows",
        operations=[CommitOperationAdd("data/train.parquet", v2)],
        parent_commit=c1.oid,
    )
    api.create_tag(REPO, tag="v2", repo_type="dataset")
    return c1.oid, c2.oid, v1, v2


def test_create_repo_is_idempotent_with_exist_ok(hub, api):
    url = api.create_repo(REPO, repo_type="dataset", exist_ok=True)
    assert (url.repo_id, url.repo_type) == (REPO, "dataset")
    api.create_repo(REPO, repo_type="dataset", exist_ok=True)
    with pytest.raises(HfHubHTTPError) as conflict:
        api.create_repo(REPO, repo_type="dataset")
    assert conflict.value.response.status_code == 409
    [initial] = hub.commits(REPO)
    assert (initial.title, initial.author, list(initial.files)) == ("initial commit", "system", [".gitattributes"])


def test_commit_stores_readme_as_regular_and_parquet_as_lfs(hub, published):
    _, _, _, v2 = published
    files = hub.files(REPO)
    assert not files["README.md"].lfs and files["README.md"].data == README
    assert files["data/train.parquet"].lfs and files["data/train.parquet"].data == v2
    assert set(hub.lfs_objects(REPO)) == {hashlib.sha256(v).hexdigest() for v in (parquet(x=[1, 2, 3]), v2)}
    uploads = [path for method, path, status in hub.requests if method == "PUT" and status == 200]
    verifies = [path for method, path, status in hub.requests if path.endswith("/lfs/objects/verify") and status == 200]
    assert len(uploads) == len(verifies) == 2 and all(path.startswith("/_emulator/lfs/") for path in uploads)


def test_downloads_by_tag_commit_and_branch(hub, published, tmp_path):
    c1, c2, v1, v2 = published
    for revision, expected in [("v1", v1), ("v2", v2), (c1, v1), ("main", v2)]:
        path = hf_hub_download(
            REPO, "data/train.parquet", repo_type="dataset", revision=revision, endpoint=hub.url, token=ALICE
        )
        assert Path(path).read_bytes() == expected, revision
    snapshot = Path(
        snapshot_download(REPO, repo_type="dataset", revision="v1", endpoint=hub.url, token=ALICE, cache_dir=tmp_path)
    )
    assert (snapshot / "data/train.parquet").read_bytes() == v1
    assert (snapshot / "README.md").read_bytes() == README


def test_refs_and_history(api, published):
    c1, c2, _, _ = published
    refs = api.list_repo_refs(REPO, repo_type="dataset")
    assert {t.name: t.target_commit for t in refs.tags} == {"v1": c1, "v2": c2}
    assert [(b.name, b.target_commit) for b in refs.branches] == [("main", c2)]
    commits = api.list_repo_commits(REPO, repo_type="dataset")
    assert [c.title for c in commits] == ["v2 data", "v1 data", "initial commit"]
    assert [c.commit_id for c in commits[:2]] == [c2, c1]
    assert commits[0].message == "more rows" and commits[0].authors == ["alice"]
    assert [c.commit_id for c in api.list_repo_commits(REPO, repo_type="dataset", revision="v1")][0] == c1
    with pytest.raises(HfHubHTTPError) as conflict:
        api.create_tag(REPO, tag="v1", repo_type="dataset")
    assert conflict.value.response.status_code == 409
    api.delete_tag(REPO, tag="v1", repo_type="dataset")
    assert [t.name for t in api.list_repo_refs(REPO, repo_type="dataset").tags] == ["v2"]
    with pytest.raises(RevisionNotFoundError):
        api.dataset_info(REPO, revision="v1")


def test_listings_and_metadata(api, published):
    c1, c2, v1, _ = published
    assert api.dataset_info(REPO, revision="v1").sha == c1
    info = api.repo_info(REPO, repo_type="dataset", files_metadata=True)
    assert info.sha == c2 and info.private and info.card_data.license == "cc-by-4.0"
    assert api.list_repo_files(REPO, repo_type="dataset") == [".gitattributes", "README.md", "data/train.parquet"]
    [parquet_v1] = api.list_repo_tree(REPO, path_in_repo="data", revision="v1", repo_type="dataset", expand=True)
    assert parquet_v1.lfs.sha256 == hashlib.sha256(v1).hexdigest() and parquet_v1.size == len(v1)
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{parquet_v1.lfs.sha256}\nsize {len(v1)}\n"
    assert parquet_v1.blob_id == git_blob_id(pointer.encode()) and parquet_v1.lfs.pointer_size == len(pointer)
    assert parquet_v1.last_commit.oid == c1
    top = {entry.path: entry for entry in api.list_repo_tree(REPO, repo_type="dataset")}
    assert top["README.md"].blob_id == git_blob_id(README) and top["README.md"].lfs is None
    assert "data/train.parquet" not in top and top["data"].tree_id  # not recursive: folder entry only
    assert api.file_exists(REPO, "README.md", repo_type="dataset")
    assert not api.file_exists(REPO, "missing.csv", repo_type="dataset")
    paths = api.get_paths_info(REPO, ["README.md", "data", "missing"], repo_type="dataset", revision="v1")
    assert [p.path for p in paths] == ["README.md", "data"]


def test_error_classes(hub, api, published):
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(REPO, "README.md", repo_type="dataset", revision="nope", endpoint=hub.url, token=ALICE)
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download(REPO, "missing.csv", repo_type="dataset", endpoint=hub.url, token=ALICE)
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info("alice/unknown")
    # private repo: invisible without a token and to other users
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(REPO, "README.md", repo_type="dataset", endpoint=hub.url, token=False)
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=hub.url, token=BOB).dataset_info(REPO)


def test_authentication(hub, api):
    assert api.whoami()["name"] == "alice"
    with pytest.raises(HfHubHTTPError) as bad_whoami:
        HfApi(endpoint=hub.url, token="hf_wrong").whoami()
    assert bad_whoami.value.response.status_code == 401
    api.create_repo(REPO, repo_type="dataset")
    add = [CommitOperationAdd("a.txt", b"a")]
    for token, status in [("hf_wrong", 401), (False, 401), (BOB, 403)]:
        with pytest.raises(HfHubHTTPError) as denied:
            HfApi(endpoint=hub.url, token=token).create_commit(REPO, add, commit_message="x", repo_type="dataset")
        assert denied.value.response.status_code == status and not isinstance(denied.value, RepositoryNotFoundError)
    with pytest.raises(HfHubHTTPError) as forbidden:
        HfApi(endpoint=hub.url, token=BOB).create_repo(REPO, repo_type="dataset")
    assert forbidden.value.response.status_code == 403
    assert len(hub.commits(REPO)) == 1


def test_parent_commit_mismatch_is_rejected(hub, api, published):
    c1, c2, _, _ = published
    with pytest.raises(HfHubHTTPError) as stale:
        api.create_commit(
            REPO, [CommitOperationAdd("b.txt", b"b")], commit_message="stale", repo_type="dataset", parent_commit=c1
        )
    assert stale.value.response.status_code == 412
    assert hub.refs(REPO)["branches"]["main"] == c2


def test_rejected_commits_change_nothing(hub, api, published):
    _, c2, _, _ = published
    url = f"{hub.url}/api/datasets/{REPO}/commit/main"
    headers = {"Authorization": f"Bearer {ALICE}", "Content-Type": "application/x-ndjson"}
    never_uploaded = {"path": "ghost.parquet", "algo": "sha256", "oid": "ab" * 32, "size": 3}
    valid_add = {"path": "new.txt", "content": "bmV3", "encoding": "base64"}
    ops = [{"key": "header", "value": {"summary": "ghost"}}, {"key": "file", "value": valid_add}]
    body = "\n".join(json.dumps(op) for op in [*ops, {"key": "lfsFile", "value": never_uploaded}])
    with pytest.raises(BadRequestError):
        hf_raise_for_status(get_session().post(url, content=body, headers=headers))
    with pytest.raises(RemoteEntryNotFoundError):
        api.create_commit(
            REPO,
            [CommitOperationAdd("new.txt", b"new"), CommitOperationDelete("missing.txt")],
            commit_message="delete missing",
            repo_type="dataset",
        )
    assert hub.refs(REPO)["branches"]["main"] == c2 and "new.txt" not in hub.files(REPO)


def test_lfs_threshold_and_deduplication():
    with HubEmulator(tokens={ALICE: "alice"}, lfs_threshold=16) as hub:
        api = HfApi(endpoint=hub.url, token=ALICE)
        api.create_repo(REPO, repo_type="dataset")
        csv = b"a,b\n" + b"1,2\n" * 10
        api.create_commit(
            REPO,
            [CommitOperationAdd("small.txt", b"tiny"), CommitOperationAdd("data.csv", csv)],
            commit_message="threshold",
            repo_type="dataset",
        )
        api.create_commit(REPO, [CommitOperationAdd("copy.csv", csv)], commit_message="same", repo_type="dataset")
        files = hub.files(REPO)
        assert (files["small.txt"].lfs, files["data.csv"].lfs, files["copy.csv"].lfs) == (False, True, True)
        assert [method for method, path, _ in hub.requests].count("PUT") == 1  # content stored once
        api.delete_file("copy.csv", REPO, repo_type="dataset")
        assert "copy.csv" not in hub.files(REPO) and len(hub.commits(REPO)) == 4
        assert not hub.errors


def test_readme_metadata_is_validated(hub, api):
    api.create_repo(REPO, repo_type="dataset")
    for bad in [b"---\nlicense: 42\n---\n", b"---\nlicense: [unclosed\n---\n"]:
        with pytest.raises(ValueError, match="Invalid metadata"):
            api.create_commit(REPO, [CommitOperationAdd("README.md", bad)], commit_message="x", repo_type="dataset")
    assert len(hub.commits(REPO)) == 1
    DatasetCard(README.decode()).validate()  # uses the default endpoint
    with pytest.raises(ValueError, match="license"):
        DatasetCard("---\nlicense: {a: 1}\n---\n").validate()


def test_hf_file_system(hub, published):
    _, _, v1, v2 = published
    fs = HfFileSystem(endpoint=hub.url, token=ALICE)
    assert fs.ls(f"datasets/{REPO}@v1/data", detail=False) == [f"datasets/{REPO}@v1/data/train.parquet"]
    assert fs.read_bytes(f"datasets/{REPO}@v1/data/train.parquet") == v1
    with fs.open(f"datasets/{REPO}/data/train.parquet", block_size=8) as f:
        f.seek(100)
        assert f.read(20) == v2[100:120]  # served by range requests
    assert fs.info(f"datasets/{REPO}@v2/data/train.parquet")["size"] == len(v2)


def test_load_dataset_by_tag(published, tmp_path):
    for revision, expected in [("v1", [1, 2, 3]), ("v2", [4, 5, 6, 7])]:
        dataset = datasets.load_dataset(REPO, revision=revision, token=ALICE, cache_dir=str(tmp_path / "ds"))
        assert dataset["train"]["x"] == expected


def test_push_to_hub_then_load_dataset(hub, tmp_path):
    datasets.Dataset.from_dict({"y": ["a", "b"]}).push_to_hub("alice/pushed", token=ALICE, private=True)
    assert hub.files("alice/pushed")["data/train-00000-of-00001.parquet"].lfs
    dataset = datasets.load_dataset("alice/pushed", token=ALICE, cache_dir=str(tmp_path / "ds"))
    assert dataset["train"]["y"] == ["a", "b"]


def test_injected_statuses_then_normal_service(hub, api, published):
    refs = hub.inject("GET", r"/refs$", 503, times=2)
    limited = hub.inject("GET", r"/refs$", 429)
    for status in (503, 503, 429):
        with pytest.raises(HfHubHTTPError) as failed:
            api.list_repo_refs(REPO, repo_type="dataset")
        assert failed.value.response.status_code == status
    assert failed.value.response.headers["Retry-After"] == "1"
    assert [t.name for t in api.list_repo_refs(REPO, repo_type="dataset").tags] == ["v1", "v2"]
    assert (refs.fired, limited.fired) == (2, 1)
    assert [(i.method, i.fault) for i in hub.injected] == [("GET", "503"), ("GET", "503"), ("GET", "429")]
    with pytest.raises(ValueError):
        hub.inject("GET", r"/refs$", "explode")
    with pytest.raises(ValueError):
        hub.inject("POST", r"/commit/", "conflict", when="after")


def test_reset_and_timeout_are_transport_errors(hub, published):
    session, url = get_session(), f"{hub.url}/api/datasets/{REPO}/refs"
    headers = {"Authorization": f"Bearer {ALICE}"}
    hub.inject("POST", r"/preupload/main$", "reset")
    with pytest.raises(httpx2.TransportError):  # cut after half of a 4 MB body
        session.post(f"{hub.url}/api/datasets/{REPO}/preupload/main", content=b"x" * 4_000_000, headers=headers)
    hub.inject("GET", r"/refs$", "timeout", delay=1.0)
    with pytest.raises(httpx2.ReadTimeout):
        session.get(url, headers=headers, timeout=0.2)
    assert session.get(url, headers=headers).status_code == 200
    assert [status for _, _, status in hub.requests[-3:]] == [0, 0, 200]  # 0: no answer


def test_a_reset_lfs_upload_is_retried_by_the_client(hub, api):
    api.create_repo(REPO, repo_type="dataset")
    data = parquet(x=list(range(50_000)))
    hub.inject("PUT", r"^/_emulator/lfs/", "reset")
    api.create_commit(REPO, [CommitOperationAdd("data/train.parquet", data)], commit_message="x", repo_type="dataset")
    assert hub.files(REPO)["data/train.parquet"].data == data
    assert [status for method, _, status in hub.requests if method == "PUT"] == [0, 200]


def test_a_fault_after_the_request_still_applies_it(hub, api, published):
    _, c2, _, _ = published
    hub.inject("POST", r"/commit/main$", 502, when="after")
    with pytest.raises(HfHubHTTPError) as failed:
        api.create_commit(REPO, [CommitOperationAdd("b.txt", b"b")], commit_message="lost answer",
                          repo_type="dataset", parent_commit=c2)
    assert failed.value.response.status_code == 502
    assert hub.commits(REPO)[0].title == "lost answer"


def test_a_conflict_lands_another_commit_first(hub, api, published):
    _, c2, _, _ = published
    hub.inject("POST", r"/commit/main$", "conflict")
    with pytest.raises(HfHubHTTPError) as stale:
        api.create_commit(REPO, [CommitOperationAdd("b.txt", b"b")], commit_message="mine", repo_type="dataset",
                          parent_commit=c2)
    assert stale.value.response.status_code == 412
    other, previous = hub.commits(REPO)[:2]
    assert (other.title, other.author, previous.id) == ("Concurrent commit", "someone-else", c2)
    assert other.files == previous.files


def test_super_squash_leaves_tags_on_the_old_commits_until_they_are_deleted(hub, api, published, tmp_path):
    c1, c2, v1, v2 = published
    api.super_squash_history(REPO, repo_type="dataset", commit_message="Squashed\n\nkey: value")
    [head] = hub.commits(REPO)
    assert (head.title, head.message, head.parents) == ("Squashed", "key: value", ())
    assert {p: f.oid for p, f in head.files.items()} == {p: f.oid for p, f in hub.files(REPO, revision=c2).items()}
    assert hub.refs(REPO) == {"branches": {"main": head.id}, "tags": {"v1": c1, "v2": c2}}
    path = hf_hub_download(REPO, "data/train.parquet", repo_type="dataset", revision="v1", endpoint=hub.url,
                           token=ALICE, cache_dir=tmp_path)
    assert Path(path).read_bytes() == v1  # still readable through its tag

    for tag in ("v1", "v2"):
        api.delete_tag(REPO, tag=tag, repo_type="dataset")
    for old in (c1, c2):
        with pytest.raises(RevisionNotFoundError):
            api.dataset_info(REPO, revision=old)
    assert set(hub.lfs_objects(REPO)) == {hashlib.sha256(v2).hexdigest()}  # v1's data is gone
    api.create_tag(REPO, tag="t", revision=head.id, repo_type="dataset")
    with pytest.raises(BadRequestError):  # like the Hub: no squashing a tag
        api.super_squash_history(REPO, branch="t", repo_type="dataset")
