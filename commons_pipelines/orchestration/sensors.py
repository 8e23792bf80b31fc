"""The run-failure sensor: every failed run of this code location is logged with its first error, in the sensor's
tick log (Automation > run_failures in the UI), where someone on call looks."""

from __future__ import annotations

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor


def failure_line(context: RunFailureSensorContext) -> str:
    """'run <id> of job <job> failed: <first step error, else the run's failure message>'."""
    run = context.dagster_run
    errors = [e.event_specific_data.error for e in context.get_step_failure_events()
              if e.event_specific_data and e.event_specific_data.error]
    first = errors[0].message.strip() if errors else context.failure_event.message
    return f"run {run.run_id} of job {run.job_name} failed: {first}"


@run_failure_sensor(name="run_failures", default_status=DefaultSensorStatus.RUNNING,
                    description="Logs every failed run with its first error.")
def run_failures(context: RunFailureSensorContext) -> None:
    context.log.error(failure_line(context))
