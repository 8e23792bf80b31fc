"""The `hf_dataset` kind against the Hub emulator, with the real huggingface_hub client: a dataset repo holding
Parquet shards written here from the UDHR paragraphs (real data, read in place) in the `datasets` layout, with a
README `configs:` block of two configs and two splits."""

import os

os.environ["HF_HUB_DISABLE_XET"] = "1"  # before huggingface_hub is imported, see hub_emulator's docstring

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from commons_pipelines.columns import is_system
from commons_pipelines.ingest.hf_dataset import HubSourceError, layout
from commons_pipelines.ingest.http import FetchError
from commons_pipelines.ingest.runner import Ingest
from commons_pipelines.ingest.state import known_files
from commons_pipelines.ingest.warehouse import pipeline, quarantine_counts, read_records

from .conftest import SHARED_DATA, readable
from .hub_emulator import serve

UDHR = SHARED_DATA / "language" / "udhr_151_languages.jsonl"
TOKEN = "hf_udhr_owner_token_5e1f"
REPO = "commons/udhr"
CARD = """---
license: mit
configs:
- config_name: west
  data_files:
  - split: train
    path: west/train-*
  - split: test
    path: west/test-*
- config_name: south
  data_dir: south
  data_files:
  - split: train
    path: train-*
  - split: test
    path: test-*
---
UDHR paragraphs, written by the commons-pipelines tests from ../shared/data/language (MIT).
"""
CONFIGS = {"west": ["eng", "fra"], "south": ["spa", "ita"]}
COLUMNS = ["id", "bcp47", "language_name", "section", "text"]


