"""publish() to the Hub target, against the in-process Hub emulator and the real huggingface_hub client."""

import os

os.environ["HF_HUB_DISABLE_XET"] = "1"  # before huggingface_hub is imported, see hub_emulator's docstring

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard, hf_hub_download

from commons_pipelines.publish import HubError, HubTarget, PublishConflict, Version, publish
from commons_pipelines_tests.hub_emulator import serve
from commons_pipelines_tests.test_publish_release import SMALL, STAGES, make_spec, write_curated
from commons_pipelines_tests.test_publish_shards import otl_table

TOKEN = "hf_commons_publisher_token"
REPO = "commons/open_textbook_library"


@pytest.fixture
def hub():
    yield from serve(tokens={TOKEN: "commons", "hf_other_token": "other"})  # also the default endpoint


def download(hub, path: str, revision: str, cache: Path) -> Path:
    return Path(hf_hub_download(REPO, path, repo_type="dataset", revision=revision, endpoint=hub.url, token=TOKEN,
                                cache_dir=cache))


def test_v1_then_v2_then_unchanged_one_tagged_commit_each(hub, tmp_path):
    spec, target, table = make_spec(), HubTarget(hub.url, token=TOKEN), otl_table()
    v1_input, v2_input = write_curated(tmp_path / "c1", table), write_curated(tmp_path / "c2", table.slice(0, 300))

    first = publish(spec, v1_input, STAGES, target, **SMALL)
    second = publish(spec, v2_input, STAGES, target, **SMALL)
    again = publish(spec, v2_input, STAGES, target, **SMALL)

    assert [(r.changed, r.version) for r in (first, second, again)] == [(True, "v1"), (True, "v2"), (False, "v2")]
    assert again.ref == second.ref and again.content_sha256 == second.content_sha256
    assert second.location == f"{hub.url}/datasets/{REPO}/tree/v2"
    assert hub.refs(REPO)["tags"] == {"v1": first.ref, "v2": second.ref}
    commits = hub.commits(REPO)
    assert [c.id for c in commits[:2]] == [second.ref, first.ref]  # one commit per version, none for "unchanged"
    assert len(commits) == 3  # and the repo's initial commit
    assert [(v.name, v.rows, v.content_sha256, v.ref) for v in target.history(spec)] == [
        ("v1", table.num_rows, first.content_sha256, first.ref), ("v2", 300, second.content_sha256, second.ref)]

    assert len(first.shards) > len(second.shards)  # so v2's commit had to delete v1's extra shards
    for result in (first, second):
        files = hub.files(REPO, revision=result.version)
        assert sorted(f for f in files if f.startswith("data/")) == [s.path for s in result.shards]
        assert {"README.md", "croissant.json"} <= set(files)


def test_read_back_by_tag_equals_what_was_published(hub, tmp_path):
    spec, target, table = make_spec(), HubTarget(hub.url, token=TOKEN), otl_table()
    first = publish(spec, write_curated(tmp_path / "c1", table.slice(0, 700)), STAGES, target, **SMALL)
    publish(spec, write_curated(tmp_path / "c2", table), STAGES, target, **SMALL)

    shards = [download(hub, s.path, "v1", tmp_path / "cache") for s in first.shards]
    assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in shards] == [s.sha256 for s in first.shards]
    assert pq.ParquetDataset(shards).read().equals(table.slice(0, 700))
    card = DatasetCard(download(hub, "README.md", "v1", tmp_path / "cache").read_text(encoding="utf-8"))
    assert card.data.configs[0]["data_files"] == [{"split": "train", "path": "data/train-*"}]
    croissant = json.loads(download(hub, "croissant.json", "v1", tmp_path / "cache").read_text(encoding="utf-8"))
    assert [d["sha256"] for d in croissant["distribution"] if d["@type"] == "cr:FileObject"] == [
        s.sha256 for s in first.shards]
    assert croissant["url"] == f"{hub.url}/datasets/{REPO}" and croissant["version"] == "1.0.0"


def test_load_dataset_at_a_tag(hub, tmp_path):
    import datasets

    spec, target, table = make_spec(), HubTarget(hub.url, token=TOKEN), otl_table()
    publish(spec, write_curated(tmp_path / "c1", table), STAGES, target, **SMALL)
    publish(spec, write_curated(tmp_path / "c2", table.slice(0, 200)), STAGES, target, **SMALL)

    loaded = datasets.load_dataset(REPO, revision="v1", token=TOKEN, cache_dir=str(tmp_path / "datasets"))
    assert loaded["train"].num_rows == table.num_rows


def test_namespace_override_and_private_repo(hub, tmp_path):
    spec = make_spec(publish={"repo_id": "someone/open_textbook_library", "private": True})
    target = HubTarget(hub.url, token="hf_other_token", namespace="other")
    result = publish(spec, write_curated(tmp_path / "c", otl_table().slice(0, 50)), STAGES, target)

    assert target.repo_id(spec) == "other/open_textbook_library"
    assert hub.refs("other/open_textbook_library")["tags"] == {"v1": result.ref}
    with pytest.raises(HubError) as caught:  # private: another account sees no such repo
        HubTarget(hub.url, token=TOKEN, namespace="other").commit(spec, tmp_path, Version("v2", "", 0, ""), "x")
    assert caught.value.status in (401, 403, 404)


def test_a_taken_version_number_is_a_conflict(hub, tmp_path):
    spec, target = make_spec(), HubTarget(hub.url, token=TOKEN)
    publish(spec, write_curated(tmp_path / "c", otl_table().slice(0, 50)), STAGES, target)
    head = hub.commits(REPO)[0].id

    with pytest.raises(PublishConflict):
        target.commit(spec, tmp_path / "c", Version("v1", "0" * 64, 1, "2030-01-01T00:00:00Z"), "again")
    assert hub.commits(REPO)[0].id == head


def test_the_token_stays_out_of_reprs_errors_and_published_files(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    target = HubTarget(hub.url)  # token from HF_TOKEN
    spec = make_spec()
    publish(spec, write_curated(tmp_path / "c", otl_table().slice(0, 50)), STAGES, target)
    assert TOKEN not in repr(target)
    for path, stored in hub.files(REPO, revision="v1").items():
        assert TOKEN.encode() not in stored.data, path
    assert all(TOKEN not in c.title + c.message for c in hub.commits(REPO))

    wrong = "hf_not_a_known_token_123"
    with pytest.raises(HubError) as caught:
        HubTarget(hub.url, token=wrong).commit(spec, tmp_path / "c", Version("v2", "", 0, ""), "x")
    error = caught.value
    assert caught.value.status == 401
    assert wrong not in str(error) and wrong not in repr(error)
    assert error.__cause__ is None and error.__context__ is None
