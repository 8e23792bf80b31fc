"""Provenance columns: where each row comes from, under which licence, when it was first seen, and its SHA-256.

`_source_url` and `_retrieved_at` come from ingest (the kind knows where a record came from); a batch without them
(curation called directly) gets the source's homepage and no time. `_licence` is the source's licence, unless the
kind gave a row its own (a portal dataset's licence, checked open at ingest). The warehouse's bookkeeping (`_source_file`,
`_ingest_run`) stops here.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..columns import (INGEST_ONLY, LICENCE, PROVENANCE, RETRIEVED_AT, RETRIEVED_AT_FIELD, ROW_SHA256, SOURCE,
                       SOURCE_URL, row_sha256)
from ..spec import SourceSpec
from .step import Step

PROVENANCE_COLUMNS = PROVENANCE
__all__ = ["PROVENANCE_COLUMNS", "ROW_SHA256", "Provenance", "row_sha256"]


class Provenance(Step):
    name = "provenance"

    def __init__(self, spec: SourceSpec) -> None:
        super().__init__()
        self.spec = spec

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        n, names = batch.num_rows, batch.schema.names
        url = (batch.column(SOURCE_URL) if SOURCE_URL in names
               else pa.array([self.spec.homepage] * n, pa.string()))
        retrieved = batch.column(RETRIEVED_AT) if RETRIEVED_AT in names else pa.nulls(n, RETRIEVED_AT_FIELD.type)
        licence = pa.array([self.spec.licence] * n, pa.string())
        if LICENCE in names:
            licence = pc.coalesce(batch.column(LICENCE).cast(pa.string()), licence)
        keep = [c for c in names if c not in (*INGEST_ONLY, SOURCE_URL, RETRIEVED_AT, LICENCE)]
        data = pa.RecordBatch.from_arrays([batch.column(c) for c in keep], names=keep)
        return pa.RecordBatch.from_arrays(
            [*data.columns, pa.array([self.spec.id] * n, pa.string()), licence,
             url.cast(pa.string()), retrieved.cast(RETRIEVED_AT_FIELD.type), row_sha256(data)],
            names=[*keep, SOURCE, LICENCE, SOURCE_URL, RETRIEVED_AT, ROW_SHA256])
