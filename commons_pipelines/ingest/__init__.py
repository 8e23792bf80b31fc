"""Ingest: dlt sources per kind, the readers that quarantine bad records, and the DuckDB warehouse."""

import os

# The project runs offline: no anonymous usage telemetry from dlt (set before dlt reads its configuration).
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
