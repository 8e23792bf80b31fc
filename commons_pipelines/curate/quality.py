"""Document quality filters in the style of Gopher (Rae et al. 2021, appendix A) and C4 (Raffel et al. 2020).

The text of a row is its `columns` joined by "\\n" (a null counts as ""). Words are runs of non-whitespace. Rules run
in this fixed order and a row is rejected `quality:<field>` by the first that fails; a rule whose field is None is off:

  min_words, max_words             number of words
  min_/max_mean_word_length        characters of the words / number of words (0 when there are no words)
  max_symbol_ratio                 '#' per word, and '...' or '…' per word, each on its own (Gopher)
  max_digit_ratio                  digits per character (not a Gopher rule)
  min_alpha_words                  share of words holding a letter (0 when there are no words)
  max_duplicate_lines              share of the non-blank lines that repeat an earlier line of the row
  max_top_ngram                    characters of the most frequent word 2-gram × its count / characters of all words;
                                   only a 2-gram seen twice or more counts (a unique one is no repetition)
  max_duplicate_ngrams             characters of the words covered by a word 5-gram seen twice or more /
                                   characters of all words (the RedPajama reading of Gopher's rule)
  boilerplate                      C4: lines with "javascript", "terms of use", "privacy policy", "cookie policy",
                                   "uses cookies", "use of cookies" or "use cookies" are removed from the text
                                   columns (before the other rules see the text); a row holding "lorem ipsum", or with
                                   no text left, is rejected. Crude by design: a line about JavaScript goes too.

All rules work on whole Arrow arrays, so no rule calls Python per row: the words of a batch are split and turned
into integer ids (dictionary encoding) once (`Words`), and the word, letter and n-gram rules count with numpy over
those ids, the n-gram rules over the rows still in play only; the line rule does the same with lines. `GOPHER` holds the paper's thresholds for the rules it defines.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..spec import QualityConfig
from .step import Step, joined_text

GOPHER = {
    "min_words": 50, "max_words": 100_000, "min_mean_word_length": 3, "max_mean_word_length": 10,
    "max_symbol_ratio": 0.1, "min_alpha_words": 0.8, "max_duplicate_lines": 0.3, "max_top_ngram": 0.2,
    "max_duplicate_ngrams": 0.15,
}
"""The Gopher paper's thresholds (max_digit_ratio and boilerplate are not Gopher rules): `QualityConfig(**GOPHER)`."""

RULES = ("min_words", "max_words", "min_mean_word_length", "max_mean_word_length", "max_symbol_ratio",
         "max_digit_ratio", "min_alpha_words", "max_duplicate_lines", "max_top_ngram", "max_duplicate_ngrams",
         "boilerplate")
BOILERPLATE_LINE = r"(?im)^[^\n]*(javascript|terms of use|privacy policy|cookie policy|uses cookies|use of cookies|use cookies)[^\n]*(\n|$)"


def _count(text: pa.Array, pattern: str) -> np.ndarray:
    return pc.count_substring_regex(text, pattern).to_numpy(zero_copy_only=False).astype(np.float64)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _tokens(text: pa.Array, split) -> tuple[np.ndarray, pa.Array]:
    """The non-empty pieces of each row, flat, with the row each came from."""
    parts = split(text)
    flat, rows = pc.list_flatten(parts), pc.list_parent_indices(parts).to_numpy()
    keep = pc.not_equal(pc.utf8_length(flat), 0)
    return rows[keep.to_numpy(zero_copy_only=False)], flat.filter(keep)


def _ids(flat: pa.Array) -> np.ndarray:
    return pc.dictionary_encode(flat).indices.to_numpy().astype(np.int64)


