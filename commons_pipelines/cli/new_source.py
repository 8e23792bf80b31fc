"""`commons new-source`: a source YAML from the template of its kind, and its recorded-response test."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..spec import catalog_folder, scan_catalog

if TYPE_CHECKING:
    pass

from . import (_pick, app, fail, say)


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
    from .scaffold import PLACEHOLDER, TESTS_DIR, Scaffolded, ScaffoldError, is_shipped, write_test
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
        say(f"next: replace the {PLACEHOLDER} lines, then `{env}commons check {source}` and "
            f"`{env}commons run {source}` (CONTRIBUTING.md walks through it)")
