"""A GX expectation that no personal data of the given types remains in a column.

It runs the same detectors as the PII step (curate/pii), so "remains" means exactly what curation would have found.
Failures report counts only: the GX result carries no unexpected values, and our verdicts keep only counts.
Defined on first use, because GX is imported lazily.
"""

from __future__ import annotations

from functools import cache

import pyarrow as pa

METRIC = "column_values.commons_no_residual_pii"


@cache
def expectation_class():
    from great_expectations.compatibility import pydantic
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.metrics.map_metric_provider import (
        ColumnMapMetricProvider,
        column_condition_partial,
    )

    from ..curate.pii import contains

    class ColumnValuesHaveNoResidualPii(ColumnMapMetricProvider):
        condition_metric_name = METRIC
        condition_value_keys = ("types", "regions")

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column, types, regions, **kwargs):
            values = pa.array(column.astype(object).where(column.notna(), None), pa.large_string(), from_pandas=True)
            found = contains(values, tuple(types), tuple(regions)).to_numpy(zero_copy_only=False)
            return ~column.__class__(found, index=column.index)

    class ExpectColumnValuesToHaveNoResidualPii(ColumnMapExpectation):
        """Expect no e-mail, phone, IBAN, card (or other given type) in the column's string values."""
        types: list[str] = pydantic.Field(description="PII types searched for")
        regions: list[str] = pydantic.Field(default_factory=list, description="regions for national phone formats")
        map_metric = METRIC
        success_keys = ("types", "regions", "mostly")
        args_keys = ("column", "types", "regions")

    return ExpectColumnValuesToHaveNoResidualPii
