"""Run a GX suite over curated data, and keep the verdict.

Expectations about the whole dataset (row counts, uniqueness, aggregates, distinct values, columns) are judged by
DuckDB over all the Parquet parts at once (whole.py). Row-level ones run in GX shard by shard (pandas frames from
Arrow, only the columns they name), and their counts are summed over the shards before `mostly` is applied. An
expectation that neither can judge fails the suite; none is ever judged on one shard alone.

The verdict is written next to the curated data, keyed by the curation's id, so that publishing can refuse
data that was not validated, whoever asks for it (a run, a backfill, or a hand-picked materialisation). A failed
row-level expectation keeps a few of its unexpected values (`sample`): the curated data is already treated for
personal data, the residual-PII expectation keeps none (its values are the personal data it found), and a value in
which the PII detectors still find something is withheld (a column declared `keep`). Whole-dataset
expectations, judged in DuckDB, have counts but no sample. Each suite run also gets one GX Data Docs page, rendered
from the combined verdicts with GX's own renderer (`checks/<suite>.html`).
"""

from __future__ import annotations

import functools
import json
import os
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from .. import parquet
from ..curate.pii.detect import contains
from ..curate.runner import Curated
from ..faults import failpoint
from .suites import gx_context, gx_module
from .whole import ROWS, WHOLE, Table, Verdict, judge, kind, map_verdict, redact, unsupported

if TYPE_CHECKING:
    import great_expectations as gx

SHARD_ROWS = 250_000
SAMPLE = 5  # unexpected values kept per failed expectation
_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": SAMPLE}
_NO_SAMPLE = ("expect_column_values_to_have_no_residual_pii",)
WITHHELD = "[withheld: personal data]"
_INDEX = "commons_index"


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
    page: object = field(default=None, repr=False)  # GX's suite result for the Data Docs page; not recorded

    @property
    def failed_expectations(self) -> Counter[str]:
        return Counter(f["expectation"] for f in self.failures)


def _columns(expectations: list, schema: pa.Schema | None) -> list[str] | None:
    """The columns the row-level expectations name (None: all of them, for a row_condition that may name others)."""
    names: set[str] = set()
    for e in expectations:
        if getattr(e, "row_condition", None):
            return None
        kwargs = e.configuration.kwargs
        names.update(kwargs[k] for k in ("column", "column_A", "column_B") if isinstance(kwargs.get(k), str))
        names.update(kwargs.get("column_list") or [])
    present = schema.names if schema is not None else []
    return [n for n in present if n in names]


def _shards(curated: Curated, rows: int, columns: list[str] | None):
    """Shards of curated rows as pandas frames; one empty frame when there are no rows, so columns are checked."""
    empty = True
    for path in curated.files:
        for batch in parquet.batches(path, rows, columns):
            empty = False
            yield batch.to_pandas()
    if empty:
        schema = curated.schema or pa.schema([])
        yield (schema if columns is None else pa.schema([schema.field(c) for c in columns])).empty_table().to_pandas()


def _batch_definition(name: str):
    source = gx_context().data_sources.add_or_update_pandas("curated")
    if name in source.get_asset_names():
        source.delete_asset(name)
    return source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("shard")


def _exception(exp_result) -> str | None:
    """GX's exception message for a result, flat or keyed by metric."""
    info = exp_result.exception_info or {}
    found = [info, *(v for v in info.values() if isinstance(v, dict))]
    for entry in found:
        if entry.get("raised_exception"):
            return redact(entry.get("exception_message") or "exception")
    return None


class _Sum:
    """One row-level expectation's results, summed over the shards."""

    def __init__(self) -> None:
        self.total = self.missing = self.unexpected = 0
        self.counted, self.failed, self.shards, self.exception = True, False, [], None
        self.sample: list = []

    def add(self, shard: int, exp_result) -> None:
        result = exp_result.result or {}
        self.exception = self.exception or _exception(exp_result)
        if exp_result.expectation_config.type not in _NO_SAMPLE:
            room = SAMPLE - len(self.sample)
            self.sample += [_plain(v) for v in (result.get("partial_unexpected_list") or [])[:room]]
        if "element_count" in result and result.get("unexpected_count") is not None:
            self.total += result["element_count"]
            self.missing += result.get("missing_count") or 0
            self.unexpected += result["unexpected_count"]
        else:  # e.g. expect_column_values_to_be_of_type on pandas: a verdict on the dtype, no counts
            self.counted = False
        self.failed |= not exp_result.success
        if not exp_result.success or result.get("unexpected_count"):
            self.shards.append(shard)

    def verdict(self, mostly: float) -> Verdict:
        if self.exception:
            return Verdict(False, exception=self.exception)
        if not self.counted:
            return Verdict(not self.failed)
        verdict = map_verdict(self.total, self.total - self.missing, self.unexpected, mostly)
        verdict.missing_count = self.missing
        return verdict


def _withheld(sample: list) -> list:
    """The sample, each value in which the PII detectors find something replaced by WITHHELD."""
    if not sample:
        return sample
    found = contains(pa.array([None if v is None else str(v) for v in sample], pa.large_string()))
    return [WITHHELD if hit else v for v, hit in zip(sample, found.to_pylist())]


