"""The `commons` command: run jobs in process, list and check the catalog, erase records on request."""

from __future__ import annotations

import os
import sys

import click

from .spec import SpecError, catalog_folder, scan_catalog


def _definitions(source: str | None):
    from .orchestration import build_definitions
    from .settings import Settings

    specs, broken = scan_catalog(catalog_folder())
    if source is not None:
        if source in broken:
            raise click.ClickException(broken[source])
        if source not in specs:
            raise click.ClickException(f"no source {source!r} in {catalog_folder()}; "
                                       f"sources: {', '.join(sorted(specs))}")
        specs, broken = {source: specs[source]}, {}
    return build_definitions(specs, Settings.from_env(), broken), specs


def _run(source: str | None, job: str = "nightly"):
    from dagster import DagsterInstance

    defs, specs = _definitions(source)
    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
    info_logs = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    result = defs.resolve_job_def(job).execute_in_process(run_config=info_logs, instance=instance, raise_on_error=False)
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        if mat.asset_key.path[0] == "published":
            meta = {k: v.value for k, v in mat.metadata.items()}
            state = "published" if meta["changed"] else "unchanged, current is"
            click.echo(f"{mat.asset_key.path[1]}: {state} {meta['version']} ({meta['dagster/row_count']} rows) "
                       f"-> {meta['location']}")
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            problem = evaluation.metadata.get("problem")
            click.echo(f"check failed: {evaluation.asset_key.to_user_string()} {evaluation.check_name}"
                       + (f": {problem.value}" if problem else ""), err=True)
    for event in result.all_events:
        if event.is_step_failure:
            click.echo(f"step failed: {event.step_key}: {event.event_specific_data.error.message.strip()}", err=True)
    return result, specs


@click.group()
def main() -> None:
    """commons-pipelines: build and refresh open AI data commons."""


@main.command()
@click.option("--job", default="nightly", show_default=True, help="The Dagster job to run.")
@click.option("--source", default=None, help="Run only this source (ingest, curate, check, publish).")
def run(job: str, source: str | None) -> None:
    """Run a job in this process (the nightly job by default) and print what each source published.

    Runs are recorded in DAGSTER_HOME when it is set, so they show in the Dagster UI."""
    result, _ = _run(source, "nightly" if source else job)
    sys.exit(0 if result.success else 1)


@main.command()
def catalog() -> None:
    """Load and check every source YAML, including its Great Expectations expectations."""
    from .validate.suites import suites

    specs, broken = scan_catalog(catalog_folder())
    for spec in specs.values():
        try:
            names = list(suites(spec))
        except SpecError as err:
            broken[spec.id] = str(err)
            continue
        click.echo(f"{spec.id}: {spec.kind}, {spec.licence}, {', '.join(spec.languages)}, suites: {', '.join(names)}")
    for name, error in sorted(broken.items()):
        click.echo(f"{name}: BROKEN: {error}", err=True)
    if broken:
        sys.exit(1)


@main.command()
@click.argument("source")
@click.option("--key", "keys", multiple=True, metavar="COLUMN=VALUE",
              help="The record's primary key, by its published column name (repeat for a compound key).")
@click.option("--match", default=None, metavar="REGEX", help="Rows whose text (any data column) matches this RE2 "
                                                             "regular expression.")
@click.option("--sha256", default=None, help="The row whose _row_sha256 this is.")
@click.option("--url", default=None, help="Every row whose _source_url this is.")
@click.option("--reason", required=True, help="Why (it goes to the card's changelog; never the content).")
@click.option("--purge-history", is_flag=True, help="Hub: squash the repository's history so that no older "
                                                    "revision keeps the rows (every older version is lost).")
def erase(source: str, keys: tuple[str, ...], match: str | None, sha256: str | None, url: str | None, reason: str,
          purge_history: bool) -> None:
    """Take records out of SOURCE for good: add a takedown entry, publish a version without them, and remove the
    older versions that still hold them (local target; on the Hub with --purge-history)."""
    from .curate.takedown import Entry, add_entry
    from .publish.erase import purge
    from .settings import Settings

    given = [k for k, v in (("key", keys), ("match", match), ("sha256", sha256), ("url", url)) if v]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --key, --match, --sha256, --url")
    kind = given[0]
    if kind == "key" and not all("=" in k for k in keys):
        raise click.UsageError("--key takes COLUMN=VALUE")
    given_values = {"match": match, "sha256": sha256, "url": url}
    value = dict(k.split("=", 1) for k in keys) if kind == "key" else given_values[kind]
    specs, broken = scan_catalog(catalog_folder())
    if source not in specs:
        raise click.ClickException(broken.get(source) or f"no source {source!r}; sources: {', '.join(sorted(specs))}")
    settings = Settings.from_env()
    try:
        add_entry(settings.takedown_dir, source, Entry(kind, value, reason), specs[source].primary_key)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"{source}: takedown entry added ({kind}); rebuilding")
    result, _ = _run(source)
    if not result.success:
        raise click.ClickException(f"{source}: the rebuild failed; the entry stays and applies to the next build")
    for line in purge(specs[source], settings, purge_history):
        click.echo(line)


if __name__ == "__main__":
    main()
