"""Column names to snake_case ASCII, unique and stable; the spec's column names go through the same function."""

from __future__ import annotations

import re
import unicodedata

import pyarrow as pa

from .step import Step


def column_name(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", ascii_name.strip())
    snake = re.sub(r"[^0-9a-zA-Z]+", "_", snake).strip("_").lower()
    return snake if snake and not snake[0].isdigit() else f"c_{snake}"


def column_names(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        new = name if name.startswith("_") else column_name(name)
        base, n = new, 2
        while new in out:
            new, n = f"{base}_{n}", n + 1
        out.append(new)
    return out


class NormalizeColumns(Step):
    name = "normalize"

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return batch.rename_columns(column_names(batch.schema.names))
