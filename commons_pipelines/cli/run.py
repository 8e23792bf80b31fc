"""`commons run` (progress per stage, a summary per source, failures with their cause), `commons ui` and
`commons erase`."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..spec import SourceSpec, catalog_folder, offline_split

if TYPE_CHECKING:
    from ..settings import Settings

from . import (_catalog, _kwargs, _n, _pick, _settings, _short, _target, app, fail, out, say,
               warn)


# ---------------------------------------------------------------------------------------------------------------------
# commons run: progress per stage, a summary per source, failures with their cause

STAGE_OF = {"raw": "ingest", "curated": "curate", "published": "publish", "catalog": "load YAML"}
ORDER = ["load YAML", "ingest", "check listing", "curate", "check generic", "check declared", "publish"]


@dataclass
class Step:
    source: str
    stage: str
    started: float | None = None
    ended: float | None = None
    status: str = "planned"  # planned, running, ok, failed, skipped


@dataclass
class CheckVerdict:
    source: str
    name: str
    passed: bool
    metadata: dict
    asset: str = ""  # <source>/curated, <source>/raw


@dataclass
class Progress:
    """Listens to the run's Dagster events as they are stored (DagsterInstance.add_event_listener, called in this
    process while execute_in_process runs): a line per step as it ends, a live status line on a terminal, and what the
    summary and the failure report need afterwards."""

    console: Console
    kinds: dict[str, str] = field(default_factory=dict)  # source id -> kind, for the words of the ingest line
    steps: dict[str, Step] = field(default_factory=dict)
    materialized: dict[tuple[str, str], dict] = field(default_factory=dict)
    checks: list[CheckVerdict] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # step key -> cause
    status: Any = None  # rich Status on a terminal
    broken: str | None = None

    def __call__(self, entry) -> None:
        try:
            self._event(entry)
        except Exception as error:  # the display must never break the run it shows
            if self.broken is None:
                self.broken = f"{type(error).__name__}: {error}"

    def _step(self, key: str | None) -> Step | None:
        return self.steps.get(key) if key else None

    def _event(self, entry) -> None:
        if not entry.is_dagster_event:
            step = self._step(entry.step_key)
            if step is not None and step.status == "planned" and entry.level >= logging.ERROR:
                # Dagster's "Dependencies for step ... failed ... Not executing": the step is skipped
                step.status = "skipped"
                upstream = [s for k, s in self.steps.items() if f"'{k}'" in entry.user_message]
                failed = [s.stage for s in upstream if s.status == "failed"]
                self._done(step, "", f"not run: {', '.join(failed)} failed" if failed else
                           f"not run: {', '.join(s.stage for s in upstream) or 'an earlier step'} did not run")
                return
            if entry.level >= logging.WARNING and entry.user_message:
                where = f"{step.source} {step.stage}: " if step else ""
                self._print(Text(f"  warning: {where}{entry.user_message}", style="yellow"))
            return
        event = entry.get_dagster_event()
        kind, key, data = event.event_type_value, event.step_key, event.event_specific_data
        if kind == "ASSET_MATERIALIZATION_PLANNED" and key:
            path = data.asset_key.path
            self.steps.setdefault(key, Step(path[0], STAGE_OF.get(path[-1], path[-1])))
        elif kind == "ASSET_CHECK_EVALUATION_PLANNED" and key:
            self.steps.setdefault(key, Step(data.asset_key.path[0], _check_stage(data.check_name)))
        elif kind == "STEP_START" and (step := self._step(key)):
            step.started, step.status = entry.timestamp, "running"
            self._update()
        elif kind == "ASSET_MATERIALIZATION":
            mat = data.materialization
            self.materialized[(mat.asset_key.path[0], STAGE_OF.get(mat.asset_key.path[-1], ""))] = {
                k: v.value for k, v in mat.metadata.items()}
        elif kind == "ASSET_CHECK_EVALUATION":
            self.checks.append(CheckVerdict(data.asset_key.path[0], data.check_name, data.passed,
                                            {k: v.value for k, v in data.metadata.items()},
                                            data.asset_key.to_user_string()))
        elif kind == "STEP_SUCCESS" and (step := self._step(key)):
            step.ended, step.status = entry.timestamp, "ok"
            self._done(step, key)
        elif kind == "STEP_FAILURE" and (step := self._step(key)):
            step.ended, step.status = entry.timestamp, "failed"
            self.failures[key] = step_cause(data)
            self._done(step, key)
        elif kind == "STEP_UP_FOR_RETRY" and (step := self._step(key)):
            self._print(Text(f"  {step.source}  {step.stage}: retrying: {step_cause(data)}", style="yellow"))

    def _print(self, text: Text) -> None:
        self.console.print(text, soft_wrap=True)

    def _update(self) -> None:
        if self.status is not None:
            running = [f"{s.source} {s.stage}" for s in self.steps.values() if s.status == "running"]
            self.status.update(f"running: {', '.join(running)}" if running else "…")

    def _done(self, step: Step, key: str, note: str = "") -> None:
        seconds = (step.ended or 0) - (step.started or step.ended or 0)
        failed = step.status == "failed"
        if not note:
            checked = step.stage.startswith("check ") and self.verdict(step.source, step.stage) is not None
            note = self._note(step) if checked or not failed else self.failures.get(key, "")
        width = max((len(s.source) for s in self.steps.values()), default=10)
        line = Text(f"  {step.source:<{width}}  {step.stage:<15}")
        word, style = {"failed": ("FAILED", "bold red"), "skipped": ("skipped", "yellow")}.get(step.status,
                                                                                              ("ok", "green"))
        line.append(f"{word:<8}", style=style)
        line.append(f"{seconds:5.1f}s  " if step.started else "        ", style="dim")
        line.append(note.splitlines()[0] if note else "")
        self._print(line)
        self._update()

    def _note(self, step: Step) -> str:
        md = self.materialized.get((step.source, step.stage), {})
        if step.stage == "ingest":
            quarantined = sum(v for k, v in md.items() if k.startswith("quarantined/"))
            unit = "file" if self.kinds.get(step.source, "files") == "files" else "unit"
            return (f"{md.get('dagster/row_count', 0):,} rows landed, {quarantined:,} quarantined; "
                    f"{_n(md.get('files/listed', 0), unit)} listed, {md.get('files/read', 0)} read")
        if step.stage == "curate":
            reused = " (reused: nothing changed)" if md.get("reused") else ""
            return f"{md.get('dagster/row_count', 0):,} rows{reused}"
        if step.stage == "publish":
            if md.get("changed"):
                return f"published {md.get('version')} ({md.get('dagster/row_count', 0):,} rows)"
            return f"unchanged, {md.get('version')} stays current"
        if step.stage.startswith("check "):
            verdict = self.verdict(step.source, step.stage)
            if verdict is None:
                return ""
            md = verdict.metadata
            if "evaluated_expectations" in md:
                failed = md["evaluated_expectations"] - md["successful_expectations"]
                if failed:
                    return (f"{failed} of {md['evaluated_expectations']} expectations failed: "
                            + ", ".join(sorted({f["expectation"] for f in md.get("failures") or []}))
                            + " (details below)")
                return f"{md['successful_expectations']} of {md['evaluated_expectations']} expectations passed"
            if "problem" in md:
                return str(md["problem"])
            if "files_listed" in md:
                unit = "file" if self.kinds.get(step.source, "files") == "files" else "unit"
                return f"{_n(md['files_listed'], unit)} listed"
        return ""

    def verdict(self, source: str, stage: str) -> CheckVerdict | None:
        for v in self.checks:
            if v.source == source and _check_stage(v.name) == stage:
                return v
        return None

    def sources(self) -> list[str]:
        return list(dict.fromkeys(s.source for s in self.steps.values()))


def _check_stage(check_name: str) -> str:
    return f"check {check_name.removesuffix('_suite')}"


_DAGSTER_WRAPPERS = {"DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError",
                     "DagsterExecutionInterruptedError", "RetryRequestedFromPolicy"}


def step_cause(data) -> str:
    """What went wrong in a step, in the words of the code that failed: a Failure's description, else the first
    exception under Dagster's wrappers ("Error occurred while executing op ..."), with what caused it."""
    user = getattr(data, "user_failure_data", None)
    if user is not None and user.description:
        return user.description
    chain, error = [], getattr(data, "error", None)
    while error is not None and len(chain) < 20:
        chain.append(error)
        error = error.cause or error.context
    inner = [e for e in chain if e.cls_name not in _DAGSTER_WRAPPERS]
    if not inner:
        return _message(chain[-1]) if chain else "no cause reported"
    said = _message(inner[0])
    if len(inner) > 1:
        said += f" (caused by {_message(inner[1])})"
    return said