def duplicate_lines(text: pa.Array) -> np.ndarray:
    rows, lines = _tokens(text, lambda t: pc.split_pattern(t, "\n"))
    lines = pc.utf8_trim_whitespace(lines)
    blank = pc.equal(pc.utf8_length(lines), 0).to_numpy(zero_copy_only=False)
    rows, ids = rows[~blank], _ids(lines.filter(pc.invert(pa.array(blank))))
    n = np.bincount(rows, minlength=len(text)).astype(np.float64)
    pairs = np.unique(rows * (int(ids.max()) + 1 if len(ids) else 1) + ids)
    unique = np.bincount(pairs // (int(ids.max()) + 1 if len(ids) else 1), minlength=len(text))
    return _ratio(n - unique, n)


class Words:
    """The words of each row (runs of non-whitespace), split and dictionary-encoded once for every word rule: a
    word's length and whether it holds a letter are computed on the distinct words only."""

    def __init__(self, text: pa.Array) -> None:
        self.n = len(text)
        self.rows, words = _tokens(text, pc.utf8_split_whitespace)
        encoded = pc.dictionary_encode(words)
        vocab, self.ids = encoded.dictionary, encoded.indices.to_numpy().astype(np.int64)
        self.lens = pc.utf8_length(vocab).to_numpy().astype(np.float64)[self.ids]
        letter = pc.match_substring_regex(vocab, r"\pL").to_numpy(zero_copy_only=False)[self.ids]
        self.count = np.bincount(self.rows, minlength=self.n).astype(np.float64)
        self.chars = np.bincount(self.rows, self.lens, minlength=self.n).astype(np.float64)
        self.alpha = np.bincount(self.rows, letter, minlength=self.n).astype(np.float64)

    def ngram_shares(self, live: np.ndarray | None = None, top: int = 2, dup: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """(top 2-gram share, duplicate 5-gram share) of each row, as defined in the module docstring; rows not in
        `live` (a boolean mask) get 0."""
        keep = live[self.rows] if live is not None else slice(None)
        rows, ids, lens = self.rows[keep], self.ids[keep], self.lens[keep]
        top_share, dup_share = np.zeros(self.n), np.zeros(self.n)
        for n, out in ((top, top_share), (dup, dup_share)):
            m = len(ids) - n + 1
            if m <= 0:
                continue
            start = np.flatnonzero(rows[:m] == rows[n - 1:])  # n-grams inside one row
            key = np.zeros(len(start), np.uint64)
            for k in range(n):  # a 64-bit polynomial hash of the word ids; a collision only merges two n-grams
                key = key * np.uint64(0x9E3779B97F4A7C15) + ids[start + k].astype(np.uint64)
            key = key * np.uint64(0x9E3779B97F4A7C15) + rows[start].astype(np.uint64)
            count = _repeats(key)
            gram = np.zeros(len(start))
            for k in range(n):
                gram += lens[start + k]
            if n == top:
                weight = np.where(count > 1, gram * count, 0)
                np.maximum.at(out, rows[start], weight)
            else:
                cover = np.zeros(len(ids) + 1, np.int64)  # words covered by a repeated n-gram, by a difference array
                rep = start[count > 1]
                np.add.at(cover, rep, 1)
                np.add.at(cover, rep + n, -1)
                covered = np.cumsum(cover[:-1]) > 0
                out[:] = np.bincount(rows[covered], lens[covered], minlength=self.n)
            out[:] = _ratio(out, np.bincount(rows, lens, minlength=self.n))
        return top_share, dup_share


def _repeats(key: np.ndarray) -> np.ndarray:
    """How many times each key occurs in `key`, at each position (a hash table: half the time of np.unique's sort)."""
    import pandas as pd

    codes, _ = pd.factorize(key)
    return np.bincount(codes)[codes]


class QualityFilter(Step):
    name = "quality"

    def __init__(self, columns: list[str], config: QualityConfig) -> None:
        super().__init__()
        if not columns:
            raise ValueError("quality: no text columns to judge (set quality.columns or text_columns)")
        self.columns, self.config = list(columns), config

    def strip_boilerplate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        cols = {c: pc.replace_substring_regex(batch.column(c), BOILERPLATE_LINE, "") for c in self.columns}
        return pa.RecordBatch.from_arrays([cols.get(n, batch.column(n)) for n in batch.schema.names],
                                          schema=batch.schema)

    def failures(self, text: pa.Array) -> dict[str, np.ndarray]:
        """Each rule that is on, with the rows it fails; the costly rules look only at rows no earlier rule failed."""
        cfg, n = self.config, len(text)
        out: dict[str, np.ndarray] = {}
        split = Words(text)
        words = split.count
        chars = pc.utf8_length(text).to_numpy().astype(np.float64)
        mean_len = _ratio(split.chars, words)
        checks = {
            "min_words": lambda: words < cfg.min_words,
            "max_words": lambda: words > cfg.max_words,
            "min_mean_word_length": lambda: mean_len < cfg.min_mean_word_length,
            "max_mean_word_length": lambda: mean_len > cfg.max_mean_word_length,
            "max_symbol_ratio": lambda: (_ratio(_count(text, "#"), words) > cfg.max_symbol_ratio)
            | (_ratio(_count(text, r"\.\.\.|…"), words) > cfg.max_symbol_ratio),
            "max_digit_ratio": lambda: _ratio(_count(text, r"\pN"), chars) > cfg.max_digit_ratio,
            "min_alpha_words": lambda: _ratio(split.alpha, words) < cfg.min_alpha_words,
        }
        for rule, check in checks.items():
            if getattr(cfg, rule) is not None:
                out[rule] = check()
        failed = np.zeros(n, bool)
        for mask in out.values():
            failed |= mask
        live = np.flatnonzero(~failed)
        if cfg.max_duplicate_lines is not None and len(live):
            mask = np.zeros(n, bool)
            mask[live] = duplicate_lines(text.take(live)) > cfg.max_duplicate_lines
            out["max_duplicate_lines"], failed = mask, failed | mask
            live = np.flatnonzero(~failed)
        if (cfg.max_top_ngram is not None or cfg.max_duplicate_ngrams is not None) and len(live):
            top, dup = split.ngram_shares(~failed)
            for rule, share in (("max_top_ngram", top), ("max_duplicate_ngrams", dup)):
                if getattr(cfg, rule) is not None:
                    out[rule] = np.zeros(n, bool)
                    out[rule][live] = share[live] > getattr(cfg, rule)
        if cfg.boilerplate:
            out["boilerplate"] = (pc.match_substring(text, "lorem ipsum", ignore_case=True).to_numpy(zero_copy_only=False)
                                  | (words == 0))
        return out

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self.config.boilerplate:
            batch = self.strip_boilerplate(batch)
        failures = self.failures(joined_text(batch, self.columns, self.name))
        rejected = np.zeros(batch.num_rows, bool)
        for rule in RULES:
            if rule in failures:
                mask = failures[rule] & ~rejected
                if mask.any():
                    self.reject(batch.filter(pa.array(mask)), f"quality:{rule}")
                rejected |= mask
        return batch if not rejected.any() else batch.filter(pa.array(~rejected))
