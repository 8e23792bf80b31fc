"""Expectations about the whole curated dataset, judged by DuckDB over all its Parquet parts at once.

GX sees one pandas shard at a time, so a key repeated in two shards, a row count or a mean would be judged per shard.
The expectations in `JUDGES` are computed here instead, the way GX's pandas engine computes them on one frame: nulls
(and float NaN, which pandas takes for null) are left out, `mostly`, `strict_min`/`strict_max`, `ignore_row_if`,
`exact_match`, `ties_okay` and `column_index` mean what they mean in GX (test_validate_whole.py holds the two side by
side). Row-level expectations (column map, pair map, multicolumn map) stay with GX, shard by shard, except those that
need the whole column at once (`WHOLE_COLUMN`), which are refused like any other expectation not judged here.
Verdicts carry counts and numbers only, never a value of the data.
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..columns import sql_string

WHOLE, ROWS = "whole", "rows"
MEMORY_LIMIT = "1GB"
"""DuckDB's memory; grouping beyond it (uniqueness over many rows) spills to a temporary folder."""

WHOLE_COLUMN = {
    "expect_column_values_to_be_increasing": "compares each row with the previous one, across shards too",
    "expect_column_values_to_be_decreasing": "compares each row with the previous one, across shards too",
    "expect_column_value_z_scores_to_be_less_than": "needs the mean and deviation of the whole column",
    "expect_column_values_to_not_be_outliers": "needs the quartiles of the whole column",
    "expect_multicolumn_values_to_be_unique": "deprecated by GX: use expect_compound_columns_to_be_unique",
}
"""Row-level in GX, but a row's verdict depends on other rows: one shard at a time would judge them wrongly."""


@dataclass
class Verdict:
    success: bool
    unexpected_count: int | None = None
    missing_count: int | None = None
    observed_value: int | float | None = None
    element_count: int | None = None
    exception: str | None = None


def redact(message: str) -> str:
    """An error message without the quoted literals in it: DuckDB and pandas quote the data value they choke on."""
    return re.sub(r"'[^']*'", "'…'", message.strip().splitlines()[0] if message.strip() else "")


class Table:
    """The curated parts as one DuckDB view, `curated`; an empty table of the schema when there is no part."""

    def __init__(self, files: list[Path], schema: pa.Schema | None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="commons-validate-")
        self.con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": self._tmp.name,
                                          "preserve_insertion_order": False})
        self.schema = schema if schema is not None else pa.schema([])
        if files:
            paths = ", ".join(sql_string(str(f)) for f in files)
            self.con.execute(f"create view curated as select * from read_parquet([{paths}])")
        elif self.schema.names:
            self.con.register("curated", self.schema.empty_table())
        else:  # DuckDB wants a column: no part and no schema is a table of no row and (for the checks) no column
            self.con.execute("create view curated as select null as _ where false")
        self.rows = self.one("select count(*) from curated")[0]

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc) -> None:
        self.con.close()
        self._tmp.cleanup()

    def one(self, sql: str) -> tuple:
        return self.con.execute(sql).fetchall()[0]  # fetched to the end: DuckDB refuses new work with a result pending

    def column(self, name: str) -> str:
        """SQL for a column's values as pandas sees them: float NaN is null."""
        quoted = '"' + name.replace('"', '""') + '"'
        field = self.schema.field(name) if name in self.schema.names else None
        return f"nullif({quoted}, 'NaN'::double)" if field and pa.types.is_floating(field.type) else quoted

    def value_set(self, column: str, values: list) -> int:
        """Register `values` as table `expected` (one column `v`, the column's type), keeping those a value of the
        column could equal (GX compares Python values); returns how many distinct values were left out."""
        field = self.schema.field(column) if column in self.schema.names else None
        kept, dropped = [], set()
        for v in values:
            scalar = _scalar(v, field.type) if field is not None and v is not None else None
            if scalar is None:
                dropped.add(_hashable(v))
            else:
                kept.append(scalar)
        array = pa.array([s.as_py() for s in kept], field.type if field is not None else pa.null())
        self.con.register("expected", pa.table({"v": array}))
        return len(dropped)


def _hashable(v: Any) -> Any:
    return repr(v) if isinstance(v, (list, dict)) else v