def _message(error) -> str:
    """`Class: message`, without the module path Dagster's serialisation puts in front."""
    name = error.cls_name or ""
    message = re.sub(rf"^(?:[\w.]+\.)?{re.escape(name)}: ", "", error.message.strip()) if name else error.message
    if name in ("Failure", "DagsterAssetCheckFailedError"):
        return message.strip()
    return f"{name}: {message.strip()}" if name else message.strip()


def _stage_rank(stage: str) -> int:
    return ORDER.index(stage) if stage in ORDER else len(ORDER)


def _published_line(source: str, md: dict) -> str:
    state = "published" if md.get("changed") else "unchanged, current is"
    return f"{source}: {state} {md['version']} ({md['dagster/row_count']} rows) -> {md['location']}"


def _live_version(spec: SourceSpec | None, settings: Settings) -> str:
    if spec is None:
        return ""
    target = _target(settings)
    try:
        history = target.history(spec)
    except Exception as error:  # the Hub unreachable: say so, the run's own failure says more
        return f"; the live version could not be read ({type(error).__name__})"
    if not history:
        return "; nothing published yet"
    live, url = history[-1], target.url(spec)
    return f"; the live version stays {live.name} -> {f'{url}/tree/{live.name}' if url else live.ref}"


def _summary(progress: Progress, specs: dict[str, SourceSpec], settings: Settings) -> None:
    """One block per source: what publish did (the line `make run` has always printed), then rows per stage."""
    for source in progress.sources():
        steps = sorted((s for s in progress.steps.values() if s.source == source), key=lambda s: _stage_rank(s.stage))
        published = progress.materialized.get((source, "publish"))
        say("")
        if published:
            say(_published_line(source, published), style="bold")
        else:
            failed = [s.stage for s in steps if s.status == "failed"]
            why = f"{', '.join(failed)} failed" if failed else "not run"
            say(f"{source}: not published ({why}){_live_version(specs.get(source), settings)}", style="bold red")
        curated = progress.materialized.get((source, "curate"), {})
        stages = curated.get("stages") or (published or {}).get("stages")
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        for name, justify in (("stage", "left"), ("rows in", "right"), ("rows out", "right"),
                              ("removed", "right"), ("removed by reason", "left")):
            table.add_column(name, justify=justify, overflow="fold")
        for record in getattr(stages, "records", None) or []:
            row = record.data
            table.add_row(str(row["stage"]), f"{row['rows_in']:,}", f"{row['rows_out']:,}", f"{row['removed']:,}",
                          "" if row["by_reason"] == "-" else str(row["by_reason"]))
        if table.row_count:
            out().print(table)
        languages = [(r.data["language"], r.data["rows"]) for r in getattr(curated.get("languages"), "records", [])]
        if languages:
            say("  languages: " + ", ".join(f"{lang} {rows:,}" for lang, rows in languages[:12])
                + (", …" if len(languages) > 12 else ""))
        found = {k.split("/", 1)[1]: v for k, v in curated.items() if k.startswith("pii/") and isinstance(v, int)}
        if found:
            say("  personal data found, then treated by the source's policy: "
                + ", ".join(f"{kind} {n:,}" for kind, n in sorted(found.items(), key=lambda kv: -kv[1])))
        not_run = [s.stage for s in steps if s.status in ("planned", "skipped")]
        if not_run:
            say(f"  not run: {', '.join(not_run)} (an earlier step or a blocking check failed)", style="dim")


