"""The PII step: find personal data in every string column and apply the source's policy to each finding.

Policy precedence is column > type > default (PiiConfig). `redact` writes `[TYPE]`, `pseudonymize` writes
`[TYPE:<12 hex>]` from HMAC-SHA256(key, dataset, type, canonical value) so one value gets one token within a
dataset and no token can be reversed without the key, `drop_row` rejects the row as "pii:<TYPE>" (the
quarantined copy is redacted),
`drop_column` removes the column unscanned, `keep` leaves the value (a column kept is not scanned; a type kept
is found and counted). Counts are per (type, column, policy). No value is ever logged or put in an error.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...spec import PATTERN_PII, PiiConfig
from ...stats import PiiCount
from ..step import Step
from .detect import Match, resolve, scan

NER_TYPES = ("PERSON", "ADDRESS")


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


class Pii(Step):
    name = "pii"

    def __init__(self, config: PiiConfig, dataset: str, regions: list[str], key: bytes | None = None, ner=None,
                 ner_columns: list[str] | None = None):
        """`ner` looks for names and addresses in `ner_columns` only (None: every string column): names live in free
        text, and a model run over every code and category column costs much and finds mostly false names."""
        super().__init__()
        self.config = config
        self.dataset = dataset
        self.regions = list(regions)
        self.ner = ner
        self.ner_columns = None if ner_columns is None else set(ner_columns)
        policies = {config.policy, *config.types.values(), *config.columns.values()}
        if "pseudonymize" in policies and not key:
            raise ValueError(f"PII policy 'pseudonymize' for dataset {dataset!r} needs a secret key: "
                             "set COMMONS_PII_KEY")
        self._key = key
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._checked = False

    def policy(self, column: str, type: str) -> str:
        return self.config.columns.get(column) or self.config.types.get(type) or self.config.policy

    def token(self, type: str, canon: str) -> str:
        msg = "\x1f".join((self.dataset, type, canon)).encode()
        return f"[{type}:{hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:12]}]"

    def snapshot(self) -> tuple:
        count, _ = super().snapshot()
        found, self._counts = self._counts, Counter()
        return count, found

    def absorb(self, count, found) -> None:
        super().absorb(count, found)
        self._counts.update(found)

    def report(self) -> list[PiiCount]:
        return [PiiCount(t, c, p, n) for (t, c, p), n in sorted(self._counts.items())]

    def _check_columns(self, schema: pa.Schema) -> None:
        missing = [c for c in self.config.columns if c not in schema.names]
        if missing:
            raise ValueError(f"pii.columns names {', '.join(map(repr, missing))}, not in dataset {self.dataset!r}; "
                             f"columns present: {', '.join(schema.names)}")
        self._checked = True

    def _find(self, column: str, values: pa.Array) -> list[Match]:
        found = scan(values, PATTERN_PII, self.regions)
        if self.ner is None or (self.ner_columns is not None and column not in self.ner_columns):
            return found
        rows = np.flatnonzero(values.is_valid().to_numpy(zero_copy_only=False)).tolist()
        if not rows:
            return found
        texts = values.take(pa.array(rows, pa.int64())).to_pylist()
        spans = self.ner.find(texts)
        named = [Match(r, s, e, t, _canon_name(text[s:e]))
                 for r, text, row_spans in zip(rows, texts, spans)
                 for s, e, t in row_spans if t in NER_TYPES and 0 <= s < e <= len(text)]
        return resolve(found + named)  # pattern types come first in PRIORITY, so they win on overlap

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if not self._checked:
            self._check_columns(batch.schema)
        drop = [c for c, p in self.config.columns.items() if p == "drop_column"]
        names = [n for n in batch.schema.names if n not in drop]
        arrays = [batch.column(n) for n in names]
        reasons: dict[int, str] = {}
        for i, name in enumerate(names):
            if not _is_text(arrays[i].type) or self.config.columns.get(name) == "keep":
                continue
            found = self._find(name, arrays[i])
            if found:
                arrays[i] = self._apply(name, arrays[i], found, reasons)
        out = pa.RecordBatch.from_arrays(arrays, schema=pa.schema([batch.schema.field(n) for n in names]))
        if not reasons:
            return out
        dropped = np.zeros(batch.num_rows, dtype=bool)
        dropped[list(reasons)] = True
        for reason in sorted(set(reasons.values())):
            rows = [r for r, why in reasons.items() if why == reason]
            self.reject(out.take(pa.array(rows, pa.int64())), reason)
        return out.filter(pa.array(~dropped))

    def _apply(self, column: str, values: pa.Array, found: list[Match], reasons: dict[int, str]) -> pa.Array:
        edits: dict[int, list[tuple[Match, str]]] = {}
        for m in found:
            policy = self.policy(column, m.type)
            self._counts[(m.type, column, policy)] += 1
            if policy == "drop_row":  # redacted too: the quarantine keeps the row for review, not the value
                reasons.setdefault(m.row, f"pii:{m.type}")
                edits.setdefault(m.row, []).append((m, f"[{m.type}]"))
            elif policy == "redact":
                edits.setdefault(m.row, []).append((m, f"[{m.type}]"))
            elif policy == "pseudonymize":
                edits.setdefault(m.row, []).append((m, self.token(m.type, m.canon)))
        if not edits:
            return values
        rows = sorted(edits)
        texts = values.take(pa.array(rows, pa.int64())).to_pylist()
        for j, r in enumerate(rows):
            text = texts[j]
            for m, repl in sorted(edits[r], key=lambda e: -e[0].start):
                text = text[:m.start] + repl + text[m.end:]
            texts[j] = text
        mask = np.zeros(len(values), dtype=bool)
        mask[rows] = True
        return pc.replace_with_mask(values, pa.array(mask), pa.array(texts, values.type))


def _canon_name(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()
