"""Normalisation: column names in the project's one convention, and clean text in every string column.

`NormalizeText` repairs mojibake, applies a Unicode normal form and tidies whitespace, all on whole Arrow arrays.
Mojibake repair is the one per-value Python call (ftfy); a vectorised regex first flags the few rows that show a
typical UTF-8-read-as-cp1252/latin-1 sequence ('Ã©', 'â€™', 'Â ' ...), and only those rows reach ftfy.

ftfy.fix_encoding, not fix_text: fix_text also straightens curly quotes, expands ligatures, narrows full-width
characters and applies NFC. Those change correct text, and applied only to flagged rows they would make the output
depend on the pre-filter; the normal form is this step's own, configured choice.
"""

from __future__ import annotations

import ftfy
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..naming import column_name, column_names
from ..spec import NormalizeConfig
from .step import Step

# A lead byte of a 2-4 byte UTF-8 sequence (0xC2-0xF4 read as latin-1/cp1252) followed by a continuation byte
# (0x80-0xBF read as latin-1, or its cp1252 character for 0x80-0x9F).
MOJIBAKE = "[\u00c2-\u00f4][\u0080-\u00bf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178]"
CONTROL = r"[\x{0}-\x{8}\x{E}-\x{1F}\x{7F}-\x{9F}]"  # Cc but \t \n (\r, \v, \f are line breaks, handled before)
HSPACE = r"[\t \x{A0}\x{1680}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}]"


class NormalizeColumns(Step):
    name = "normalize"

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return batch.rename_columns(column_names([_usable(n, i) for i, n in enumerate(batch.schema.names)]))


def _usable(name: str, i: int) -> str:
    """The name, or 'column_<position>' when nothing is left of it (empty, only spaces), as ingest names it."""
    try:
        column_name(name)
    except ValueError:
        return f"column_{i + 1}"
    return name


def fix_mojibake(col: pa.Array) -> pa.Array:
    flagged = pc.fill_null(pc.match_substring_regex(col, MOJIBAKE), False)
    rows = np.flatnonzero(flagged.to_numpy(zero_copy_only=False))
    if not len(rows):
        return col
    fixed = [ftfy.fix_encoding(s) for s in col.take(rows).to_pylist()]
    return pc.replace_with_mask(col, flagged, pa.array(fixed, col.type))


def tidy_whitespace(col: pa.Array) -> pa.Array:
    """\\r\\n, \\r, \\v, \\f, U+2028/9 to \\n; drop other control characters; a run of 2+ horizontal spaces (space,
    tab, NBSP, other Unicode spaces) to one space (a lone tab or NBSP stays); no spaces at line ends; 3+ newlines to
    2; strip."""
    col = pc.replace_substring_regex(col, r"\r\n|[\r\x{B}\x{C}\x{2028}\x{2029}]", "\n")
    col = pc.replace_substring_regex(col, CONTROL, "")
    col = pc.replace_substring_regex(col, HSPACE + "{2,}", " ")
    col = pc.replace_substring_regex(col, HSPACE + "+\n", "\n")
    col = pc.replace_substring_regex(col, r"\n{3,}", "\n\n")
    return pc.utf8_trim_whitespace(col)


class NormalizeText(Step):
    """Every string / large_string column: mojibake repair, Unicode normal form, whitespace (each as configured).
    Nulls stay null; other column types pass unchanged."""

    name = "normalize_text"

    def __init__(self, config: NormalizeConfig) -> None:
        super().__init__()
        self.config = config

    def text(self, col: pa.Array) -> pa.Array:
        if self.config.fix_mojibake:
            col = fix_mojibake(col)
        if self.config.unicode_form != "none":
            col = pc.utf8_normalize(col, self.config.unicode_form)
        if self.config.whitespace:
            col = tidy_whitespace(col)
        return col

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        cols = [self.text(c) if pa.types.is_string(c.type) or pa.types.is_large_string(c.type) else c
                for c in batch.columns]
        return pa.RecordBatch.from_arrays(cols, schema=batch.schema)