def _failure_report(progress: Progress, specs: dict[str, SourceSpec], settings: Settings) -> None:
    """Every failure with its cause: the expectations that failed with sample values, or the step's own error."""
    for verdict in progress.checks:
        if verdict.passed:
            continue
        md = verdict.metadata
        warn("")
        head = f"check failed: {verdict.asset} {verdict.name}"  # the line `commons run` has always printed
        if "problem" in md:
            warn(f"{head}: {md['problem']}", style="bold red")
            continue
        failures = md.get("failures") or []
        evaluated, rows = md.get("evaluated_expectations", "?"), md.get("rows")
        over = f" (over {rows:,} curated rows)" if isinstance(rows, int) else ""
        warn(f"{head}: {len(failures)} of {evaluated} expectations failed{over}:", style="bold red")
        samples = FailureSamples(specs.get(verdict.source), settings, verdict)
        for failure in failures:
            for line in samples.describe(failure):
                warn(f"  {line}")
    for key, cause in progress.failures.items():
        step = progress.steps[key]
        if "blocking asset check" in cause.split("\n")[0]:
            continue  # said above, with the expectations
        warn("")
        warn(f"{step.source}: {step.stage} failed: {cause.strip()}", style="bold red")
    if progress.broken:
        warn(f"(the progress display met an error and may be incomplete: {progress.broken})", style="dim")


