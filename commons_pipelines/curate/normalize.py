"""Column names in the project's one naming convention (see naming.py), whatever the input format."""

from __future__ import annotations

import pyarrow as pa

from ..naming import column_names
from .step import Step


class NormalizeColumns(Step):
    name = "normalize"

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return batch.rename_columns(column_names(batch.schema.names))
