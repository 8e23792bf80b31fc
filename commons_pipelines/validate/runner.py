"""Run a GX suite over curated data shard by shard (pandas frames from Arrow), and keep the verdict.

The verdict is written next to the curated data, keyed by the curation's id, so that publishing can refuse
data that was not validated, whoever asks for it (a run, a backfill, or a hand-picked materialisation).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ..curate.provenance import ROW_SHA256
from ..curate.runner import Curated
from .suites import gx_context

if TYPE_CHECKING:
    import great_expectations as gx

SHARD_ROWS = 250_000


@dataclass
class SuiteResult:
    suite: str
    curation: str
    success: bool
    shards: int = 0
    rows: int = 0
    evaluated: int = 0
    successful: int = 0
    failures: list[dict] = field(default_factory=list)

    @property
    def failed_expectations(self) -> Counter[str]:
        return Counter(f["expectation"] for f in self.failures)


def _shards(curated: Curated, rows: int):
    """Shards of curated rows as pandas frames; one empty frame when there are no rows, so row counts are checked."""
    empty = True
    for path in curated.files:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            empty = False
            yield batch.to_pandas()
    if empty:
        schema = curated.schema or pa.schema([])
        yield schema.empty_table().to_pandas()


def _batch_definition(name: str):
    source = gx_context().data_sources.add_or_update_pandas("curated")
    if name in source.get_asset_names():
        source.delete_asset(name)
    return source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("shard")


def _describe(exp_result, shard: int) -> dict:
    config = exp_result.expectation_config
    result = exp_result.result or {}
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "value_set")}
    failure = {"expectation": config.type, "kwargs": kwargs, "shard": shard,
               "unexpected_count": result.get("unexpected_count"), "observed_value": result.get("observed_value")}
    if exp_result.exception_info and exp_result.exception_info.get("raised_exception"):
        failure["exception"] = exp_result.exception_info.get("exception_message")
    return failure


def _cross_shard_duplicates(curated: Curated) -> int:
    """GX sees one shard at a time; duplicates between shards are counted by DuckDB over all curated files."""
    files = [str(f) for f in curated.files]
    if not files:
        return 0
    with duckdb.connect() as con:
        return con.execute(f"select count(*) - count(distinct {ROW_SHA256}) from read_parquet(?)", [files]).fetchone()[0]


def run_suite(curated: Curated, name: str, suite: gx.ExpectationSuite, shard_rows: int = SHARD_ROWS) -> SuiteResult:
    definition = _batch_definition(f"{curated.folder.name}.{name}")
    out = SuiteResult(suite=name, curation=curated.id, success=True)
    for shard, frame in enumerate(_shards(curated, shard_rows)):
        result = definition.get_batch(batch_parameters={"dataframe": frame}).validate(suite)
        out.shards += 1
        out.rows += len(frame)
        out.evaluated += result.statistics["evaluated_expectations"]
        out.successful += result.statistics["successful_expectations"]
        for exp_result in result.results:
            if not exp_result.success:
                out.success = False
                out.failures.append(_describe(exp_result, shard))
    if out.shards > 1 and any(e.expectation_type == "expect_column_values_to_be_unique" and e.column == ROW_SHA256
                              for e in suite.expectations):
        duplicates = _cross_shard_duplicates(curated)
        if duplicates:
            out.success = False
            out.failures.append({"expectation": "expect_column_values_to_be_unique", "kwargs": {"column": ROW_SHA256},
                                 "shard": "all", "unexpected_count": duplicates, "observed_value": None})
    return out


def verdict_path(curated: Curated, name: str) -> Path:
    return curated.folder / "checks" / f"{name}.json"


def record_verdict(curated: Curated, result: SuiteResult) -> None:
    path = verdict_path(curated, result.suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(result), indent=1, default=str))


def unvalidated(curated: Curated, names: list[str]) -> list[str]:
    """Why this curation may not be published: suites that failed or never ran on it (empty when all passed)."""
    problems = []
    for name in names:
        path = verdict_path(curated, name)
        verdict = json.loads(path.read_text()) if path.exists() else None
        if verdict is None or verdict["curation"] != curated.id:
            problems.append(f"suite '{name}' has not run on curation {curated.id}")
        elif not verdict["success"]:
            failed = ", ".join(sorted({f["expectation"] for f in verdict["failures"]}))
            problems.append(f"suite '{name}' failed: {failed}")
    return problems