class FailureSamples:
    """What a failed expectation rejected: the sample of unexpected values the check kept (row-level expectations), or,
    for a uniqueness expectation judged over the whole dataset, the most repeated values, read from the curation the
    check judged. Residual personal data is never shown, only counted."""

    SAMPLES = 5

    def __init__(self, spec: SourceSpec | None, settings: Settings, verdict: CheckVerdict) -> None:
        self.spec, self.verdict, self.curated, self.suite = spec, verdict, None, None
        if spec is None:
            return
        from ..curate.runner import load_curated
        from ..validate.suites import suite

        try:
            curated = load_curated(settings.curated_dir / spec.id)
        except (OSError, ValueError, KeyError):
            curated = None
        if curated is not None and curated.id == verdict.metadata.get("curation"):
            self.curated = curated  # the data the check judged
        try:
            self.suite = suite(spec, verdict.name.removesuffix("_suite"), curated.schema if curated else None)
        except Exception:  # the expectation is still named, with the arguments the check kept
            self.suite = None

    def expectation(self, failure: dict):
        if self.suite is None:
            return None
        for e in self.suite.expectations:
            kwargs = e.configuration.kwargs
            if e.expectation_type == failure["expectation"] and all(
                    kwargs.get(k) == v for k, v in failure.get("kwargs", {}).items()):
                return e
        return None

    def describe(self, failure: dict) -> list[str]:
        e = self.expectation(failure)
        kwargs = dict(e.configuration.kwargs) if e is not None else failure.get("kwargs", {})
        head = f"{failure['expectation']}({_kwargs(kwargs)})"
        facts = []
        if failure.get("exception"):
            facts.append(f"could not be evaluated: {failure['exception']}")
        if failure.get("unexpected_count") is not None:
            facts.append(f"{failure['unexpected_count']:,} unexpected")
        if failure.get("missing_count"):
            facts.append(f"{failure['missing_count']:,} missing")
        if failure.get("observed_value") is not None:
            facts.append(f"observed {_short(failure['observed_value'])}")
        lines = [f"{head}: {', '.join(facts) or 'failed'}"]
        if "residual_pii" in failure["expectation"]:
            lines.append("    values not shown: they are personal data")
        elif e is not None or failure.get("sample"):
            try:
                values = self.samples(e, failure)
            except Exception as error:  # e.g. the curated data moved on since the check: the counts still stand
                values = None
                lines.append(f"    (no sample values: {type(error).__name__})")
            if values:
                lines.append("    e.g. " + ", ".join(v if len(v) <= 60 else v[:59] + "…" for v in values))
        return lines

    def samples(self, e, failure: dict) -> list[str]:
        if failure.get("sample"):  # kept by the check (row-level expectations)
            return list(dict.fromkeys(repr(v) for v in failure["sample"] if v is not None))
        if e is not None and e.expectation_type in ("expect_column_values_to_be_unique",
                                                    "expect_compound_columns_to_be_unique"):
            return self._duplicates(e)
        return []

    def _duplicates(self, e) -> list:
        import duckdb

        kwargs = e.configuration.kwargs
        columns = [kwargs["column"]] if "column" in kwargs else list(kwargs.get("column_list") or [])
        if not columns or self.curated is None or not self.curated.files:
            return []
        cols = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
        with duckdb.connect() as con:
            rows = con.execute(f"select {cols}, count(*) from read_parquet(?) group by all having count(*) > 1 "
                               f"order by count(*) desc limit {self.SAMPLES}",
                               [[str(f) for f in self.curated.files]]).fetchall()
        return [f"{row[0] if len(row) == 2 else row[:-1]!r} ({row[-1]} times)" for row in rows]


