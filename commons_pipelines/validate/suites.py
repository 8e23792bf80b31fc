"""Great Expectations suites built from a SourceSpec: the generic suite every source gets, and the declared one.

GX takes seconds to import, so it is imported inside the functions that need it, never at module load.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pyarrow as pa

from ..columns import LICENCE, PROVENANCE, ROW_SHA256, is_system
from ..licences import OPEN_LICENCES
from ..naming import column_name
from ..spec import SourceSpec, SpecError
from .whole import unsupported

RESIDUAL_PII = ("EMAIL", "PHONE", "IBAN", "CARD")
"""Types no published string column may still hold, unless the source declares the column (or the type) `keep`."""

if TYPE_CHECKING:
    import great_expectations as gx

GENERIC, DECLARED = "generic", "declared"
_COLUMN_ARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_ARGS = ("column_list", "column_set")


def gx_context():
    """The one ephemeral (in-memory, no files) GX data context of this process."""
    gx_module()
    return _context


def gx_module():
    """Import GX and make sure an ephemeral data context is active."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    global _context
    if _context is None:
        _context = gx.get_context(mode="ephemeral")
        _context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return gx


_context = None


def required_columns(spec: SourceSpec) -> list[str]:
    names = [column_name(c) for c in (*spec.primary_key, *spec.text_columns)]
    return list(dict.fromkeys([*PROVENANCE, *names]))


def residual_pii_targets(spec: SourceSpec, schema: pa.Schema | None) -> tuple[list[str], list[str]]:
    """The string columns the residual-PII expectation covers, and the types it looks for."""
    if schema is None:
        return [], []
    kept = {column_name(c) for c, policy in spec.pii.columns.items() if policy in ("keep", "drop_column")}
    types = [t for t in RESIDUAL_PII if spec.pii.types.get(t, spec.pii.policy) != "keep"]
    columns = [f.name for f in schema if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
               and not is_system(f.name) and f.name not in kept]
    return (columns, types) if types else ([], [])


def generic_suite(spec: SourceSpec, schema: pa.Schema | None = None) -> gx.ExpectationSuite:
    """Checks every source gets; with the curated schema, also the residual-PII check on each string column."""
    gx = gx_module()
    E = gx.expectations
    suite = gx.ExpectationSuite(name=f"{spec.id}.{GENERIC}")
    suite.add_expectation(E.ExpectTableRowCountToBeBetween(min_value=1))
    for col in required_columns(spec):
        suite.add_expectation(E.ExpectColumnValuesToNotBeNull(column=col))
    suite.add_expectation(E.ExpectColumnValuesToBeUnique(column=ROW_SHA256))
    suite.add_expectation(E.ExpectColumnValuesToBeInSet(column=LICENCE, value_set=sorted(OPEN_LICENCES)))
    if spec.primary_key:
        key = [column_name(c) for c in spec.primary_key]
        suite.add_expectation(E.ExpectColumnValuesToBeUnique(column=key[0]) if len(key) == 1
                              else E.ExpectCompoundColumnsToBeUnique(column_list=key))
    columns, types = residual_pii_targets(spec, schema)
    if columns:
        from ..curate.pii import default_regions
        from .residual_pii import expectation_class

        regions = list(spec.pii.regions) or default_regions(spec.languages)
        for col in columns:
            suite.add_expectation(expectation_class()(column=col, types=types, regions=regions))
    return suite


def _expectation_class(name: str):
    return getattr(gx_module().expectations, "".join(part.capitalize() for part in name.split("_")), None)


def declared_suite(spec: SourceSpec) -> gx.ExpectationSuite | None:
    """The expectations written in the source YAML; an unknown name, a bad argument or an expectation that cannot be
    judged over the whole dataset (validate/whole.py) names the file and field."""
    if not spec.expectations:
        return None
    gx = gx_module()
    suite = gx.ExpectationSuite(name=f"{spec.id}.{DECLARED}")
    for i, exp in enumerate(spec.expectations):
        field = f"expectations[{i}] ({exp.type})"
        cls = _expectation_class(exp.type)
        if cls is None:
            raise SpecError(f"{spec.origin}: field '{field}': unknown Great Expectations expectation; "
                            "see https://greatexpectations.io/expectations/ for the names")
        kwargs = dict(exp.kwargs)
        for arg in _COLUMN_ARGS:
            if isinstance(kwargs.get(arg), str):
                kwargs[arg] = column_name(kwargs[arg])
        for arg in _COLUMN_LIST_ARGS:
            if isinstance(kwargs.get(arg), list):
                kwargs[arg] = [column_name(c) for c in kwargs[arg]]
        try:
            expectation = cls(**kwargs)
        except Exception as err:  # GX raises pydantic and its own errors for bad arguments
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise SpecError(f"{spec.origin}: field '{field}': invalid arguments {exp.kwargs}: {first}") from None
        why = unsupported(expectation)
        if why:
            raise SpecError(f"{spec.origin}: field '{field}': {why}")
        suite.add_expectation(expectation)
    return suite


def suite_names(spec: SourceSpec) -> list[str]:
    """The suites a source has, known without importing GX (the Dagster checks are defined from it)."""
    return [GENERIC, DECLARED] if spec.expectations else [GENERIC]


def suite(spec: SourceSpec, name: str, schema: pa.Schema | None = None) -> gx.ExpectationSuite:
    return generic_suite(spec, schema) if name == GENERIC else declared_suite(spec)


def suites(spec: SourceSpec, schema: pa.Schema | None = None) -> dict[str, gx.ExpectationSuite]:
    return {name: suite(spec, name, schema) for name in suite_names(spec)}
