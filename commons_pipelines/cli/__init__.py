"""The `commons` command: scaffold a source, check the catalog, run sources with progress per stage, list and
compare published versions, open the Dagster UI, erase records on request.

Built on typer (which carries its own copy of click) and rich. Output is plain text when it does not go to a terminal:
rich then writes no colour codes and no spinner, so logs and tests read the same lines a person sees. A mistake in
what is asked (an unknown source, job or version, a bad id) is one line on stderr and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

import difflib
import os
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from ..spec import SourceSpec, catalog_folder, scan_catalog

if TYPE_CHECKING:
    from ..settings import Settings

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
    from ..settings import Settings

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
    from ..publish import open_target

    return open_target(settings.target, str(settings.publish_dir), settings.hf_endpoint, settings.hub_namespace,
                       settings.hub_retry_wait)


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _kwargs(kwargs: dict, limit: int = 120) -> str:
    text = ", ".join(f"{k}={_short(v, 60)}" for k, v in kwargs.items() if k not in ("batch_id", "result_format"))
    return text if len(text) <= limit else text[:limit - 1] + "…"


from . import check, new_source, run, versions  # noqa: E402,F401  (each module adds its commands to `app`)
