"""Ingest: dlt sources per kind, the readers that quarantine bad records, and the DuckDB warehouse."""

import importlib
import os

# The project runs offline: no anonymous usage telemetry from dlt (set before dlt reads its configuration).
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def location(spec) -> str:
    """Where a source is, as its kind says it, fit for publishing (no credentials)."""
    return importlib.import_module(f"{__name__}.{spec.kind}").location(spec)
