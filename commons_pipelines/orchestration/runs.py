"""Partitions staged in runs of their own (COMMONS_PARTITION_RUNS=1), for sources curated in partitions.

The nightly (or the source's own schedule) then ingests only. Its raw asset names in its metadata the partitions whose
staging is not current (`factory.CHANGED`). Two sensors per source take it from there:
- `<source>_partition_runs`, on each materialisation of `<source>/raw`, asks for one run of `partitions_<source>` per
  such partition: Dagster's run queue runs them in parallel (a pod each with dagster-k8s), and a failed one is
  retried alone (run retries). When no partition changed, it asks for `finish_<source>` at once.
- `<source>_after_partitions`, on each successful partition run, asks for `finish_<source>` (curated, its checks,
  published: dedup over every partition, then publishing) once every partition of that ingest has a successful run.
Every request of one ingest carries its run id (TAG) and its run key, so a tick seen twice asks for nothing twice. A
partition that keeps failing leaves the source unfinished: the published version stays live.
"""

from __future__ import annotations

from dagster import (AssetKey, DagsterRunStatus, DefaultSensorStatus, EventLogEntry, JobDefinition, RunRequest,
                     RunsFilter, RunStatusSensorContext, SensorEvaluationContext, SkipReason, asset_sensor,
                     run_status_sensor)

from ..spec import SourceSpec
from .factory import CHANGED, keys

TAG, COUNT = "commons/ingest_run", "commons/partitions"
PARTITION = "dagster/partition"
INTERVAL = 10
"""Seconds between two evaluations of a sensor (Dagster's default is 30): each reads a few events, and a source's
partitions and finishing run follow its ingest within seconds."""


def partition_sensors(spec: SourceSpec, stage: JobDefinition, finish: JobDefinition) -> list:
    raw_key: AssetKey = keys(spec)[0]

    @asset_sensor(asset_key=raw_key, name=f"{spec.id}_partition_runs", jobs=[stage, finish],
                  default_status=DefaultSensorStatus.RUNNING, minimum_interval_seconds=INTERVAL,
                  description=f"After each ingest of {spec.title}: a run per partition to stage anew, in parallel.")
    def partition_runs(context: SensorEvaluationContext, event: EventLogEntry):
        changed = event.asset_materialization.metadata.get(CHANGED)
        if changed is None:
            return SkipReason(f"{spec.id}: this ingest ran without COMMONS_PARTITION_RUNS")
        names, ingest = list(changed.value), event.run_id
        tags = {TAG: ingest, COUNT: str(len(names))}
        if not names:
            return [RunRequest(job_name=finish.name, run_key=f"{ingest}/finish", tags=tags)]
        return [RunRequest(job_name=stage.name, partition_key=name, run_key=f"{ingest}/{name}", tags=tags)
                for name in names]

    @run_status_sensor(run_status=DagsterRunStatus.SUCCESS, monitored_jobs=[stage], request_job=finish,
                       name=f"{spec.id}_after_partitions", default_status=DefaultSensorStatus.RUNNING,
                       minimum_interval_seconds=INTERVAL,
                       description=f"Dedup and publish {spec.title} once every partition of an ingest is staged.")
    def after_partitions(context: RunStatusSensorContext):
        ingest = context.dagster_run.tags.get(TAG)
        if ingest is None:
            return SkipReason("a partition run started by hand: the source is finished by the next nightly")
        runs = context.instance.get_runs(filters=RunsFilter(job_name=stage.name, tags={TAG: ingest}))
        done = {r.tags.get(PARTITION) for r in runs if r.status == DagsterRunStatus.SUCCESS}
        want = int(context.dagster_run.tags.get(COUNT, "0"))
        if len(done) < want:
            return SkipReason(f"{spec.id}: {len(done)} of {want} partitions of ingest {ingest} staged")
        return RunRequest(run_key=f"{ingest}/finish", tags={TAG: ingest})

    return [partition_runs, after_partitions]
