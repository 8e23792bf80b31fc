"""The embedded warehouse: one DuckDB file per source (DuckDB allows one writer per file, so sources load in
parallel), written by dlt and read back as Arrow record batches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dlt
import duckdb
import pyarrow as pa

from ..columns import INGEST_RUN
from ..spec import SourceSpec
from ..stats import StageCount
from .state import QUARANTINE, RAW as DATASET, RECORDS, tables


def database(warehouse_dir: Path, source_id: str) -> Path:
    return Path(warehouse_dir) / f"{source_id}.duckdb"


def pipeline(spec: SourceSpec, warehouse_dir: Path, dlt_dir: Path) -> dlt.Pipeline:
    Path(warehouse_dir).mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=spec.id,
        destination=dlt.destinations.duckdb(str(database(warehouse_dir, spec.id))),
        dataset_name=DATASET,
        pipelines_dir=str(dlt_dir),
    )


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return tables(con, DATASET)


def read_records(db: Path, batch_rows: int = 64_000) -> Iterator[pa.RecordBatch]:
    """What landed, in file order then row order, without dlt's and the ingest run's bookkeeping columns."""
    with duckdb.connect(str(db), read_only=True) as con:
        if RECORDS not in _tables(con):
            return
        cols = [r[0] for r in con.execute(f"describe {DATASET}.{RECORDS}").fetchall()
                if not r[0].startswith("_dlt_") and r[0] != INGEST_RUN]
        select = ", ".join(f'"{c}"' for c in cols)
        reader = con.sql(f"select {select} from {DATASET}.{RECORDS} order by _source_file, rowid") \
                    .to_arrow_reader(batch_rows)
        yield from reader


def quarantine_counts(db: Path) -> Counter[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        if QUARANTINE not in _tables(con):
            return Counter()
        return Counter(dict(con.execute(f"select reason, count(*) from {DATASET}.{QUARANTINE} group by 1").fetchall()))


def ingest_count(db: Path) -> StageCount:
    """Rows that landed and records quarantined by reason, over everything the warehouse holds for a source."""
    removed = quarantine_counts(db)
    with duckdb.connect(str(db), read_only=True) as con:
        landed = con.execute(f"select count(*) from {DATASET}.{RECORDS}").fetchone()[0] if RECORDS in _tables(con) else 0
    return StageCount("ingest", landed + sum(removed.values()), landed, removed)
