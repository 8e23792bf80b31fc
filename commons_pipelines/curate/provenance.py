"""Provenance columns: where each row comes from, under which licence, when it was retrieved, and its SHA-256."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..ingest import files as ingest_files
from ..spec import SourceSpec
from .step import Step

SOURCE_FILE, RETRIEVED_AT = ingest_files.SOURCE_FILE.name, ingest_files.RETRIEVED_AT.name
SOURCE, LICENCE, SOURCE_URL, ROW_SHA256 = "_source", "_licence", "_source_url", "_row_sha256"
PROVENANCE_COLUMNS = [SOURCE, LICENCE, SOURCE_URL, RETRIEVED_AT, ROW_SHA256]


def data_columns(schema: pa.Schema) -> list[str]:
    return [n for n in schema.names if not n.startswith("_")]


def row_sha256(batch: pa.RecordBatch) -> pa.Array:
    """SHA-256 over the data columns, hashed by DuckDB over the Arrow batch (vectorised, no Python per row).
    Each value is cast to text, NULL is kept apart from '' and the fields are joined with a unit separator."""
    cols = data_columns(batch.schema)
    fields = ", ".join(f"coalesce('v' || cast(\"{c}\" as varchar), 'n')" for c in cols) or "''"
    con = duckdb.connect()
    try:
        con.register("batch", batch)
        table = con.sql(f"select sha256(concat_ws(chr(31), {fields})) as h from batch").to_arrow_table()
    finally:
        con.close()
    return table.column("h").combine_chunks()


class Provenance(Step):
    name = "provenance"

    def __init__(self, spec: SourceSpec) -> None:
        super().__init__()
        self.spec = spec
        self.prefix = spec.files.path.rstrip("/") + "/" if spec.files else ""

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        n = batch.num_rows
        names = batch.schema.names
        if SOURCE_FILE in names:
            url = pc.binary_join_element_wise(pa.array([self.prefix] * n), batch.column(SOURCE_FILE), "")
        else:
            url = pa.array([self.spec.homepage] * n, pa.string())
        retrieved = (batch.column(RETRIEVED_AT) if RETRIEVED_AT in names
                     else pa.nulls(n, pa.timestamp("us", tz="UTC")))
        keep = [c for c in names if c not in (SOURCE_FILE, RETRIEVED_AT)]
        data = pa.RecordBatch.from_arrays([batch.column(c) for c in keep], names=keep)
        return pa.RecordBatch.from_arrays(
            [*data.columns, pa.array([self.spec.id] * n, pa.string()), pa.array([self.spec.licence] * n, pa.string()),
             url, retrieved.cast(pa.timestamp("us", tz="UTC")), row_sha256(data)],
            names=[*keep, *PROVENANCE_COLUMNS])