def _dagster_home(settings: Settings) -> Path:
    """DAGSTER_HOME, by default COMMONS_HOME/dagster, with the dagster.yaml the Makefile writes if it has none:
    no telemetry, and one step at a time per pool (the steps sharing a source's DuckDB file)."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.home / "dagster").absolute()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n")
    return home


def _run(names: list[str], job: str | None = None, verbose: bool = False) -> tuple[bool, dict[str, SourceSpec]]:
    """Run sources (all of a job's, or the named ones) in this process, with progress; returns success and the specs.
    Partitions are staged in the curated step: no sensor runs here to start partition runs (COMMONS_PARTITION_RUNS)."""
    settings = replace(_settings(), partition_runs=False)
    specs, broken = _catalog()
    if names:
        if job not in (None, "nightly"):
            fail("give either --job or source names, not both", code=2)
        specs, broken = _pick(names, specs, broken), {}
    specs, skipped = offline_split(specs, settings.offline)
    for line in skipped.values():
        say(line, style="yellow")
    if not specs and not broken:
        say("nothing to run" + (" (COMMONS_OFFLINE=1)" if skipped else f": no source in {catalog_folder()}"))
        return not names, specs
    from dagster import DagsterInstance

    from ..orchestration import build_definitions

    defs = build_definitions(specs, settings, broken)
    jobs = sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__"))
    if names:  # the named sources: nightly holds them unless one has its own schedule
        job_def = (defs.resolve_job_def("nightly") if not any(s.schedule for s in specs.values())
                   else defs.resolve_implicit_global_asset_job_def())
    else:
        job = job or "nightly"
        if job not in jobs:
            fail(f"no job {job!r}; jobs: {', '.join(jobs)}", code=2)
        job_def = defs.resolve_job_def(job)
    recorded = os.environ.get("DAGSTER_HOME") or (settings.home / "dagster" / "dagster.yaml").exists()
    what = ", ".join(names) if names else f"job {job_def.name}"
    where = f"recorded in {_dagster_home(settings)}" if recorded else "not recorded for `commons ui`: no DAGSTER_HOME"
    say(f"running {what} (catalog {catalog_folder()}, home {settings.home}; {where})", style="dim")
    progress, run_id = Progress(out(), {i: s.kind for i, s in specs.items()}), str(uuid.uuid4())
    level = "INFO" if verbose else "CRITICAL"  # our own lines say what Dagster's would, with the cause
    config = {"loggers": {"console": {"config": {"log_level": level}}}}
    started = time.monotonic()
    # DAGSTER_HOME, or the COMMONS_HOME/dagster that `commons ui` and make set up: the run shows in the UI
    with (DagsterInstance.from_config(str(_dagster_home(settings))) if recorded else DagsterInstance.ephemeral()
          ) as instance, (out().status("starting…") if out().is_terminal else nullcontext()) as status:
        progress.status = status
        instance.add_event_listener(run_id, progress)
        result = job_def.execute_in_process(run_config=config, instance=instance, raise_on_error=False, run_id=run_id)
        progress.status = None
    _summary(progress, specs, settings)
    _failure_report(progress, specs, settings)
    say("")
    verdict = "succeeded" if result.success else "FAILED"
    say(f"run {verdict} in {time.monotonic() - started:.1f} s", style="bold green" if result.success else "bold red")
    return result.success, specs


@app.command()
def run(
    sources: Annotated[list[str] | None, typer.Argument(help="Sources to run (ids); default: every source of the "
                                                              "job.", show_default=False)] = None,
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="A source to run (repeatable); the "
                                                                             "same as naming it as an argument.",
                                                      show_default=False)] = None,
    job: Annotated[str | None, typer.Option(help="The Dagster job to run when no source is named.",
                                            show_default="nightly")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print Dagster's own log lines.")] = False,
) -> None:
    """Ingest, curate, check and publish sources in this process, with a line per stage as it ends and a summary.

    Exits non-zero when a step or a blocking check fails, and says why (the expectation that failed, with sample
    values). Runs are recorded for `commons ui` in DAGSTER_HOME, by default COMMONS_HOME/dagster once `commons ui`
    (or make) has set it up; otherwise not at all."""
    ok, _ = _run([*(sources or []), *(source or [])], job, verbose)
    raise typer.Exit(0 if ok else 1)


# ---------------------------------------------------------------------------------------------------------------------
# commons ui


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port of the web UI.")] = 3000,
    host: Annotated[str, typer.Option(help="Address the web UI listens on.")] = "127.0.0.1",
) -> None:
    """Start the Dagster UI (`dagster dev`) over the catalog, with DAGSTER_HOME defaulting to COMMONS_HOME/dagster,
    where `commons run` and `make run` then record their runs."""
    import importlib.util
    import shutil

    settings = _settings()
    if importlib.util.find_spec("dagster_webserver") is None:
        fail("the UI needs dagster-webserver: pip install -c constraints.txt -e '.[ui]' (make installs it)")
    executable = Path(sys.executable).with_name("dagster")
    command = str(executable) if executable.exists() else shutil.which("dagster")
    if not command:
        fail("the `dagster` command is not installed next to this Python")
    home = _dagster_home(settings)
    workspace = Path("workspace.yaml")
    where = ["-w", str(workspace)] if workspace.is_file() else ["-m", "commons_pipelines.definitions"]
    args = [command, "dev", *where, "-h", host, "-p", str(port)]
    say(f"DAGSTER_HOME={home} COMMONS_CATALOG={catalog_folder()}; http://{host}:{port}", style="dim")
    sys.stdout.flush()
    os.execve(command, args, {**os.environ, "DAGSTER_HOME": str(home), "COMMONS_HOME": str(settings.home)})


# ---------------------------------------------------------------------------------------------------------------------
# commons erase


@app.command()
def erase(
    source: Annotated[str, typer.Argument(help="The source id.")],
    reason: Annotated[str, typer.Option(help="Why (it goes to the card's changelog; never the content).")],
    keys: Annotated[list[str] | None, typer.Option("--key", metavar="COLUMN=VALUE",
                                                   help="The record's primary key, by its published column name "
                                                        "(repeat for a compound key).", show_default=False)] = None,
    match: Annotated[str | None, typer.Option(metavar="REGEX", help="Rows whose text (any data column) matches this "
                                                                    "RE2 regular expression.")] = None,
    sha256: Annotated[str | None, typer.Option(help="The row whose _row_sha256 this is.")] = None,
    url: Annotated[str | None, typer.Option(help="Every row whose _source_url this is.")] = None,
    purge_history: Annotated[bool, typer.Option("--purge-history", help="Hub: squash the repository's history so that "
                                                                        "no older revision keeps the rows (every older "
                                                                        "version is lost).")] = False,
) -> None:
    """Take records out of SOURCE for good: add a takedown entry, publish a version without them, and remove the
    older versions that still hold them (local target; on the Hub with --purge-history)."""
    from ..curate.takedown import Entry, add_entry
    from ..publish.erase import purge

    keys = keys or []
    given = [k for k, v in (("key", keys), ("match", match), ("sha256", sha256), ("url", url)) if v]
    if len(given) != 1:
        raise typer.BadParameter("give exactly one of --key, --match, --sha256, --url")
    kind = given[0]
    if kind == "key" and not all("=" in k for k in keys):
        raise typer.BadParameter("--key takes COLUMN=VALUE", param_hint="'--key'")
    given_values = {"match": match, "sha256": sha256, "url": url}
    value = dict(k.split("=", 1) for k in keys) if kind == "key" else given_values[kind]
    specs, broken = _catalog()
    spec = _pick([source], specs, broken)[source]
    settings = _settings()
    try:
        add_entry(settings.takedown_dir, source, Entry(kind, value, reason), spec.primary_key)
    except ValueError as error:
        fail(str(error))
    say(f"{source}: takedown entry added ({kind}); rebuilding")
    ok, _ = _run([source])
    if not ok:
        fail(f"{source}: the rebuild failed; the entry stays and applies to the next build")
    for line in purge(spec, settings, purge_history):
        say(line)
