"""Dagster wiring: the asset factory, the nightly job and its schedule, resources."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, ScheduleDefinition, define_asset_job

from ..settings import Settings
from ..spec import SourceSpec
from .factory import source_assets
from .resources import resources

NIGHTLY_CRON = "0 2 * * *"


def build_definitions(specs: dict[str, SourceSpec], settings: Settings) -> Definitions:
    assets, checks, jobs, schedules = [], [], [], []
    for spec in specs.values():
        a, c = source_assets(spec, settings)
        assets += a
        checks += c
        if spec.schedule:
            job = define_asset_job(f"refresh_{spec.id}", selection=AssetSelection.groups(spec.id),
                                   description=f"Refresh {spec.title} on its own schedule.")
            jobs.append(job)
            schedules.append(ScheduleDefinition(job=job, cron_schedule=spec.schedule,
                                                execution_timezone=settings.timezone))
    nightly_groups = [s.id for s in specs.values() if not s.schedule]
    nightly = define_asset_job("nightly", selection=AssetSelection.groups(*nightly_groups),
                               description="Refresh every source without a schedule of its own: ingest, curate, "
                                           "check, publish.")
    schedules.append(ScheduleDefinition(name="nightly_schedule", job=nightly, cron_schedule=NIGHTLY_CRON,
                                        execution_timezone=settings.timezone))
    return Definitions(assets=assets, asset_checks=checks, jobs=[nightly, *jobs], schedules=schedules,
                       resources=resources(settings))
