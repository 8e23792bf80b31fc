"""Secrets never leave the environment: a run to the Hub with canary values for HF_TOKEN and COMMONS_PII_KEY, with
failures on purpose, then every file written, the Dagster event log, stdout and stderr, and what reached the Hub
are searched for the canaries."""

import os
import subprocess
import sys

import pytest
import yaml

from commons_pipelines.spec import CATALOG_DIR

from .conftest import ROOT, readable
from .hub_emulator import serve

TOKEN = "hf_CANARYtoken7f3a9c1e5b2d4f6a8c0e"
PII_KEY = "pii-CANARY-key-4b8d2f6a0c1e3g5h"


@pytest.fixture
def hub():
    yield from serve(tokens={TOKEN: "commons-pipelines"})


def catalog(tmp_path):
    import shutil

    folder = tmp_path / "catalog"
    folder.mkdir()
    for name in ("school_notices", "home_care_guides"):
        spec = yaml.safe_load((CATALOG_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
        spec["pii"] = {**spec.get("pii", {}), "ner": "off", "policy": "pseudonymize"}  # the key is used
        if name == "home_care_guides":
            spec["expectations"].append({"expect_table_row_count_to_be_between": {"max_value": 3}})  # fails
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
        shutil.copytree(CATALOG_DIR.parent / "samples" / name, tmp_path / "samples" / name)
    (folder / "broken.yaml").write_text("id: broken\nlicence: CC-BY-NC-4.0\n")  # a source that does not load
    return folder


@pytest.mark.slow
def test_canaries_appear_nowhere(hub, tmp_path):
    hub.inject("POST", r"/commit/", 503, times=1)  # a failure the publish retries
    hub.inject("GET", r"/api/datasets/commons-pipelines/home-care-guides", "reset", times=None)  # never answered
    home = tmp_path / "home"
    env = {**os.environ, "COMMONS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "COMMONS_TARGET": "hub",
           "HF_ENDPOINT": hub.url, "HF_TOKEN": TOKEN, "COMMONS_PII_KEY": PII_KEY, "COMMONS_RETRIES": "0",
           "COMMONS_HUB_RETRY_WAIT": "0.05", "COMMONS_CATALOG": str(catalog(tmp_path)), "HF_HUB_DISABLE_XET": "1"}
    (home / "dagster").mkdir(parents=True)
    out = subprocess.run([sys.executable, "-m", "commons_pipelines.cli", "run"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 1  # the failing check, the broken YAML and the unreachable repo
    assert "school_notices: published v1" in out.stdout and "broken.yaml" in out.stderr
    assert "check failed: home_care_guides/curated declared_suite" in out.stderr
    assert hub.injected, "the faults were not reached"

    canaries = [TOKEN, PII_KEY]
    found = [f"stdout: {c}" for c in canaries if c in out.stdout] + [f"stderr: {c}" for c in canaries
                                                                      if c in out.stderr]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in written), "the Dagster event log was written"
    for path in written:
        text = readable(path) + path.read_bytes().decode("latin-1")
        found += [f"{path.relative_to(tmp_path)}: {c}" for c in canaries if c in text]
    for repo in ("commons-pipelines/school-notices",):
        for name, stored in hub.files(repo).items():
            found += [f"hub {repo}/{name}: {c}" for c in canaries if c.encode() in stored.data]
        for commit in hub.commits(repo):
            found += [f"hub commit {commit.id}: {c}" for c in canaries if c in commit.title + commit.message]
    assert found == []
