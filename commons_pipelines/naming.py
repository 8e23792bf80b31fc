"""The one definition of column names: dlt's snake_case naming convention (the warehouse's), after accents
are dropped, so that names in a source YAML, in the warehouse and in the curated data agree."""

from __future__ import annotations

import unicodedata

from dlt.common.normalizers.naming.snake_case import NamingConvention

_naming = NamingConvention()


def fold_name(name: str) -> str:
    """'Dénomination' -> 'Denomination': dlt's snake_case turns each non-ASCII character into '_'."""
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


def column_name(name: str) -> str:
    return _naming.normalize_identifier(fold_name(name))


def column_names(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        new = base = column_name(name)
        n = 2
        while new in out:
            new, n = f"{base}_{n}", n + 1
        out.append(new)
    return out
