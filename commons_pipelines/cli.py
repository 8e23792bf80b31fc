"""The `commons` command: scaffold a source, check the catalog, run sources with progress per stage, list and
compare published versions, open the Dagster UI, erase records on request.

Built on typer (which carries its own copy of click) and rich. Output is plain text when it does not go to a terminal:
rich then writes no colour codes and no spinner, so logs and tests read the same lines a person sees. A mistake in
what is asked (an unknown source, job or version, a bad id) is one line on stderr and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import sys
import time
import uuid
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .spec import SourceSpec, SpecError, catalog_folder, offline_split, scan_catalog

if TYPE_CHECKING:
    from .settings import Settings

app = typer.Typer(
    name="commons",
    help="Build and refresh open AI data commons: scaffold, check and run sources, compare published versions.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",  # help text: paragraphs rewrapped, `code` marked
    pretty_exceptions_enable=False,  # a bug shows Python's plain traceback, never local variables (tokens)
    context_settings={"help_option_names": ["-h", "--help"]},
)

PLAIN_WIDTH = 120
"""Line width when the output is not a terminal (a pipe, a file, a test), unless COLUMNS says otherwise."""


class _Consoles:
    out: Console
    err: Console


_io = _Consoles()


def _console(stderr: bool) -> Console:
    console = Console(stderr=stderr, markup=False, highlight=False, soft_wrap=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = PLAIN_WIDTH
    return console


def _open_consoles() -> None:
    _io.out, _io.err = _console(False), _console(True)


def out() -> Console:
    if not hasattr(_io, "out"):
        _open_consoles()
    return _io.out


def err() -> Console:
    if not hasattr(_io, "err"):
        _open_consoles()
    return _io.err


def say(line: str | Text, style: str | None = None) -> None:
    """One line on stdout, never wrapped (paths and URLs stay whole for whoever copies or greps them)."""
    out().print(line, style=style, soft_wrap=True)


def warn(line: str | Text, style: str | None = None) -> None:
    err().print(line, style=style, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Stop with one line on stderr."""
    warn(f"commons: {message}", style="bold red")
    raise typer.Exit(code)


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("commons-pipelines")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _show_version(value: bool) -> None:
    if value:
        say(f"commons-pipelines {_package_version()}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                                 help="Print the version and exit.")] = False) -> None:
    """Build and refresh open AI data commons: scaffold, check and run sources, compare published versions."""
    _open_consoles()


def main() -> None:
    """The `commons` entry point."""
    app()


# ---------------------------------------------------------------------------------------------------------------------
# shared helpers


def _settings() -> Settings:
    from .settings import Settings

    try:
        return Settings.from_env()
    except ValueError as error:
        fail(str(error))


def _catalog() -> tuple[dict[str, SourceSpec], dict[str, str]]:
    folder = catalog_folder()
    if not folder.is_dir():
        fail(f"the catalog folder {folder} does not exist (COMMONS_CATALOG)")
    return scan_catalog(folder)


def _pick(names: list[str], specs: dict[str, SourceSpec], broken: dict[str, str], loading: bool = True
          ) -> dict[str, SourceSpec]:
    """The named sources; an unknown name (or, when `loading`, a YAML that does not load) stops with one line."""
    unknown = [n for n in names if n not in specs and n not in broken]
    if unknown:
        known = ", ".join(sorted([*specs, *broken])) or "none"
        hint = difflib.get_close_matches(unknown[0], [*specs, *broken], n=1)
        fail(f"no source {', '.join(map(repr, unknown))} in {catalog_folder()}"
             + (f" (did you mean {hint[0]!r}?)" if hint else "") + f"; sources: {known}", code=2)
    for name in names:
        if name in broken and loading:
            fail(broken[name])
    return {name: specs[name] for name in dict.fromkeys(names) if name in specs}


def _target(settings: Settings):
    from .publish import open_target

    return open_target(settings.target, str(settings.publish_dir), settings.hf_endpoint, settings.hub_namespace)


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _kwargs(kwargs: dict, limit: int = 120) -> str:
    text = ", ".join(f"{k}={_short(v, 60)}" for k, v in kwargs.items() if k not in ("batch_id", "result_format"))
    return text if len(text) <= limit else text[:limit - 1] + "…"


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
        from .curate.runner import load_curated
        from .validate.suites import suite

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
    """Run sources (all of a job's, or the named ones) in this process, with progress; returns success and the specs."""
    settings = _settings()
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

    from .orchestration import build_definitions

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
# commons check (and its older name, commons catalog)

def _curated_system_columns() -> set[str]:
    from .columns import LANG, LANG2, LANG2_SHARE, LANG_SCORE, PROVENANCE

    return {*PROVENANCE, LANG, LANG_SCORE, LANG2, LANG2_SHARE}


def landed_columns(spec: SourceSpec, settings: Settings) -> tuple[list[str] | None, str]:
    """The data columns in the source's warehouse (raw.records), or None and why they are not known."""
    from .ingest.warehouse import database

    db = database(settings.warehouse_dir, spec.id)
    if not db.exists():
        return None, "not landed yet"
    import duckdb

    try:
        with duckdb.connect(str(db), read_only=True) as con:
            rows = con.execute("select column_name from information_schema.columns where table_schema = 'raw' "
                               "and table_name = 'records' order by ordinal_position").fetchall()
    except duckdb.Error as error:  # e.g. a run holds the file
        return None, f"warehouse not readable now ({str(error).splitlines()[0]})"
    if not rows:
        return None, "nothing landed yet"
    from .columns import INGEST_ONLY

    return [r[0] for r in rows if not r[0].startswith("_dlt_") and r[0] not in INGEST_ONLY], "landed"


def _named_columns(spec: SourceSpec) -> list[tuple[str, str, bool]]:
    """Every column the YAML names: (field, name, whether a column curation adds is allowed there)."""
    named = [(f"text_columns[{i}]", c, False) for i, c in enumerate(spec.text_columns)]
    named += [(f"primary_key[{i}]", c, False) for i, c in enumerate(spec.primary_key)]
    for block in ("dedup", "language", "quality"):
        named += [(f"{block}.columns[{i}]", c, False) for i, c in enumerate(getattr(spec, block).columns or [])]
    named += [(f"pii.columns.{c}", c, False) for c in spec.pii.columns]
    named += [(f"columns.{c}", c, True) for c in getattr(spec, "columns", None) or {}]  # descriptions for the UI
    for i, e in enumerate(spec.expectations):
        where = f"expectations[{i}] ({e.type})"
        for arg in ("column", "column_A", "column_B"):
            if isinstance(e.kwargs.get(arg), str):
                named.append((f"{where}.{arg}", e.kwargs[arg], True))
        for arg in ("column_list", "column_set"):
            if isinstance(e.kwargs.get(arg), list):
                named += [(f"{where}.{arg}[{j}]", c, True) for j, c in enumerate(e.kwargs[arg]) if isinstance(c, str)]
    return named


def _files_problems(spec: SourceSpec) -> tuple[list[str], str]:
    """Problems with a `files` source's path and glob, and what was found."""
    if spec.files.is_remote:
        return [], "files: not checked (network)"
    from .ingest.listing import _local  # the listing ingest makes: check and run agree

    try:
        found = sum(1 for _ in _local(spec))
    except FileNotFoundError as error:
        return [str(error)], "files: none"
    if not found:
        return [f"{spec.origin}: field 'files.glob': {spec.files.glob!r} matches no file in "
                f"{spec.files_location()}"], "files: none"
    return [], f"files: {found} found"


def _sqlite_problems(spec: SourceSpec) -> tuple[list[str], str]:
    """A SQLite source is local: its file, tables and cursor column are checked as ingest checks them, nothing read."""
    from .ingest import sql

    try:
        sql.plan(spec, {}, None, None)
    except (sql.SqlError, FileNotFoundError) as error:
        return [str(error)], "database: not readable"
    return [], "database: tables found"


def _where_problems(spec: SourceSpec, settings: Settings) -> list[str]:
    """The `where:` predicate bound against the landed records, as curation runs it (no row read)."""
    import duckdb

    from .ingest.warehouse import database

    try:
        with duckdb.connect(str(database(settings.warehouse_dir, spec.id)), read_only=True) as con:
            con.execute(f"select 1 from raw.records where ({spec.where}) limit 0").fetchall()
    except duckdb.Error as error:
        return [f"{spec.origin}: field 'where': {str(error).splitlines()[0]}"]
    return []


PLACEHOLDER_MARK = "TODO(new-source)"  # scaffold.PLACEHOLDER, without importing the templates


def _placeholders(spec: SourceSpec) -> list[str]:
    """Lines of a scaffolded YAML still marked as the template's placeholders."""
    marker = PLACEHOLDER_MARK
    if spec.origin is None:
        return []
    try:
        lines = spec.origin.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found = [(n, "a comment" if line.lstrip().startswith("#") else line.split(":", 1)[0].strip(" -"))
             for n, line in enumerate(lines, 1) if marker in line]
    if not found:
        return []
    where = ", ".join(f"{name} (line {n})" for n, name in found[:10]) + (", …" if len(found) > 10 else "")
    return [f"{spec.origin}: {len(found)} placeholder(s) of `commons new-source` left ({marker}): {where}"]


def check_source(spec: SourceSpec, settings: Settings) -> tuple[list[str], list[str]]:
    """What a run would find wrong with a source, checked now: problems (one line each, naming file and field) and
    notes on what was checked."""
    from .naming import column_name
    from .validate.suites import suites

    problems, notes = [], []
    try:
        names = list(suites(spec))
        notes.append(f"suites: {', '.join(names)}")
    except SpecError as error:
        problems.append(str(error))
    if spec.files is not None:
        found, note = _files_problems(spec)
        problems += found
        notes.append(note)
    elif spec.kind == "sql" and not spec.needs_network:
        found, note = _sqlite_problems(spec)
        problems += found
        notes.append(note)
    else:
        notes.append("location: not checked (network)")
    problems += _placeholders(spec)
    columns, state = landed_columns(spec, settings)
    if columns is None:
        notes.append(f"columns: {state}")
        return problems, notes
    if spec.where:
        problems += _where_problems(spec, settings)
    landed = set(columns)
    system = _curated_system_columns()
    for where, name, system_ok in _named_columns(spec):
        try:
            warehouse = column_name(name)
        except ValueError:
            warehouse = name
        if warehouse in landed or (system_ok and warehouse in system):
            continue
        hint = difflib.get_close_matches(warehouse, columns, n=1)
        listed = ", ".join(columns[:20]) + (", …" if len(columns) > 20 else "")
        problems.append(f"{spec.origin}: field '{where}': column {name!r} is not in the landed data"
                        + (f" (did you mean {hint[0]!r}?)" if hint else "") + f"; columns: {listed}")
    notes.append(f"columns: checked against the landed schema ({len(columns)} columns)")
    return problems, notes


def _check(names: list[str]) -> None:
    settings = _settings()
    specs, broken = _catalog()
    if names:
        _pick(names, specs, broken, loading=False)
        specs = {k: v for k, v in specs.items() if k in names}
        broken = {k: v for k, v in broken.items() if k in names}
    if not specs and not broken:
        say(f"no source in {catalog_folder()} (write one with `commons new-source <id> --kind files`)")
        return
    bad = 0
    for spec in specs.values():
        try:
            problems, notes = check_source(spec, settings)
        except Exception as error:  # a bug met by one source must not hide the others
            problems, notes = [f"{spec.origin}: the check itself failed: {type(error).__name__}: {error}"], []
        say(f"{spec.id}: {spec.kind}, {spec.licence}, {', '.join(spec.languages)}, {', '.join(notes)}",
            style="red" if problems else None)
        for problem in problems:
            say(f"  {problem}", style="red")
        bad += bool(problems)
    for name, error in sorted(broken.items()):
        say(f"{name}: BROKEN: {error}", style="red")
    total = len(specs) + len(broken)
    bad += len(broken)
    say(f"{total} source(s) in {catalog_folder()}: {total - bad} ok" + (f", {bad} with problems" if bad else ""),
        style="bold red" if bad else "bold green")
    if bad:
        raise typer.Exit(1)


@app.command()
def check(sources: Annotated[list[str] | None, typer.Argument(help="Sources to check; default: the whole "
                                                                   "catalog.", show_default=False)] = None) -> None:
    """Check the catalog as a run would: every YAML loads, its expectations build, its path and glob find files, and
    the columns it names (text_columns, primary_key, dedup, language, quality, pii and expectation columns) exist in
    the landed data when the source has been ingested. One line per problem, naming the file and field."""
    _check(sources or [])


@app.command("catalog")
def catalog_command(sources: Annotated[list[str] | None, typer.Argument(show_default=False)] = None) -> None:
    """The same as `commons check` (its older name)."""
    _check(sources or [])


# ---------------------------------------------------------------------------------------------------------------------
# commons versions: the published versions of a source, and what changed between two


def _version_files(target, spec: SourceSpec, version) -> list[Path]:
    """The Parquet shards of one version: the local version folder, or the Hub's files at the version's tag (through
    huggingface_hub's download cache)."""
    from .publish import HubTarget, LocalTarget
    from .publish.shards import DATA_DIR

    if isinstance(target, LocalTarget):
        return sorted((Path(version.ref) / DATA_DIR).rglob("*.parquet"))
    if isinstance(target, HubTarget):
        from .publish.hub import REPO_TYPE

        repo = target.repo_id(spec)
        names = target._call(f"{repo}: list files of {version.name}", "list_repo_files", repo, repo_type=REPO_TYPE,
                             revision=version.name)
        return [Path(target._call(f"{repo}: download {name}", "hf_hub_download", repo, name, repo_type=REPO_TYPE,
                                  revision=version.name))
                for name in sorted(names) if name.startswith(f"{DATA_DIR}/") and name.endswith(".parquet")]
    return []


@dataclass
class VersionDiff:
    key: list[str]
    by_language: dict[str, Counter]
    columns_added: list[str]
    columns_removed: list[str]

    @property
    def total(self) -> Counter:
        total: Counter = Counter()
        for counts in self.by_language.values():
            total.update(counts)
        return total


def diff_versions(old: list[Path], new: list[Path], key: list[str]) -> VersionDiff:
    """Rows added, removed, changed (same key, other content) and unchanged, per language (`_lang` of the newer row,
    or of the removed one). The key is the primary key when both versions have its columns, else `_row_sha256`."""
    import duckdb

    from .columns import LANG, ROW_SHA256

    def names(files: list[Path]) -> list[str]:
        import pyarrow.parquet as pq

        return pq.read_schema(files[0]).names if files else []

    before, after = names(old), names(new)
    if not key or not all(k in before and k in after for k in key):
        key = [ROW_SHA256]

    def quote(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    with duckdb.connect() as con:
        for view, files, cols in (("a", old, before), ("b", new, after)):
            lang = quote(LANG) if LANG in cols else "'all'"
            if files:
                paths = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
                con.execute(f"create view {view} as select {', '.join(quote(k) for k in key)}, "
                            f"{quote(ROW_SHA256)} as h, {lang} as l from read_parquet([{paths}], union_by_name = true)")
            else:
                con.execute(f"create view {view} as select {', '.join('null as ' + quote(k) for k in key)}, "
                            "null::varchar as h, null::varchar as l where false")
        on = " and ".join(f"a.{quote(k)} is not distinct from b.{quote(k)}" for k in key)
        rows = con.execute(f"""
            select coalesce(b.l, a.l, 'und') as lang,
                   count(*) filter (where a.h is null) as added,
                   count(*) filter (where b.h is null) as removed,
                   count(*) filter (where a.h is not null and b.h is not null and a.h <> b.h) as changed,
                   count(*) filter (where a.h = b.h) as unchanged
            from a full outer join b on {on} group by 1 order by 1""").fetchall()
    by_language = {lang: Counter(added=a, removed=r, changed=c, unchanged=u) for lang, a, r, c, u in rows}
    system = {ROW_SHA256}
    return VersionDiff(key, by_language, [c for c in after if c not in before and c not in system],
                       [c for c in before if c not in after and c not in system])


@app.command()
def versions(
    source: Annotated[str, typer.Argument(help="The source id.")],
    diff: Annotated[tuple[str, str] | None, typer.Option("--diff", "--compare", metavar="OLD NEW",
                                                          help="Compare two versions: rows added, removed and changed "
                                                               "per language.", show_default=False)] = None,
) -> None:
    """List a source's published versions (local folder, or the Hub with COMMONS_TARGET=hub) with their rows and
    dates; with --diff v1 v2, what changed between two of them."""
    settings = _settings()
    specs, broken = _catalog()
    spec = _pick([source], specs, broken)[source]
    target = _target(settings)
    from .publish import HubError

    try:
        history = target.history(spec)
    except HubError as error:
        fail(str(error))
    where = target.url(spec) or str(target.folder(spec))
    if not history:
        fail(f"{source}: nothing published yet in {where} (run `commons run {source}`)")
    by_name = {v.name: v for v in history}
    if diff is None:
        say(f"{source}: {len(history)} version(s) in {where}")
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        for name, justify in (("version", "left"), ("date", "left"), ("rows", "right"), ("changes", "left")):
            table.add_column(name, justify=justify, overflow="fold")
        for v in history:
            live = " (live)" if v is history[-1] else ""
            table.add_row(f"{v.name}{live}", v.date or "?", f"{v.rows:,}", v.changelog or "")
        out().print(table)
        return
    missing = [n for n in diff if n not in by_name]
    if missing:
        fail(f"{source}: no version {', '.join(map(repr, missing))}; versions: {', '.join(by_name)}", code=2)
    old, new = (by_name[n] for n in diff)
    try:
        result = diff_versions(_version_files(target, spec, old), _version_files(target, spec, new),
                               [_column(c) for c in spec.primary_key])
    except HubError as error:
        fail(str(error))
    key = ", ".join(result.key)
    say(f"{source}: {old.name} ({old.rows:,} rows, {old.date}) -> {new.name} ({new.rows:,} rows, {new.date}); "
        f"a row is identified by {key}" + (" (an edit counts as one row removed and one added)"
                                             if result.key == ["_row_sha256"] else ""))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in ("language", "added", "removed", "changed", "unchanged"):
        table.add_column(name, justify="left" if name == "language" else "right")
    for lang, counts in [*result.by_language.items(), ("total", result.total)]:
        table.add_row(lang, *(f"{counts[k]:,}" for k in ("added", "removed", "changed", "unchanged")),
                      style="bold" if lang == "total" else None)
    out().print(table)
    if result.columns_added or result.columns_removed:
        say(f"columns added: {', '.join(result.columns_added) or 'none'}; "
            f"removed: {', '.join(result.columns_removed) or 'none'}")


def _column(name: str) -> str:
    from .naming import column_name

    return column_name(name)


# ---------------------------------------------------------------------------------------------------------------------
# commons new-source


@app.command("new-source")
def new_source(
    source: Annotated[str, typer.Argument(help="The new source's id: lower case, digits and _ (the YAML's name).")],
    kind: Annotated[str, typer.Option(help="files, rest_api, sql, ckan, udata or hf_dataset.")] = "files",
    origin: Annotated[str | None, typer.Option(
        "--from", help="Where the data is: a file, folder or http(s) URL (files), the API's base URL (rest_api), the "
                       "portal (ckan, udata), a SQLAlchemy URL (sql), owner/name (hf_dataset).",
        show_default=False)] = None,
    licence: Annotated[str, typer.Option(help="The licence the publisher states (SPDX id).")] = "CC-BY-4.0",
    catalog: Annotated[Path | None, typer.Option(help="The catalog folder [default: COMMONS_CATALOG, else the "
                                                      "package's catalog].", show_default=False)] = None,
    test: Annotated[bool | None, typer.Option("--test/--no-test", help="Also write its recorded-response test in "
                                                                        "commons_pipelines_tests/ [default: when the "
                                                                        "catalog is the project's].",
                                              show_default=False)] = None,
    only_test: Annotated[bool, typer.Option("--only-test", help="Write only the recorded-response test of a source "
                                                                "that exists already.")] = False,
) -> None:
    """Write a new source's YAML from the template of its kind, and its recorded-response test.

    Every placeholder is marked TODO(new-source); `commons check` lists those left. With --from on a local file or
    folder, the format and the column names are read from the data."""
    from .scaffold import TESTS_DIR, Scaffolded, ScaffoldError, is_shipped, write_test
    from .scaffold import new_source as scaffold

    folder = catalog or catalog_folder()
    wanted = only_test or (is_shipped(folder) if test is None else test)
    if wanted and not TESTS_DIR.is_dir():
        say("no test written: commons_pipelines_tests/ is not next to the package (a clone of the repository has it)")
        wanted = False
    try:
        if only_test:
            specs, broken = scan_catalog(folder)
            spec = _pick([source], specs, broken)[source]
            done = Scaffolded(spec.origin, *write_test(spec, TESTS_DIR))
        else:
            done = scaffold(source, kind, folder, origin, licence, TESTS_DIR if wanted else None)
            say(f"wrote {done.yaml}")
    except ScaffoldError as error:
        fail(str(error), code=2)
    for note in done.notes:
        say(f"  {note}")
    if done.test is not None:
        say(f"wrote {done.test}" + (f" (its recordings go in {done.captures})" if done.captures else ""))
    elif test is None and not only_test:
        say("no test written: the catalog is not the project's (--test writes one anyway, --only-test later)")
    if not only_test:
        env = "" if catalog is None or folder == catalog_folder() else f"COMMONS_CATALOG={folder} "
        say(f"next: replace the {PLACEHOLDER_MARK} lines, then `{env}commons check {source}` and "
            f"`{env}commons run {source}` (CONTRIBUTING.md walks through it)")


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
    from .curate.takedown import Entry, add_entry
    from .publish.erase import purge

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


if __name__ == "__main__":
    main()
