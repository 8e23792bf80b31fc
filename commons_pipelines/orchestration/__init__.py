"""Dagster wiring: the asset factory, the nightly job and its schedule, the run-failure sensor, the partition-run sensors
(runs.py), resources.

Schedules and sensors run by default as soon as `dagster dev` or the daemon runs."""

from __future__ import annotations

import re

from dagster import (AssetKey, AssetSelection, DefaultScheduleStatus, Definitions, Failure, ScheduleDefinition, asset,
                     define_asset_job, in_process_executor)

from ..settings import Settings
from ..spec import SourceSpec
from .factory import NIGHTLY_CRON, keys, source_assets, staged_key
from .resources import resources
from .runs import partition_sensors
from .sensors import run_failures


def broken_source(name: str, error: str):
    """A source whose YAML does not load: an asset that shows the error in the UI and fails the nightly with it,
    while every other source loads and runs."""
    group = re.sub(r"[^A-Za-z0-9_]", "_", name) or "broken"

    @asset(key=AssetKey([group, "catalog"]), group_name=group, description=f"This source's YAML does not load: {error}",
           metadata={"error": error})
    def catalog_entry() -> None:
        raise Failure(description=error)

    return catalog_entry


def build_definitions(specs: dict[str, SourceSpec], settings: Settings, broken: dict[str, str] | None = None
                      ) -> Definitions:
    assets, checks, jobs, schedules, sensors = [], [], [], [], [run_failures]
    # a job runs unpartitioned assets or one partition: the nightly and the refresh jobs leave the `staged` assets
    # out (their curated asset stages what changed itself); each has its job, for runs of chosen partitions. With
    # COMMONS_PARTITION_RUNS they ingest only, and sensors run the partitions then `finish_<source>` (runs.py).
    # A job of one source is a chain of steps with nothing to run side by side: it runs in its run's process, not in a
    # process per step that imports the code location again (README, "Partitions").
    partitioned = [s for s in specs.values() if s.partitions]
    skipped = AssetSelection.assets(*[staged_key(s) for s in partitioned]) | AssetSelection.assets(
        *[k for s in partitioned if settings.partition_runs for k in keys(s)[1:]])
    for spec in specs.values():
        a, c = source_assets(spec, settings)
        assets += a
        checks += c
        if spec.partitions:
            stage = define_asset_job(f"partitions_{spec.id}", selection=AssetSelection.assets(staged_key(spec)),
                                     executor_def=in_process_executor,
                                     description=f"The row steps of chosen partitions of {spec.title}.")
            jobs.append(stage)
            if settings.partition_runs:
                finish = define_asset_job(f"finish_{spec.id}", selection=AssetSelection.assets(*keys(spec)[1:]),
                                          executor_def=in_process_executor,
                                          description=f"Dedup over every partition of {spec.title}, check and "
                                                      "publish, once its partitions are staged.")
                jobs.append(finish)
                sensors += partition_sensors(spec, stage, finish)
        if spec.schedule:
            job = define_asset_job(f"refresh_{spec.id}", selection=AssetSelection.groups(spec.id) - skipped,
                                   executor_def=in_process_executor,
                                   description=f"Refresh {spec.title} on its own schedule.")
            jobs.append(job)
            schedules.append(ScheduleDefinition(job=job, cron_schedule=spec.schedule,
                                                execution_timezone=settings.timezone,
                                                default_status=DefaultScheduleStatus.RUNNING))
    failing = [broken_source(name, error) for name, error in sorted((broken or {}).items())]
    assets += failing
    nightly_groups = [s.id for s in specs.values() if not s.schedule] + [a.group_names_by_key[k]
                                                                          for a in failing for k in a.keys]
    nightly = define_asset_job("nightly", selection=AssetSelection.groups(*nightly_groups) - skipped,
                               description="Refresh every source without a schedule of its own: ingest, curate, "
                                           "check, publish.")
    schedules.append(ScheduleDefinition(name="nightly_schedule", job=nightly, cron_schedule=NIGHTLY_CRON,
                                        execution_timezone=settings.timezone,
                                        default_status=DefaultScheduleStatus.RUNNING))
    return Definitions(assets=assets, asset_checks=checks, jobs=[nightly, *jobs], schedules=schedules,
                       sensors=sensors, resources=resources(settings))