def _plain(value):
    """A value as JSON keeps it (numpy scalars and timestamps from pandas become Python values or text)."""
    value = value.item() if hasattr(value, "item") else value
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _by_shards(curated: Curated, name: str, expectations: list, shard_rows: int) -> tuple[list[_Sum], int]:
    copies = []
    for i, e in enumerate(expectations):
        copy = e.configuration.to_domain_obj()
        copy.meta = {**(copy.meta or {}), _INDEX: i}
        copies.append(copy)
    suite = gx_module().ExpectationSuite(name=f"{name}.rows", expectations=copies)
    definition = _batch_definition(f"{curated.folder.name}.{name}")
    sums, shards = [_Sum() for _ in expectations], 0
    for shard, frame in enumerate(_shards(curated, shard_rows, _columns(expectations, curated.schema))):
        result = definition.get_batch(batch_parameters={"dataframe": frame}).validate(suite, result_format=_FORMAT)
        for exp_result in result.results:
            sums[exp_result.expectation_config.meta[_INDEX]].add(shard, exp_result)
        shards += 1
    return sums, shards


def _describe(e, verdict: Verdict, shards: list[int] | None, sample: list) -> dict:
    kwargs = {k: v for k, v in e.configuration.kwargs.items() if k not in ("batch_id", "value_set")}
    failure = {"expectation": e.expectation_type, "column": kwargs.get("column"), "kwargs": kwargs, "shard": "all",
               "unexpected_count": verdict.unexpected_count, "observed_value": verdict.observed_value,
               "sample": sample}
    if verdict.missing_count is not None:
        failure["missing_count"] = verdict.missing_count
    if shards:
        failure["shards"] = shards
    if verdict.exception:
        failure["exception"] = verdict.exception
    return failure


def run_suite(curated: Curated, name: str, suite: gx.ExpectationSuite, shard_rows: int = SHARD_ROWS) -> SuiteResult:
    expectations = list(suite.expectations)
    kinds = [kind(e) for e in expectations]
    out = SuiteResult(suite=name, curation=curated.id, success=True)
    verdicts: dict[int, Verdict] = {}
    with Table(curated.files, curated.schema) as table:
        out.rows = table.rows
        for i, e in enumerate(expectations):
            if kinds[i] == WHOLE:
                verdicts[i] = judge(e, table)
    rows = [i for i, k in enumerate(kinds) if k == ROWS]
    shards_of: dict[int, list[int]] = {}
    samples: dict[int, list] = {}
    if rows:
        sums, out.shards = _by_shards(curated, name, [expectations[i] for i in rows], shard_rows)
        for i, total in zip(rows, sums):
            verdicts[i] = total.verdict(getattr(expectations[i], "mostly", 1))
            shards_of[i], samples[i] = total.shards, _withheld(total.sample)
    page = []
    for i, e in enumerate(expectations):
        verdict = verdicts.get(i) or Verdict(False, exception=f"not evaluated: {unsupported(e)}")
        out.evaluated += 1
        if verdict.success:
            out.successful += 1
        else:
            out.success = False
            out.failures.append(_describe(e, verdict, shards_of.get(i), samples.get(i, [])))
        page.append(_page_result(e, verdict, samples.get(i, []) if not verdict.success else []))
    out.page = _page(out, page)
    return out


def _page_result(e, verdict: Verdict, sample: list):
    """One expectation's combined verdict as a GX result, for the Data Docs page."""
    from great_expectations.core import ExpectationValidationResult

    result = {"observed_value": verdict.observed_value, "element_count": verdict.element_count,
              "unexpected_count": verdict.unexpected_count, "missing_count": verdict.missing_count,
              "partial_unexpected_list": sample}
    if verdict.element_count and verdict.unexpected_count is not None:
        result["unexpected_percent"] = 100 * verdict.unexpected_count / verdict.element_count
    info = {"raised_exception": bool(verdict.exception), "exception_message": verdict.exception,
            "exception_traceback": verdict.exception}  # GX's renderer reads all three; we keep no traceback
    return ExpectationValidationResult(success=verdict.success, expectation_config=e.configuration,
                                       result={k: v for k, v in result.items() if v is not None},
                                       exception_info=info)


def _page(out: SuiteResult, results: list):
    from great_expectations.core import ExpectationSuiteValidationResult

    stats = {"evaluated_expectations": out.evaluated, "successful_expectations": out.successful,
             "unsuccessful_expectations": out.evaluated - out.successful,
             "success_percent": 100 * out.successful / out.evaluated if out.evaluated else None}
    return ExpectationSuiteValidationResult(success=out.success, results=results, suite_name=out.suite,
                                            statistics=stats, meta={"curation": out.curation, "rows": out.rows})


def docs_path(curated: Curated, name: str) -> Path:
    return curated.folder / "checks" / f"{name}.html"


@functools.cache
def _page_view():
    """GX's HTML view; one per process, so that its Jinja templates are compiled once, not on every check."""
    from great_expectations.render.view import DefaultJinjaPageView

    return DefaultJinjaPageView()


def write_docs(curated: Curated, result: SuiteResult) -> Path:
    """The suite run's GX Data Docs page (GX's validation page renderer and HTML view)."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer

    html = _page_view().render(ValidationResultsPageRenderer().render(result.page))
    path = docs_path(curated, result.suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
    return path


def verdict_path(curated: Curated, name: str) -> Path:
    return curated.folder / "checks" / f"{name}.json"


def record_verdict(curated: Curated, result: SuiteResult) -> None:
    """Write the verdict atomically: a reader sees the previous verdict or this one, never a part of it."""
    failpoint("validate.suite")
    path = verdict_path(curated, result.suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w") as f:
        kept = {f.name: getattr(result, f.name) for f in fields(result) if f.name != "page"}
        f.write(json.dumps(kept, indent=1, default=str))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


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
