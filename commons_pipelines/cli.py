"""The `commons` command: run jobs in process, list and check the catalog."""

from __future__ import annotations

import sys

import click

from .spec import SpecError, load_catalog


@click.group()
def main() -> None:
    """commons-pipelines: build and refresh open AI data commons."""


@main.command()
@click.option("--job", default="nightly", show_default=True, help="The Dagster job to run.")
def run(job: str) -> None:
    """Run a job in this process (the nightly job by default) and print what each source published.

    Runs are recorded in DAGSTER_HOME when it is set, so they show in the Dagster UI."""
    import os

    from dagster import DagsterInstance

    from .definitions import defs

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
            click.echo(f"check failed: {evaluation.asset_key.to_user_string()} {evaluation.check_name}", err=True)
    for event in result.all_events:
        if event.is_step_failure:
            click.echo(f"step failed: {event.step_key}: {event.event_specific_data.error.message.strip()}", err=True)
    sys.exit(0 if result.success else 1)


@main.command()
def catalog() -> None:
    """Load and check every source YAML, including its Great Expectations expectations."""
    from .validate.suites import suites

    try:
        specs = load_catalog()
        for spec in specs.values():
            names = list(suites(spec))
            click.echo(f"{spec.id}: {spec.kind}, {spec.licence}, {', '.join(spec.languages)}, suites: {', '.join(names)}")
    except SpecError as err:
        raise click.ClickException(str(err)) from None


if __name__ == "__main__":
    main()
