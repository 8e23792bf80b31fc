"""The `commons` command as a person uses it: in a subprocess like a user's shell (`make run` calls it so), or through
typer's CliRunner where only the command's behaviour is at stake. No project code is mocked."""

import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version

import pytest
import yaml
from typer.testing import CliRunner

from commons_pipelines.cli import app

from .conftest import ROOT, readable

ANSI = "\x1b["


def commons(*args, home, catalog=None, timeout=300):
    env = {**os.environ, "COMMONS_HOME": str(home)}
    env.pop("DAGSTER_HOME", None)
    env.pop("FORCE_COLOR", None)
    if catalog is not None:
        env["COMMONS_CATALOG"] = str(catalog)
    return subprocess.run([sys.executable, "-m", "commons_pipelines.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def invoke(*args, **env):
    """The command in this process, with these environment variables (None removes one)."""
    return CliRunner().invoke(app, list(args), env={"DAGSTER_HOME": None, **{k: v if v is None else str(v)
                                                                              for k, v in env.items()}})


def notices_catalog(tmp_path, ner="off", name="catalog", **changes):
    """The school notices sample in a catalog of its own (NER off: the CLI tests are about the command), with
    `changes` over its YAML; the samples are copied next to the catalog once."""
    from commons_pipelines.spec import CATALOG_DIR

    catalog = tmp_path / name
    catalog.mkdir(exist_ok=True)
    spec = yaml.safe_load((CATALOG_DIR / "school_notices.yaml").read_text(encoding="utf-8"))
    spec["pii"]["ner"] = ner
    spec.update(changes)
    (catalog / "school_notices.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    samples = tmp_path / "samples" / "school_notices"
    if not samples.exists():
        shutil.copytree(CATALOG_DIR.parent / "samples" / "school_notices", samples)
    return catalog


def test_version_is_the_package_version():
    out = invoke("--version")
    assert out.exit_code == 0 and out.stdout.strip() == f"commons-pipelines {version('commons-pipelines')}"


def test_unknown_source_or_job_is_one_line_not_a_traceback(tmp_path):
    catalog = notices_catalog(tmp_path)
    out = commons("run", "school_notice", home=tmp_path / "home", catalog=catalog, timeout=60)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == (f"commons: no source 'school_notice' in {catalog} (did you mean 'school_notices'?); "
                                  "sources: school_notices")
    assert "Traceback" not in out.stdout + out.stderr
    job = invoke("run", "--job", "weekly", COMMONS_CATALOG=catalog, COMMONS_HOME=tmp_path / "home")
    assert job.exit_code == 2 and job.stderr.strip() == "commons: no job 'weekly'; jobs: nightly"
    both = invoke("run", "school_notices", "--job", "weekly", COMMONS_CATALOG=catalog)
    assert both.exit_code == 2 and both.stderr.strip() == "commons: give either --job or source names, not both"
    for command in (["versions", "nope"], ["check", "nope"], ["erase", "nope", "--sha256", "x", "--reason", "r"]):
        out = invoke(*command, COMMONS_CATALOG=catalog, COMMONS_HOME=tmp_path / "home")
        assert out.exit_code == 2 and len(out.stderr.strip().splitlines()) == 1, (command, out.output)
        assert "no source 'nope'" in out.stderr and "sources: school_notices" in out.stderr


def samples_catalog(tmp_path):
    """The two sources of the default catalog that read the project's own samples (offline), NER off."""
    from commons_pipelines.spec import CATALOG_DIR

    catalog = notices_catalog(tmp_path)
    spec = yaml.safe_load((CATALOG_DIR / "home_care_guides.yaml").read_text(encoding="utf-8"))
    spec["pii"]["ner"] = "off"
    (catalog / "home_care_guides.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    shutil.copytree(CATALOG_DIR.parent / "samples" / "home_care_guides", tmp_path / "samples" / "home_care_guides")
    return catalog


def test_run_curates_a_partitioned_source_itself_whatever_partition_runs_says(tmp_path):
    """`commons run` runs the job in its own process, where no sensor starts partition runs: the curated step stages
    the partitions, and the source is published even with COMMONS_PARTITION_RUNS=1."""
    catalog = notices_catalog(tmp_path, partitions=2)
    result = invoke("run", COMMONS_CATALOG=catalog, COMMONS_HOME=tmp_path / "home", COMMONS_PARTITION_RUNS=1)
    assert result.exit_code == 0, result.output
    assert "school_notices: published v1" in result.output
    assert sorted(p.name for p in (tmp_path / "home" / "curated" / "school_notices" / "partitions").iterdir()) == [
        "000", "001"]


def test_run_twice_publishes_v1_then_nothing(tmp_path):
    catalog = samples_catalog(tmp_path)
    first = commons("run", home=tmp_path, catalog=catalog)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "school_notices: published v1 (19 rows)" in first.stdout
    assert "home_care_guides: published v1 (12 rows)" in first.stdout
    # a line per stage as it ends, then a table per source: rows in and out, removed by reason
    lines = first.stdout.splitlines()
    for stage in ("ingest", "check listing", "curate", "check generic", "check declared", "publish"):
        assert any(re.match(rf"\s+school_notices\s+{stage}\s+ok\s+\d+\.\ds", line) for line in lines), stage
    assert any(re.match(r"\s+school_notices\s+ingest\s+ok .*21 rows landed, 3 quarantined; 2 files listed", line)
               for line in lines)
    block = first.stdout.split("school_notices: published v1")[1].split("\n\n")[0]
    assert re.search(r"\ningest\s+24\s+21\s+3\s+invalid_encoding: 1, malformed_csv_row: 2 *\n", block), block
    assert re.search(r"\npii\s+21\s+20\s+1\s+pii:NATIONAL_ID: 1 *\n", block)
    assert re.search(r"\nexact_dedup\s+20\s+19\s+1\s+exact_duplicate: 1 *\n", block)
    assert "\n  languages: en 7, fr 7, es 5\n" in block
    assert "\n  personal data found, then treated by the source's policy: EMAIL 3, PHONE 2, IBAN 1, NATIONAL_ID 1" \
        in block
    assert f"-> {tmp_path / 'published' / 'school_notices' / 'versions' / 'v1'}\n" in first.stdout
    assert ANSI not in first.stdout + first.stderr  # not a terminal: no colour codes, no spinner
    second = invoke("run", COMMONS_HOME=tmp_path, COMMONS_CATALOG=catalog)
    assert second.exit_code == 0, second.output[-3000:]
    assert "school_notices: unchanged, current is v1" in second.stdout
    assert re.search(r"school_notices\s+curate\s+ok .*19 rows \(reused: nothing changed\)", second.stdout)
    assert sorted(p.name for p in (tmp_path / "published" / "school_notices" / "versions").iterdir()) == ["v1"]


def test_check_passes_over_the_shipped_catalog_and_lists_every_source_with_its_suites(tmp_path):
    from commons_pipelines.spec import CATALOG_DIR

    out = invoke("check", COMMONS_HOME=tmp_path, COMMONS_CATALOG=None)
    assert out.exit_code == 0, out.output
    assert all(f"{p.stem}: " in out.stdout for p in CATALOG_DIR.glob("*.yaml"))
    assert "fr_medicines: files" in out.stdout and "not checked (network)" in out.stdout
    assert "school_notices: files, CC-BY-4.0, en, fr, es, suites: generic, declared" in out.stdout
    assert "home_care_guides: files, CC-BY-SA-4.0" in out.stdout
    assert "columns: not landed yet" in out.stdout  # a fresh home: nothing to compare the columns with


def test_catalog_names_a_broken_file_and_exits_non_zero(tmp_path):
    catalog = notices_catalog(tmp_path)
    (catalog / "who.yaml").write_text("id: who\nlicence: CC-BY-NC-SA-3.0-IGO\n")
    for command in ("catalog", "check"):
        out = invoke(command, COMMONS_CATALOG=catalog, COMMONS_HOME=tmp_path / "home")
        assert out.exit_code == 1 and "school_notices: files" in out.output
        assert "who: BROKEN:" in out.output and "is not an open licence" in out.output


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory):
    """One run, as a user's shell runs it, of a catalog where two things go wrong: school_notices declares an
    expectation its data fails, and empty_notices has a glob that matches no file."""
    root = tmp_path_factory.mktemp("failing")
    expectations = yaml.safe_load((ROOT / "commons_pipelines" / "catalog" / "school_notices.yaml").read_text())[
        "expectations"]
    catalog = notices_catalog(root, expectations=[
        *expectations, {"expect_column_values_to_be_in_set": {"column": "school", "value_set": ["Riverside"]}}])
    empty = yaml.safe_load((catalog / "school_notices.yaml").read_text(encoding="utf-8"))
    empty.update(id="empty_notices", files={**empty["files"], "glob": "*.tsv"}, expectations=[])
    (catalog / "empty_notices.yaml").write_text(yaml.safe_dump(empty, allow_unicode=True), encoding="utf-8")
    out = commons("run", home=root / "home", catalog=catalog)
    return root, catalog, out


def test_a_failed_check_says_which_expectation_with_sample_values(failed_run):
    root, _, out = failed_run
    assert out.returncode == 1, out.stderr[-3000:]
    assert "Traceback" not in out.stderr and ANSI not in out.stdout + out.stderr
    assert re.search(r"school_notices\s+check declared\s+FAILED .*1 of 4 expectations failed: "
                     r"expect_column_values_to_be_in_set", out.stdout)
    assert re.search(r"school_notices\s+publish\s+skipped\s+not run: check declared failed", out.stdout)
    assert "school_notices: not published (check declared failed); nothing published yet" in out.stdout
    report = out.stderr.split("check failed: school_notices/curated declared_suite: 1 of 4 expectations failed (over "
                              "19 curated rows):\n")[1]
    failing, samples = report.splitlines()[:2]
    assert failing == "  expect_column_values_to_be_in_set(column='school', value_set=['Riverside']): 19 unexpected"
    assert samples.strip().startswith("e.g. ")  # the values the check rejected, once each
    shown = re.findall(r"'([^']+)'", samples)
    assert {"Riverside Primary School", "École élémentaire Jean Moulin"} <= set(shown)
    assert len(set(shown)) == len(shown)
    assert not (root / "home" / "published" / "school_notices").exists()


def test_a_failed_step_says_its_cause_not_dagsters_wrapper(failed_run):
    root, catalog, out = failed_run
    assert re.search(r"empty_notices\s+ingest\s+FAILED .*field 'files.glob': '\*.tsv' matches no file", out.stdout)
    assert (f"empty_notices: ingest failed: {catalog / 'empty_notices.yaml'}: field 'files.glob': '*.tsv' matches no "
            f"file in {root / 'samples' / 'school_notices'}") in out.stderr
    assert "Error occurred while executing" not in out.stdout + out.stderr
    assert "empty_notices: not published (ingest failed); nothing published yet" in out.stdout
    assert re.search(r"empty_notices\s+curate\s+skipped\s+not run: ingest failed", out.stdout)


def test_check_finds_what_only_a_run_found_before(failed_run):
    """Against the schema school_notices landed in the failed run: a text column that is not there, an expectation on
    a misspelt column; and a glob or a path that finds no file."""
    root, catalog, _ = failed_run
    spec = yaml.safe_load((catalog / "school_notices.yaml").read_text(encoding="utf-8"))
    spec.update(text_columns=["title", "content"], expectations=[
        {"expect_column_values_to_not_be_null": {"column": "audiense"}},
        {"expect_column_values_to_be_in_set": {"column": "_lang", "value_set": ["en", "fr", "es"]}}])
    edited = root / "edited"
    edited.mkdir()
    (edited / "school_notices.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    shutil.copy(catalog / "empty_notices.yaml", edited)
    gone = yaml.safe_load((catalog / "empty_notices.yaml").read_text(encoding="utf-8"))
    gone.update(id="gone_notices", files={**gone["files"], "path": "../samples/gone"})
    (edited / "gone_notices.yaml").write_text(yaml.safe_dump(gone), encoding="utf-8")
    out = invoke("check", COMMONS_HOME=root / "home", COMMONS_CATALOG=edited)
    assert out.exit_code == 1, out.output
    problems = [line.strip() for line in out.stdout.splitlines() if line.startswith("  ")]
    source = edited / "school_notices.yaml"
    assert problems[0] == (f"{edited / 'empty_notices.yaml'}: field 'files.glob': '*.tsv' matches no file in "
                           f"{root / 'samples' / 'school_notices'}")
    assert problems[1] == (f"{edited / 'gone_notices.yaml'}: field 'files.path': {root / 'samples' / 'gone'} does not "
                           "exist")
    assert problems[2].startswith(f"{source}: field 'text_columns[1]': column 'content' is not in the landed data; "
                                  "columns: notice_id, school, published_on, language, audience, title, body")
    assert problems[3].startswith(f"{source}: field 'expectations[0] (expect_column_values_to_not_be_null).column': "
                                  "column 'audiense' is not in the landed data (did you mean 'audience'?)")
    assert len(problems) == 4  # `_lang` is a column curation adds: an expectation may name it
    assert "school_notices: files, CC-BY-4.0, en, fr, es, suites: generic, declared, files: 2 found, columns: " \
           "checked against the landed schema" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == f"3 source(s) in {edited}: 0 ok, 3 with problems"
    fine = invoke("check", "school_notices", COMMONS_HOME=root / "home", COMMONS_CATALOG=catalog)
    assert fine.exit_code == 0 and fine.stdout.strip().splitlines()[-1] == f"1 source(s) in {catalog}: 1 ok"


def test_versions_lists_and_compares_per_language(tmp_path):
    catalog = notices_catalog(tmp_path)
    env = {"COMMONS_CATALOG": catalog, "COMMONS_HOME": tmp_path / "home"}
    assert invoke("run", "school_notices", **env).exit_code == 0
    assert invoke("versions", "school_notices", **env).stdout.count("\nv1 (live) ") == 1
    # the 2026 file: SN-2026-001 (en) edited, SN-2026-002 (fr) gone, SN-2026-099 (es) new
    path = tmp_path / "samples" / "school_notices" / "notices_2026.csv"
    lines = [line.replace(b"spring term starts", b"summer term starts") for line in path.read_bytes().splitlines()
             if not line.startswith(b"SN-2026-002,")]
    new = ("SN-2026-099,Colegio Público Miguel Hernández,2026-03-01,es,parents,Excursión al museo,\"El jueves 12 de "
           "marzo los alumnos de quinto visitarán el museo de ciencias con sus profesores y volverán a las cinco.\"")
    path.write_bytes(b"\n".join([*lines, new.encode()]) + b"\n")
    second = invoke("run", "--source", "school_notices", **env)
    assert second.exit_code == 0 and "school_notices: published v2 (19 rows)" in second.stdout, second.output

    listed = invoke("versions", "school_notices", **env)
    assert listed.exit_code == 0
    assert f"school_notices: 2 version(s) in {tmp_path / 'home' / 'published' / 'school_notices'}" in listed.stdout
    assert re.search(r"\nv1\s+\d{4}-\d\d-\d\dT[\d:]+Z\s+19\s+19 rows\s*\n", listed.stdout), listed.stdout
    assert re.search(r"\nv2 \(live\)\s+\d{4}-\d\d-\d\dT[\d:]+Z\s+19\s+19 rows. 2 added, 2 removed\s*\n", listed.stdout)

    diff = invoke("versions", "school_notices", "--diff", "v1", "v2", **env)
    assert diff.exit_code == 0, diff.output
    assert "school_notices: v1 (19 rows, " in diff.stdout and "a row is identified by notice_id" in diff.stdout
    table = {cells[0]: [int(c) for c in cells[1:]] for cells in (line.split() for line in diff.stdout.splitlines())
             if len(cells) == 5 and cells[1].isdigit()}
    #                   added removed changed unchanged
    assert table == {"en": [0, 0, 1, 6], "es": [1, 0, 0, 5], "fr": [0, 1, 0, 6], "total": [1, 1, 1, 17]}
    back = invoke("versions", "school_notices", "--compare", "v2", "v1", **env)
    assert re.search(r"\nes\s+0\s+1\s+0\s+5\s*\n", back.stdout) and re.search(r"\nfr\s+1\s+0\s+0\s+6\s*\n", back.stdout)
    missing = invoke("versions", "school_notices", "--diff", "v1", "v3", **env)
    assert missing.exit_code == 2
    assert missing.stderr.strip() == "commons: school_notices: no version 'v3'; versions: v1, v2"


def test_erase_publishes_a_version_without_the_record_and_removes_older_ones(tmp_path):
    import pyarrow.parquet as pq

    env = {"COMMONS_CATALOG": notices_catalog(tmp_path), "COMMONS_HOME": tmp_path / "home"}
    first = invoke("run", "--source", "school_notices", **env)
    assert first.exit_code == 0, first.output
    root = tmp_path / "home" / "published" / "school_notices"
    title = "Cantine et allergies"  # SN-2025-004's title: content that must not survive anywhere
    assert title in str(pq.read_table(root / "current" / "data").to_pylist())

    reason = "request 2026-17 (GDPR art. 17)"
    erased = invoke("erase", "school_notices", "--key", "notice_id=SN-2025-004", "--reason", reason, **env)
    assert erased.exit_code == 0, erased.output
    assert "school_notices: published v2 (18 rows)" in erased.output and "removed v1" in erased.output
    assert sorted(p.name for p in (root / "versions").iterdir()) == ["v2"]
    for path in root.rglob("*"):
        if path.is_file():
            assert title not in readable(path), path
    card = (root / "current" / "README.md").read_text(encoding="utf-8")
    assert f"1 erased on request: {reason} (1)" in card and "SN-2025-004" not in card

    again = invoke("run", "--source", "school_notices", **env)
    assert again.exit_code == 0 and "school_notices: unchanged, current is v2" in again.output

    wrong = invoke("erase", "school_notices", "--key", "title=x", "--reason", "r", **env)
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
    said = sorted(line.split(" (")[0] for out, _ in outputs for line in out.splitlines()
                  if line.startswith("school_notices: "))
    assert said == ["school_notices: published v1", "school_notices: unchanged, current is v1"]
    root = tmp_path / "home" / "published" / "school_notices"
    assert sorted(p.name for p in (root / "versions").iterdir()) == ["v1"]
    import duckdb

    with duckdb.connect(str(tmp_path / "home" / "warehouse" / "school_notices.duckdb"), read_only=True) as con:
        # the sample's 21 good lines (one notice twice, on purpose): landed once, not once per run
        assert con.execute("select count(*), count(distinct notice_id) from raw.records").fetchone() == (21, 20)


def test_erase_on_the_hub_purges_history_only_when_asked(tmp_path):
    from .hub_emulator import serve

    token, repo = "hf_erase_test_token", "commons-pipelines/school-notices"
    for hub in serve(tokens={token: "commons-pipelines"}):
        env = {"COMMONS_CATALOG": notices_catalog(tmp_path), "COMMONS_HOME": tmp_path / "h", "COMMONS_TARGET": "hub",
               "HF_ENDPOINT": hub.url, "HF_TOKEN": token}
        assert invoke("run", "--source", "school_notices", **env).exit_code == 0
        v1 = hub.refs(repo)["tags"]["v1"]
        args = ["erase", "school_notices", "--key", "notice_id=SN-2025-004", "--reason", "opt-out"]
        kept = invoke(*args, **env)
        assert kept.exit_code == 0, kept.output
        assert "older Hub versions v1 may still hold the erased rows" in kept.output
        assert set(hub.refs(repo)["tags"]) == {"v1", "v2"}
        # the versions on the Hub, and what the erasure changed between them, read at their tags
        listed = invoke("versions", "school_notices", **env)
        assert f"school_notices: 2 version(s) in {hub.url}/datasets/{repo}" in listed.stdout, listed.output
        assert re.search(r"\nv2 \(live\)\s+\S+\s+18\s", listed.stdout)
        diff = invoke("versions", "school_notices", "--diff", "v1", "v2", **env)
        assert diff.exit_code == 0 and re.search(r"\nfr\s+0\s+1\s+0\s+\d+\s*\n", diff.stdout), diff.output
        assert re.search(r"\ntotal\s+0\s+1\s+0\s+18\s*\n", diff.stdout)
        purged = invoke("erase", "school_notices", "--match", "(?i)carnaval", "--reason", "opt-out",
                        "--purge-history", **env)
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
    out = invoke("erase", "school_notices", "--key", "SN-2025-004", "--reason", "r")
    assert out.exit_code == 2 and "--key takes COLUMN=VALUE" in out.output


KIND_ORIGINS = {"files": None, "rest_api": "https://api.example.org/v2", "sql": None, "ckan": "https://demo.ckan.org",
                "udata": None, "hf_dataset": "someone/some-dataset"}


def test_new_source_writes_a_yaml_that_loads_for_every_kind_and_refuses_a_bad_or_taken_id(tmp_path):
    from commons_pipelines.cli.scaffold import PLACEHOLDER, source_test
    from commons_pipelines.spec import KINDS, load_spec

    assert sorted(KIND_ORIGINS) == sorted(KINDS)
    catalog = tmp_path / "catalog"
    for kind, origin in KIND_ORIGINS.items():
        args = ["new-source", f"my_{kind}", "--kind", kind, "--catalog", str(catalog), "--no-test"]
        out = invoke(*args, *(["--from", origin] if origin else []))
        assert out.exit_code == 0, out.output
        path = catalog / f"my_{kind}.yaml"
        assert f"wrote {path}" in out.stdout
        spec = load_spec(path)
        assert spec.id == f"my_{kind}" and spec.kind == kind and spec.licence == "CC-BY-4.0" and spec.attribution
        if origin:
            assert origin in path.read_text()
        compile(source_test(spec), f"test_source_my_{kind}.py", "exec")  # its recorded-response test is Python
    assert "https://api.example.org/v2/items?per_page=100" in source_test(load_spec(catalog / "my_rest_api.yaml"))
    # what is left to fill in is named by `commons check`, which fails until it is done
    check = invoke("check", "my_rest_api", COMMONS_CATALOG=catalog, COMMONS_HOME=tmp_path / "home")
    assert check.exit_code == 1 and f"placeholder(s) of `commons new-source` left ({PLACEHOLDER}): " in check.stdout
    assert "title (line 5)" in check.stdout

    for args, said in [(["my_files"], f"{catalog / 'my_files.yaml'} exists already: source 'my_files' is taken"),
                       (["My-Source"], "'My-Source' is not a source id: lower case letters, digits and _"),
                       (["fine_id", "--kind", "ftp"], "unknown kind 'ftp'; kinds: files, rest_api, sql, ckan"),
                       (["fine_id", "--licence", "CC-BY-NC-4.0"], "'CC-BY-NC-4.0' is not an open licence")]:
        out = invoke("new-source", *args, "--catalog", str(catalog), "--no-test")
        assert out.exit_code == 2 and len(out.stderr.strip().splitlines()) == 1 and said in out.stderr, out.output
    assert not (catalog / "fine_id.yaml").exists()


def test_new_source_from_a_local_file_reads_its_columns_and_its_test_publishes_it(tmp_path):
    """The contributor's path: scaffold from a real file, fill in the placeholders, run the recorded-response test
    that new-source wrote (kept in a package of its own here, next to the helpers it imports)."""
    data = tmp_path / "data" / "notices.csv"
    data.parent.mkdir()
    shutil.copy(ROOT / "commons_pipelines" / "samples" / "school_notices" / "notices_2025.csv", data)
    catalog = tmp_path / "catalog"
    out = invoke("new-source", "notices", "--from", str(data), "--catalog", str(catalog), "--no-test")
    assert out.exit_code == 0, out.output
    assert "columns found: notice_id, school, published_on, language, audience, title, body" in out.stdout
    text = (catalog / "notices.yaml").read_text()
    assert "  path: ../data/notices.csv  # relative to this YAML's folder\n  format: csv\n" in text
    text = re.sub(r"  # TODO\(new-source\)[^\n]*", "", text).replace("text_columns: []", "text_columns: [title, body]")
    text = text.replace("languages: [en]", "languages: [en, fr]")
    assert "\npii:\n  policy: redact" in text
    # NER off, as in the other tests of the command: the models would take most of the generated test's time
    (catalog / "notices.yaml").write_text(text.replace("\npii:\n", '\npii:\n  ner: "off"\n'))

    from commons_pipelines.cli.scaffold import source_test
    from commons_pipelines.spec import load_spec

    package = tmp_path / "generated"
    package.mkdir()
    for helper in (ROOT / "commons_pipelines_tests").glob("*.py"):
        if not helper.name.startswith("test_") or helper.name == "test_pipeline.py":
            (package / helper.name).symlink_to(helper)
    (package / "test_source_notices.py").write_text(source_test(load_spec(catalog / "notices.yaml")))
    env = {**os.environ, "COMMONS_CATALOG": str(catalog)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                          str(package / "test_source_notices.py")], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0 and "2 passed" in run.stdout, run.stdout[-3000:] + run.stderr[-2000:]
