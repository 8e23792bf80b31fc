"""The `commons` command as `make run` and `make catalog` call it, in a subprocess like a user's shell."""

import os
import subprocess
import sys

from .conftest import ROOT


def commons(*args, home):
    env = {**os.environ, "COMMONS_HOME": str(home)}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run([sys.executable, "-m", "commons_pipelines.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_run_twice_publishes_v1_then_nothing(tmp_path):
    first = commons("run", home=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "school_notices: published v1 (19 rows)" in first.stdout
    assert "home_care_guides: published v1 (12 rows)" in first.stdout
    second = commons("run", home=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "school_notices: unchanged, current is v1" in second.stdout
    assert sorted(p.name for p in (tmp_path / "published" / "school_notices" / "versions").iterdir()) == ["v1"]


def test_catalog_lists_every_source_with_its_suites(tmp_path):
    out = commons("catalog", home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "school_notices: files, CC-BY-4.0, en, fr, es, suites: generic, declared" in out.stdout
    assert "home_care_guides: files, CC-BY-SA-4.0" in out.stdout