def _scalar(v: Any, type_: pa.DataType) -> pa.Scalar | None:
    """`v` as a value of the column's type, or None when no value of that type equals it."""
    if isinstance(v, bool) != pa.types.is_boolean(type_):
        return None
    if isinstance(v, str) != (pa.types.is_string(type_) or pa.types.is_large_string(type_)):
        if not (isinstance(v, str) and pa.types.is_temporal(type_)):  # GX parses dates written as text
            return None
        from dateutil.parser import parse

        v = parse(v).date() if pa.types.is_date(type_) else parse(v)
    if isinstance(v, float) and pa.types.is_integer(type_):
        if not v.is_integer():
            return None
        v = int(v)
    try:
        return pa.scalar(v, type_)
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        return None


def _number(v: Any) -> int | float | None:
    if isinstance(v, decimal.Decimal):
        v = float(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not math.isfinite(v)):
        return None
    return v


def _between(value: Any, e) -> Verdict:
    """GX's `_validate_metric_value_between`: a null metric fails, text bounds are parsed for a date metric."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Verdict(False)
    if isinstance(value, decimal.Decimal):
        value = float(value)
    low, high = e.min_value, e.max_value
    if isinstance(value, datetime.date):
        from dateutil.parser import parse

        date_only = not isinstance(value, datetime.datetime)
        low, high = ((parse(b).date() if date_only else parse(b)) if isinstance(b, str) else b for b in (low, high))
    above = low is None or (value > low if getattr(e, "strict_min", False) else value >= low)
    below = high is None or (value < high if getattr(e, "strict_max", False) else value <= high)
    return Verdict(bool(above and below), observed_value=_number(value))


def map_verdict(total: int, considered: int, unexpected: int, mostly: float) -> Verdict:
    """A map expectation's verdict: vacuously true with nothing to consider, else GX's `_mostly_success`."""
    success = total == 0 or considered == 0 or (float(considered) - unexpected) / float(considered) >= mostly
    return Verdict(bool(success), unexpected_count=unexpected, element_count=total)


def _row_count_between(e, t: Table) -> Verdict:
    return _between(t.rows, e)


def _row_count_equal(e, t: Table) -> Verdict:
    return Verdict(t.rows == e.value, observed_value=t.rows)


def _duplicates(t: Table, keys: list[str], where: str) -> tuple[int, int]:
    """Rows considered, and those whose key another row shares (all of them, as pandas' duplicated(keep=False))."""
    considered, dupes = t.one(f"select sum(n), sum(n) filter (where n > 1) from "
                              f"(select count(*) n from curated where {where} group by {', '.join(keys)})")
    return int(considered or 0), int(dupes or 0)


def _values_unique(e, t: Table) -> Verdict:
    c = t.column(e.column)
    return map_verdict(t.rows, *_duplicates(t, [c], f"{c} is not null"), e.mostly)


def _compound_unique(e, t: Table) -> Verdict:
    cols = [t.column(c) for c in e.column_list]
    where = {"all_values_are_missing": "not (" + " and ".join(f"{c} is null" for c in cols) + ")",
             "any_value_is_missing": " and ".join(f"{c} is not null" for c in cols),
             "never": "true"}[e.ignore_row_if]
    return map_verdict(t.rows, *_duplicates(t, cols, where), e.mostly)


_AGGREGATES = {
    "expect_column_mean_to_be_between": "avg({})",
    "expect_column_median_to_be_between": "median({})",
    "expect_column_min_to_be_between": "min({})",
    "expect_column_max_to_be_between": "max({})",
    "expect_column_sum_to_be_between": "coalesce(sum({}), 0)",  # pandas sums no value to 0
    "expect_column_stdev_to_be_between": "stddev_samp({})",  # pandas' std() is the sample deviation
    "expect_column_unique_value_count_to_be_between": "count(distinct {})",
    "expect_column_proportion_of_unique_values_to_be_between":
        "coalesce(count(distinct {0}) / nullif(count({0}), 0), 0)",
    "expect_column_proportion_of_non_null_values_to_be_between": "coalesce(count({}) / nullif(count(*), 0), 0)",
}


def _aggregate(e, t: Table) -> Verdict:
    sql = _AGGREGATES[e.expectation_type].format(t.column(e.column))
    return _between(t.one(f"select {sql} from curated")[0], e)


def _distinct_values(e, t: Table) -> Verdict:
    """GX counts the distinct values outside the set (`unexpected_count`) and the set's values not found (`missing`)."""
    c, name = t.column(e.column), e.expectation_type
    impossible = t.value_set(e.column, list(e.value_set))
    outside = missing = None
    if not name.endswith("_contain_set"):
        outside = t.one(f"select count(distinct {c}) from curated where {c} is not null "
                        f"and {c} not in (select v from expected)")[0]
    if not name.endswith("_be_in_set"):
        missing = impossible + t.one(f"select count(distinct v) from expected where v not in "
                                     f"(select {c} from curated where {c} is not null)")[0]
    return Verdict(not outside and not missing, unexpected_count=outside, missing_count=missing)


def _most_common_value(e, t: Table) -> Verdict:
    c = t.column(e.column)
    t.value_set(e.column, list(e.value_set or []))
    ties, hits = t.one(f"with g as (select {c} as c, count(*) n from curated where {c} is not null group by 1) "
                       "select count(*), count(*) filter (where c in (select v from expected)) from g "
                       "where n = (select max(n) from g)")
    return Verdict(hits > 0 if e.ties_okay else (ties == 1 and hits == 1), unexpected_count=ties - hits)


def _columns_ordered(e, t: Table) -> Verdict:
    return Verdict(e.column_list is None or list(t.schema.names) == list(e.column_list))


def _columns_set(e, t: Table) -> Verdict:
    actual, expected = set(t.schema.names), set(e.column_set or [])
    extra, missing = len(actual - expected), len(expected - actual)
    success = missing == 0 and (extra == 0 or not e.exact_match)
    return Verdict(success, unexpected_count=extra, missing_count=missing)


def _column_exists(e, t: Table) -> Verdict:
    names = t.schema.names
    if e.column_index:  # as in GX, index 0 only asks for the column to exist
        return Verdict(e.column_index < len(names) and names[e.column_index] == e.column)
    return Verdict(e.column in names)


def _column_count_equal(e, t: Table) -> Verdict:
    return Verdict(len(t.schema.names) == e.value, observed_value=len(t.schema.names))


def _column_count_between(e, t: Table) -> Verdict:
    return _between(len(t.schema.names), e)


JUDGES = {
    "expect_table_row_count_to_be_between": _row_count_between,
    "expect_table_row_count_to_equal": _row_count_equal,
    "expect_column_values_to_be_unique": _values_unique,
    "expect_compound_columns_to_be_unique": _compound_unique,
    **{name: _aggregate for name in _AGGREGATES},
    "expect_column_distinct_values_to_be_in_set": _distinct_values,
    "expect_column_distinct_values_to_contain_set": _distinct_values,
    "expect_column_distinct_values_to_equal_set": _distinct_values,
    "expect_column_most_common_value_to_be_in_set": _most_common_value,
    "expect_table_columns_to_match_ordered_list": _columns_ordered,
    "expect_table_columns_to_match_set": _columns_set,
    "expect_column_to_exist": _column_exists,
    "expect_table_column_count_to_equal": _column_count_equal,
    "expect_table_column_count_to_be_between": _column_count_between,
}


def unsupported(e) -> str | None:
    """Why this expectation cannot be judged over the whole dataset, or None when it can (here or by shards)."""
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )

    name = e.expectation_type
    if name in JUDGES:
        if getattr(e, "row_condition", None):
            return "a row_condition is not supported on a whole-dataset expectation"
        if any(isinstance(v, dict) and "$PARAMETER" in v for v in e.configuration.kwargs.values()):
            return "suite parameters ($PARAMETER) are not supported on a whole-dataset expectation"
        return None
    if name in WHOLE_COLUMN:
        return f"not judged shard by shard: it {WHOLE_COLUMN[name]}"
    if isinstance(e, (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)):
        return None
    return "a table-level expectation that this project does not judge over the whole dataset (see validate/whole.py)"


def kind(e) -> str | None:
    """WHOLE (judged here), ROWS (GX, shard by shard, counts summed) or None (unsupported: see `unsupported`)."""
    if unsupported(e):
        return None
    return WHOLE if e.expectation_type in JUDGES else ROWS


def judge(e, t: Table) -> Verdict:
    try:
        return JUDGES[e.expectation_type](e, t)
    except (duckdb.Error, TypeError, ValueError, OverflowError) as err:  # e.g. a mean of text, a missing column
        return Verdict(False, exception=redact(f"{type(err).__name__}: {err}"))
    finally:
        t.con.unregister("expected")
