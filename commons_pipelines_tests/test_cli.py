"""The `commons` command as `make run` and `make catalog` call it, in a subprocess like a user's shell."""

import os
import subprocess
import sys

import pytest

from .conftest import ROOT, readable


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


def notices_catalog(tmp_path, ner="off"):
    """The school notices sample in a catalog of its own (NER off: the CLI tests are about the command)."""
    import shutil

    import yaml

    from commons_pipelines.spec import CATALOG_DIR

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    spec = yaml.safe_load((CATALOG_DIR / "school_notices.yaml").read_text(encoding="utf-8"))
    spec["pii"]["ner"] = ner
    (catalog / "school_notices.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    shutil.copytree(CATALOG_DIR.parent / "samples" / "school_notices", tmp_path / "samples" / "school_notices")
    return catalog


def test_catalog_names_a_broken_file_and_exits_non_zero(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from commons_pipelines.cli import main

    catalog = notices_catalog(tmp_path)
    (catalog / "who.yaml").write_text("id: who\nlicence: CC-BY-NC-SA-3.0-IGO\n")
    monkeypatch.setenv("COMMONS_CATALOG", str(catalog))
    out = CliRunner().invoke(main, ["catalog"])
    assert out.exit_code == 1 and "school_notices: files" in out.output
    assert "who: BROKEN:" in out.output and "is not an open licence" in out.output


def test_erase_publishes_a_version_without_the_record_and_removes_older_ones(tmp_path, monkeypatch):
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from commons_pipelines.cli import main

    monkeypatch.setenv("COMMONS_CATALOG", str(notices_catalog(tmp_path)))
    monkeypatch.setenv("COMMONS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    cli = CliRunner()
    first = cli.invoke(main, ["run", "--source", "school_notices"])
    assert first.exit_code == 0, first.output
    root = tmp_path / "home" / "published" / "school_notices"
    title = "Cantine et allergies"  # SN-2025-004's title: content that must not survive anywhere
    assert title in str(pq.read_table(root / "current" / "data").to_pylist())

    reason = "request 2026-17 (GDPR art. 17)"
    erased = cli.invoke(main, ["erase", "school_notices", "--key", "notice_id=SN-2025-004", "--reason", reason])
    assert erased.exit_code == 0, erased.output
    assert "school_notices: published v2 (18 rows)" in erased.output and "removed v1" in erased.output
    assert sorted(p.name for p in (root / "versions").iterdir()) == ["v2"]
    for path in root.rglob("*"):
        if path.is_file():
            assert title not in readable(path), path
    card = (root / "current" / "README.md").read_text(encoding="utf-8")
    assert f"1 erased on request: {reason} (1)" in card and "SN-2025-004" not in card

    again = cli.invoke(main, ["run", "--source", "school_notices"])
    assert again.exit_code == 0 and "school_notices: unchanged, current is v2" in again.output

    wrong = cli.invoke(main, ["erase", "school_notices", "--key", "title=x", "--reason", "r"])
    assert wrong.exit_code == 1 and "every primary-key column (notice_id)" in wrong.output


@pytest.mark.slow
def test_two_runs_of_one_source_at_once_publish_it_once(tmp_path):
    """The UI and the schedule start the same source together: both succeed, one version, the state whole."""
    env = {**os.environ, "COMMONS_HOME": str(tmp_path / "home"), "COMMONS_CATALOG": str(notices_catalog(tmp_path))}
    env.pop("DAGSTER_HOME", None)
    runs = [subprocess.Popen([sys.executable, "-m", "commons_pipelines.cli", "run", "--source", "school_notices"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-2000:] for _, err in outputs]
    said = sorted(out.strip().splitlines()[-1].split(" (")[0] for out, _ in outputs)
    assert said == ["school_notices: published v1", "school_notices: unchanged, current is v1"]
    root = tmp_path / "home" / "published" / "school_notices"
    assert sorted(p.name for p in (root / "versions").iterdir()) == ["v1"]
    import duckdb

    with duckdb.connect(str(tmp_path / "home" / "warehouse" / "school_notices.duckdb"), read_only=True) as con:
        # the sample's 21 good lines (one notice twice, on purpose): landed once, not once per run
        assert con.execute("select count(*), count(distinct notice_id) from raw.records").fetchone() == (21, 20)


def test_erase_on_the_hub_purges_history_only_when_asked(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from commons_pipelines.cli import main

    from .hub_emulator import serve

    token, repo = "hf_erase_test_token", "commons-pipelines/school-notices"
    for hub in serve(tokens={token: "commons-pipelines"}):
        for name, value in {"COMMONS_CATALOG": str(notices_catalog(tmp_path)), "COMMONS_HOME": str(tmp_path / "h"),
                            "COMMONS_TARGET": "hub", "HF_ENDPOINT": hub.url, "HF_TOKEN": token}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("DAGSTER_HOME", raising=False)
        cli = CliRunner()
        assert cli.invoke(main, ["run", "--source", "school_notices"]).exit_code == 0
        v1 = hub.refs(repo)["tags"]["v1"]
        args = ["erase", "school_notices", "--key", "notice_id=SN-2025-004", "--reason", "opt-out"]
        kept = cli.invoke(main, args)
        assert kept.exit_code == 0, kept.output
        assert "older Hub versions v1 may still hold the erased rows" in kept.output
        assert set(hub.refs(repo)["tags"]) == {"v1", "v2"}
        purged = cli.invoke(main, ["erase", "school_notices", "--match", "(?i)carnaval", "--reason", "opt-out",
                                   "--purge-history"])
        assert purged.exit_code == 0, purged.output
        assert "squashed the Hub history into v3; older versions v1, v2 are gone" in purged.output
        assert set(hub.refs(repo)["tags"]) == {"v3"} and len(hub.commits(repo)) == 1
        assert v1 not in {c.id for c in hub.commits(repo)}
        import io

        import pyarrow.parquet as pq

        files = hub.files(repo, revision="v3")
        text = [str(pq.read_table(io.BytesIO(f.data)).to_pylist()) if path.endswith(".parquet") else f.data.decode()
                for path, f in files.items() if not path.startswith(".")]
        assert not any("arnaval" in t or "Cantine et allergies" in t for t in text) and any("SN-2026-001" in t
                                                                                             for t in text)


def test_erase_says_how_to_write_a_key():
    from click.testing import CliRunner

    from commons_pipelines.cli import main

    out = CliRunner().invoke(main, ["erase", "school_notices", "--key", "SN-2025-004", "--reason", "r"])
    assert out.exit_code == 2 and "--key takes COLUMN=VALUE" in out.output