def udhr() -> dict[str, list[dict]]:
    by_code: dict[str, list[dict]] = {}
    with open(UDHR, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record["udhr_code"] in ("eng", "fra", "spa", "ita"):
                by_code.setdefault(record["udhr_code"], []).append({c: record[c] for c in COLUMNS})
    return by_code


def parquet(rows: list[dict]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    return sink.getvalue()


def shards(data: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The `datasets` push_to_hub layout: train in one shard per language, the preambles as test."""
    out = {}
    for config, codes in CONFIGS.items():
        for i, code in enumerate(codes):
            out[f"{config}/train-{i:05d}-of-00002.parquet"] = [r for r in data[code] if r["section"] != "preamble"]
        out[f"{config}/test-00000-of-00001.parquet"] = [r for c in codes for r in data[c] if r["section"] == "preamble"]
    return out


@pytest.fixture
def hub():
    yield from serve(tokens={TOKEN: "commons"})


@pytest.fixture
def api(hub):
    return HfApi(endpoint=hub.url, token=TOKEN)


def push(api, files: dict[str, list[dict]], message: str, readme: str | None = None) -> str:
    ops = [CommitOperationAdd(path, parquet(rows)) for path, rows in files.items()]
    if readme:
        ops.append(CommitOperationAdd("README.md", readme.encode()))
    return api.create_commit(REPO, repo_type="dataset", operations=ops, commit_message=message).oid


@pytest.fixture
def repo(api):
    """(first commit, the shards' rows by path)."""
    api.create_repo(REPO, repo_type="dataset", private=False)
    files = shards(udhr())
    return push(api, files, "UDHR shards", CARD), files


def make_spec(write_spec, hub, **cfg):
    return write_spec("udhr_hub", kind="hf_dataset", licence="MIT", languages=["en", "fr", "es", "it"],
                      text_columns=["text"],
                      hf_dataset={"repo_id": REPO, "endpoint": hub.url, **cfg})


def land(spec, settings):
    db = settings.warehouse_dir / f"{spec.id}.duckdb"
    plan = Ingest(spec, db, settings.dlt_dir / "downloads" / spec.id, lambda url: None).run(
        pipeline(spec, settings.warehouse_dir, settings.dlt_dir))
    return db, plan


def landed(db) -> list[dict]:
    return [r for b in read_records(db) for r in b.to_pylist()]


def data(rows: list[dict]) -> list[dict]:
    return sorted(({k: v for k, v in r.items() if not is_system(k)} for r in rows), key=lambda r: r["id"])


def downloads(hub, since: int) -> list[str]:
    return sorted(path.split("/resolve/", 1)[1].split("/", 1)[1] for method, path, status in hub.requests[since:]
                  if method == "GET" and "/resolve/" in path and path.endswith(".parquet"))


def test_a_config_and_split_land_as_the_parquet_rows_and_a_second_run_downloads_nothing(
        hub, repo, write_spec, settings):
    commit, files = repo
    spec = make_spec(write_spec, hub, config="west", split="train")
    db, plan = land(spec, settings)
    train = ["west/train-00000-of-00002.parquet", "west/train-00001-of-00002.parquet"]
    assert [f.path for f in plan.read] == train and not plan.checked
    rows = landed(db)
    assert data(rows) == data(files[train[0]] + files[train[1]]) and not quarantine_counts(db)
    assert {(r["_source_file"], r["_source_url"]) for r in rows} == {
        (p, f"{hub.url}/datasets/{REPO}/resolve/{commit}/{p}") for p in train}
    assert {f: k.sha256 for f, k in known_files(db).items()} == {
        p: hub.files(REPO)[p].sha256 for p in train}  # the LFS sha256 of the tree listing

    before = len(hub.requests)
    db, plan = land(spec, settings)
    assert not plan.read and [f.path for f in plan.checked] == train and downloads(hub, before) == []
    assert landed(db) == rows


def test_a_new_commit_that_changes_one_shard_reads_only_that_shard(hub, api, repo, write_spec, settings):
    _, files = repo
    spec = make_spec(write_spec, hub, config="west", split="train")
    land(spec, settings)
    changed = "west/train-00001-of-00002.parquet"
    fewer = files[changed][:10]
    push(api, {changed: fewer, "south/train-00000-of-00002.parquet": []}, "fewer French rows")
    before = len(hub.requests)
    db, plan = land(spec, settings)
    assert [f.path for f in plan.read] == [changed] and downloads(hub, before) == [changed]
    assert [f.path for f in plan.checked] == ["west/train-00000-of-00002.parquet"]
    assert data(landed(db)) == data(files["west/train-00000-of-00002.parquet"] + fewer)


def test_a_revision_pinned_to_a_tag_reads_that_tags_content(hub, api, repo, write_spec, settings):
    commit, files = repo
    api.create_tag(REPO, tag="v1", revision=commit, repo_type="dataset")
    push(api, {"south/test-00000-of-00001.parquet": files["south/test-00000-of-00001.parquet"][:3]}, "shorter")
    db, plan = land(make_spec(write_spec, hub, config="south", split="test", revision="v1"), settings)
    assert [f.path for f in plan.read] == ["south/test-00000-of-00001.parquet"]  # data_dir: south
    assert data(landed(db)) == data(files["south/test-00000-of-00001.parquet"])
    assert {r["_source_url"].split("/resolve/")[1].split("/")[0] for r in landed(db)} == {commit}


def test_every_config_and_split_by_default_and_the_endpoint_from_hf_endpoint(hub, repo, write_spec, settings):
    _, files = repo
    spec = write_spec("udhr_hub", kind="hf_dataset", licence="MIT", languages=["en"], hf_dataset={"repo_id": REPO})
    assert os.environ["HF_ENDPOINT"] == hub.url  # serve() makes the emulator the default endpoint
    db, plan = land(spec, settings)
    assert sorted(f.path for f in plan.read) == sorted(files)
    assert data(landed(db)) == data([r for rows in files.values() for r in rows])


@pytest.mark.parametrize("cfg, field, said", [
    ({"repo_id": "commons/nothing"}, "repo_id", "no dataset 'commons/nothing'"),
    ({"revision": "v9"}, "revision", "no branch, tag or commit 'v9'"),
    ({"config": "north"}, "config", "no config 'north'"),
    ({"config": "west", "split": "validation"}, "split", "no split 'validation'"),
])
def test_a_missing_repo_revision_config_or_split_is_a_clear_error(hub, repo, write_spec, settings, cfg, field, said):
    spec = make_spec(write_spec, hub, **cfg)
    with pytest.raises(HubSourceError) as err:
        land(spec, settings)
    message = str(err.value)
    assert message.startswith(f"{spec.origin}: field 'hf_dataset.{field}': {said}")
    assert f"{hub.url}/datasets/{cfg.get('repo_id', REPO)}" in message and "Traceback" not in message
    assert not (settings.warehouse_dir / "udhr_hub.duckdb").exists()


def test_a_private_repo_reads_with_hf_token_which_appears_nowhere(hub, api, write_spec, settings, monkeypatch):
    api.create_repo(REPO, repo_type="dataset", private=True)
    files = shards(udhr())
    push(api, files, "UDHR shards", CARD)
    spec = make_spec(write_spec, hub, config="south", split="train")
    with pytest.raises(HubSourceError, match="private: set HF_TOKEN") as err:
        land(spec, settings)
    assert "field 'hf_dataset.repo_id'" in str(err.value)

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    db, plan = land(spec, settings)
    assert data(landed(db)) == data(files["south/train-00000-of-00002.parquet"]
                                    + files["south/train-00001-of-00002.parquet"])
    hub.inject("GET", r"/tree/", 404)  # the Hub refuses once: the error message must not carry the token either
    with pytest.raises(HubSourceError) as refused:
        land(spec, settings)
    monkeypatch.setenv("HF_TOKEN", "hf_wrong_token_of_someone_else")
    with pytest.raises(HubSourceError, match="refuses the token in HF_TOKEN") as wrong:
        land(spec, settings)
    texts = [readable(p) for p in settings.home.rglob("*") if p.is_file()]
    assert texts and not any(TOKEN in t for t in texts + [str(refused.value), str(wrong.value)])
    assert not any("hf_wrong_token" in t for t in texts + [str(wrong.value)])


def test_a_network_failure_keeps_the_previous_rows(hub, api, repo, write_spec, settings):
    _, files = repo
    spec = make_spec(write_spec, hub, config="west", split="test")
    db, _ = land(spec, settings)
    rows = landed(db)
    hub.inject("GET", r"/api/datasets/.*/revision/", "reset")
    with pytest.raises(FetchError, match=r"field 'hf_dataset': cannot read .*: \w+Error"):
        land(spec, settings)
    changed = "west/test-00000-of-00001.parquet"
    push(api, {changed: files[changed][:2]}, "two preambles")
    hub.inject("GET", r"/resolve/[0-9a-f]+/west/test-", "reset", times=None)  # the download fails after the listing
    with pytest.raises(FetchError):
        land(spec, settings)
    assert landed(db) == rows and [f for f in known_files(db)] == [changed]
    hub.clear_faults()
    db, plan = land(spec, settings)
    assert [f.path for f in plan.read] == [changed] and data(landed(db)) == data(files[changed][:2])


def test_the_auto_converted_parquet_branch_is_read_in_its_own_layout(hub, api, repo, write_spec, settings):
    _, files = repo
    converted = "refs/convert/parquet"
    api.create_branch(REPO, branch=converted, repo_type="dataset")
    rows = files["south/test-00000-of-00001.parquet"]
    api.create_commit(REPO, repo_type="dataset", revision=converted, commit_message="Update parquet files",
                      operations=[CommitOperationAdd("south/test/0000.parquet", parquet(rows)),
                                  CommitOperationAdd("south/partial-train/0000.parquet", parquet(rows[:1]))])
    db, plan = land(make_spec(write_spec, hub, config="south", split="test", revision=converted), settings)
    assert [f.path for f in plan.read] == ["south/test/0000.parquet"] and data(landed(db)) == data(rows)


def test_layout_follows_the_datasets_conventions():
    assert layout(["README.md", "data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet",
                   "data/test-00000-of-00001.parquet", "data/custom-00000-of-00001.parquet"], {}) == {"default": {
        "train": ["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"],
        "test": ["data/test-00000-of-00001.parquet"], "custom": ["data/custom-00000-of-00001.parquet"]}}
    assert layout(["x/train/a.parquet", "x/dev/b.parquet", "notes/test.parquet"], {}) == {"default": {
        "train": ["x/train/a.parquet"], "validation": ["x/dev/b.parquet"]}}  # folder names before file names
    assert layout(["my_train.parquet", "eval-1.parquet", ".hidden/train.parquet"], {}) == {"default": {
        "train": ["my_train.parquet"], "test": ["eval-1.parquet"]}}
    assert layout(["a.parquet", "b/c.parquet"], {}) == {"default": {"train": ["a.parquet", "b/c.parquet"]}}
    card = {"configs": [{"config_name": "one", "data_files": "d/*.parquet"},
                        {"config_name": "two", "data_files": {"dev": ["d/x.parquet"]}},
                        {"config_name": "three", "data_dir": "e"}]}
    assert layout(["d/x.parquet", "d/sub/y.parquet", "e/data/test-00000-of-00001.parquet"], card) == {
        "one": {"train": ["d/x.parquet"]}, "two": {"dev": ["d/x.parquet"]},
        "three": {"test": ["e/data/test-00000-of-00001.parquet"]}}
    assert layout(["default/train/0000.parquet", "default/partial-test/0000.parquet", "other/train/0000.parquet",
                   ".gitattributes"], {}, converted=True) == {
        "default": {"train": ["default/train/0000.parquet"], "test": ["default/partial-test/0000.parquet"]},
        "other": {"train": ["other/train/0000.parquet"]}}


def test_each_config_and_split_is_what_datasets_load_dataset_reads(hub, repo, write_spec, settings, tmp_path):
    """The layout is the one `datasets` reads: the same rows, config by config and split by split."""
    import datasets

    commit, _ = repo
    for config, split in [("west", "train"), ("south", "test")]:
        db, _ = land(make_spec(write_spec, hub, config=config, split=split, revision=commit), settings)
        expected = datasets.load_dataset(REPO, config, split=split, revision=commit, token=False,
                                         cache_dir=str(tmp_path / "datasets"))
        assert data(landed(db)) == data(expected.to_list()), (config, split)


def test_nightly_job_publishes_a_hub_dataset_to_the_local_target(hub, repo, write_spec, settings):
    from .test_pipeline import published, run_nightly, versions

    _, files = repo
    spec = write_spec("udhr_hub", kind="hf_dataset", licence="MIT", languages=["en", "fr"], text_columns=["text"],
                      pii={"ner": "off"}, hf_dataset={"repo_id": REPO, "endpoint": hub.url, "config": "west",
                                                      "split": "test"})
    result = run_nightly({spec.id: spec}, settings)
    assert result.success
    meta = published(result, spec.id)
    assert meta is not None and versions(settings, spec.id) == ["v1"]
    table = pq.read_table(settings.publish_dir / spec.id / "current" / "data")
    assert sorted(table.column("id").to_pylist()) == sorted(r["id"] for r in files["west/test-00000-of-00001.parquet"])
    assert set(table.column("_source_url").to_pylist()) == {
        f"{hub.url}/datasets/{REPO}/resolve/{repo[0]}/west/test-00000-of-00001.parquet"}
