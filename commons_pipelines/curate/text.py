"""Which columns hold natural language, for a source that does not declare its `text_columns`.

Language identification and name detection read only natural-language columns: run over codes, short labels and
identifiers they cost much and find noise (the French medicines database, its medicine names read as text, had 85
languages on its card, 46.6% of them "en"). A source declares its text columns, or declares `text_columns: []` for
none; when it says nothing, the columns are detected on the first batch of landed rows. A string column is text when,
over its non-empty values:
- the median value has at least MIN_WORDS words (a character of a script written without spaces, such as Chinese or
  Thai, counts as half a word) and MIN_CHARS characters: labels ("Autorisation active"), codes and names of
  things are shorter;
- letters and spaces make at least MIN_LETTERS of the characters: URLs, dates, numbers, identifiers make less;
- at most MAX_UPPER of the letters are capitals and at least MIN_LOWER_WORDS of the words that start with a cased
  letter start with a small one: prose is mostly lower case; product labels in capitals (BDPM medicine names: 0.39
  of their letters), lists of names ("Jane Roe, Boston Public Schools") and titles in title case are not. Scripts
  without case pass both.
Columns whose names start with "_" are the project's own (file, URL, licence, load ids) and never text.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MIN_WORDS = 5
MIN_CHARS = 30
MIN_LETTERS = 0.8
MAX_UPPER = 0.3
MIN_LOWER_WORDS = 0.4
_UNSPACED = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}]"


def _count(text: pa.Array, pattern: str) -> np.ndarray:
    """Characters of each value that match `pattern` (one character class)."""
    kept = pc.replace_substring_regex(text, pattern.replace("[", "[^", 1) if pattern.startswith("[") else pattern, "")
    return pc.utf8_length(kept).to_numpy(zero_copy_only=False)


def is_text(values: pa.Array) -> bool:
    """Whether a column's values read as natural language (the rules in the module's text)."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return False
    text = pc.drop_null(values).cast(pa.large_string())
    text = text.filter(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0))
    if not len(text):
        return False
    chars = pc.utf8_length(text).to_numpy(zero_copy_only=False)
    words = pc.list_value_length(pc.utf8_split_whitespace(text)).to_numpy(zero_copy_only=False) \
        + _count(text, _UNSPACED) / 2
    letters = _count(text, r"[\pL\pM]")  # the marks of Indic and Southeast Asian scripts are part of their letters
    upper = _count(text, r"[\p{Lu}]")
    small = pc.count_substring_regex(text, r"(?:^|\s)\p{Ll}").to_numpy(zero_copy_only=False).sum()
    big = pc.count_substring_regex(text, r"(?:^|\s)\p{Lu}").to_numpy(zero_copy_only=False).sum()
    return bool(np.median(words) >= MIN_WORDS and np.median(chars) >= MIN_CHARS
                and (letters.sum() + _count(text, "[ ]").sum()) >= MIN_LETTERS * chars.sum()
                and upper.sum() <= MAX_UPPER * max(letters.sum(), 1) and small >= MIN_LOWER_WORDS * (small + big))


def detect(batch: pa.RecordBatch) -> list[str]:
    """The columns of `batch` that hold natural language, in the batch's order."""
    return [name for name in batch.schema.names if not name.startswith("_") and is_text(batch.column(name))]
