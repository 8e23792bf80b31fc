"""`commons check` (and its older name, `commons catalog`): what a run would find wrong, found now."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Annotated

import typer

from ..spec import SourceSpec, SpecError, catalog_folder

if TYPE_CHECKING:
    from ..settings import Settings

from . import (_catalog, _pick, _settings, app, say)


# ---------------------------------------------------------------------------------------------------------------------
# commons check (and its older name, commons catalog)

def _curated_system_columns() -> set[str]:
    from ..columns import LANG, LANG2, LANG2_SHARE, LANG_SCORE, PROVENANCE

    return {*PROVENANCE, LANG, LANG_SCORE, LANG2, LANG2_SHARE}


def landed_columns(spec: SourceSpec, settings: Settings) -> tuple[list[str] | None, str]:
    """The data columns in the source's warehouse (raw.records), or None and why they are not known."""
    from ..ingest.state import connect
    from ..ingest.warehouse import database

    db = database(settings.warehouse_dir, spec.id)
    if not db.exists():
        return None, "not landed yet"
    import duckdb

    try:
        with connect(db, read_only=True) as con:
            rows = con.execute("select column_name from information_schema.columns where table_schema = 'raw' "
                               "and table_name = 'records' order by ordinal_position").fetchall()
    except duckdb.Error as error:  # e.g. a run holds the file
        return None, f"warehouse not readable now ({str(error).splitlines()[0]})"
    if not rows:
        return None, "nothing landed yet"
    from ..columns import INGEST_ONLY

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
    from ..ingest.listing import _local  # the listing ingest makes: check and run agree

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
    from ..ingest import sql

    try:
        sql.plan(spec, {}, None, None)
    except (sql.SqlError, FileNotFoundError) as error:
        return [str(error)], "database: not readable"
    return [], "database: tables found"


def _where_problems(spec: SourceSpec, settings: Settings) -> list[str]:
    """The `where:` predicate bound against the landed records, as curation runs it (no row read)."""
    from ..ingest.warehouse import WhereError, check_where, database

    try:
        check_where(database(settings.warehouse_dir, spec.id), spec.where)
    except WhereError as error:
        return [f"{spec.origin}: {error}"]
    return []


def _placeholders(spec: SourceSpec) -> list[str]:
    """Lines of a scaffolded YAML still marked as the template's placeholders."""
    from .scaffold import PLACEHOLDER as marker

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
    from ..naming import column_name
    from ..validate.suites import suites

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
