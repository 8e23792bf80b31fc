"""The PII step: find personal data in every string column and apply the source's policy to each finding.

Policy precedence is column > type > default (PiiConfig). `redact` writes `[TYPE]`, `pseudonymize` writes
`[TYPE:<12 hex>]` from HMAC-SHA256(key, dataset, type, canonical value) so one value gets one token within a
dataset and no token can be reversed without the key, `drop_row` rejects the row as "pii:<TYPE>" (the
quarantined copy is redacted),
`drop_column` removes the column unscanned, `keep` leaves the value (a column kept is not scanned; a type kept
is found and counted). No value is ever logged or put in an error.

Redaction is a fixed point: the edited values are scanned again with the same detectors and edited again until
nothing is found that a policy would change (see Pii._settle), so the residual-PII check, which runs the same
detectors on the curated data, finds nothing. Counts are per (type, column, policy): each finding once, in the round
that found it, so a number that reads as a phone only once its label "NHC:" was taken by a name span counts as a
PHONE; a finding of a kept type is counted by the first scan only; a value that does not settle in ROUNDS rounds
is replaced whole and its last findings count under the policy UNSETTLED.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...columns import LANG, LANG2
from ...spec import PATTERN_PII, PiiConfig
from ...stats import NER_LANGUAGE, PiiCount
from ..step import Step
from .detect import TOKEN, Match, outside_tokens, resolve, scan

NER_TYPES = ("PERSON", "ADDRESS")
ROUNDS = 4
"""Rounds of edits a value gets at most; after the last, a value still holding something to edit is replaced whole by
WHOLE. Each edit turns characters outside placeholders into one, and no pattern finding lies inside a placeholder,
so the pattern detectors alone always settle; a model could go on finding new spans. Measured: at most 3 rounds on
every labelled set and on the MEDDOCAN variations of the tests, with and without the NER backend."""
WHOLE = "[PII]"
UNSETTLED = "redact_value"


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
        self._checked = False

    def policy(self, column: str, type: str) -> str:
        return self.config.columns.get(column) or self.config.types.get(type) or self.config.policy

    def token(self, type: str, canon: str) -> str:
        msg = "\x1f".join((self.dataset, type, canon)).encode()
        return f"[{type}:{hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:12]}]"

    def report(self) -> list[PiiCount]:
        """The counts per (type, column, policy), and per language the name backend met, the backend that ran on it
        and the texts it read, as PiiCount(NER_LANGUAGE, language, backend, texts)."""
        return [PiiCount(*key, n) if key[0] != NER_LANGUAGE else PiiCount(NER_LANGUAGE, key[1],
                                                                           self.ner.backend_of(key[1]), n)
                for key, n in sorted(self.found.items())]

    def _check_columns(self, schema: pa.Schema) -> None:
        missing = [c for c in self.config.columns if c not in schema.names]
        if missing:
            raise ValueError(f"pii.columns names {', '.join(map(repr, missing))}, not in dataset {self.dataset!r}; "
                             f"columns present: {', '.join(schema.names)}")
        self._checked = True

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if not self._checked:
            self._check_columns(batch.schema)
        reasons: dict[int, str] = {}
        out = self._treat(batch, reasons, self.found)
        if not reasons:
            return out
        dropped = np.zeros(batch.num_rows, dtype=bool)
        dropped[list(reasons)] = True
        for reason in sorted(set(reasons.values())):
            rows = [r for r, why in reasons.items() if why == reason]
            self.reject(out.take(pa.array(rows, pa.int64())), reason)
        return out.filter(pa.array(~dropped))

    def redact(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The batch as the policies leave it, every row kept and nothing counted: for rows that a step before this
        one removes, so that no quarantine file holds personal data. A `drop_row` value is redacted as in the
        quarantined copy; columns named in pii.columns may be missing from the batch. Changes no state."""
        return self._treat(batch, {}, None)

    def _treat(self, batch: pa.RecordBatch, reasons: dict[int, str], counts: Counter | None) -> pa.RecordBatch:
        drop = [c for c, p in self.config.columns.items() if p == "drop_column"]
        names = [n for n in batch.schema.names if n not in drop]
        arrays = [batch.column(n) for n in names]
        # the row's language, when the language step ran before: names are looked for with that language's model
        langs = batch.column(LANG).to_pylist() if self.ner is not None and LANG in batch.schema.names else None
        for i, name in enumerate(names):
            if _is_text(arrays[i].type) and self.config.columns.get(name) != "keep" and name not in (LANG, LANG2):
                arrays[i] = self._settle(name, arrays[i], reasons, counts, langs)
        return pa.RecordBatch.from_arrays(arrays, schema=pa.schema([batch.schema.field(n) for n in names]))

    def _settle(self, column: str, values: pa.Array, reasons: dict[int, str], counts: Counter | None,
                langs: list[str | None] | None = None) -> pa.Array:
        """Edit until a scan of the edited values finds nothing more to edit. What an edit uncovers (a record number
        whose label "NHC:" a name span took) or writes (a [PHONE] placeholder reads as a phone word) can make a
        finding that was not there, so each later round scans the values the round before changed: with the patterns
        whole, with the NER backend around the placeholders written (see _around). Each finding is counted once, in
        the round that finds it; kept findings in the first round only, since later rounds find them again."""
        rows: list[int] | None = None  # None: every row
        spots: dict[int, list[tuple[int, int]]] = {}
        for n in range(ROUNDS + 1):
            part = values if rows is None else values.take(pa.array(rows, pa.int64()))
            near = None if rows is None else [spots[r] for r in rows]
            part_langs = langs if rows is None or langs is None else [langs[r] for r in rows]
            edit, kept = self._find(column, part, near, kept=counts is not None and n == 0, counts=counts,
                                    langs=part_langs)
            if rows is not None:
                edit = [replace(m, row=rows[m.row]) for m in edit]
            if counts is not None:
                counts.update((m.type, column, "keep") for m in kept)
                counts.update((m.type, column, self.policy(column, m.type) if n < ROUNDS else UNSETTLED)
                              for m in edit)
            if not edit:
                break
            for m in edit:
                if self.policy(column, m.type) == "drop_row":
                    reasons.setdefault(m.row, f"pii:{m.type}")
            if n == ROUNDS:  # the bound, which the edits of pattern findings cannot reach (see ROUNDS)
                mask = np.zeros(len(values), dtype=bool)
                mask[sorted({m.row for m in edit})] = True
                return pc.replace_with_mask(values, pa.array(mask), pa.array([WHOLE] * int(mask.sum()), values.type))
            values, spots = self._apply(column, values, edit)
            rows = sorted(spots)
        return values

    def _find(self, column: str, values: pa.Array, near: list | None, kept: bool,
              counts: Counter | None = None, langs: list[str | None] | None = None) -> tuple[list[Match], list[Match]]:
        """The findings to edit, and (when `kept`) those the policies keep that overlap none of them: a kept value
        never shields a value to edit, since the residual check looks for the one it does not keep. With `counts`, on
        the first round, the texts the name backend read per language are counted in it."""
        keep = {t for t in (*PATTERN_PII, *NER_TYPES) if self.policy(column, t) == "keep"}
        named = self._named(column, values, near, counts if near is None else None, langs)
        edit = [t for t in PATTERN_PII if t not in keep]
        found = resolve((scan(values, edit, self.regions) if edit else []) + [m for m in named if m.type not in keep])
        if not (kept and keep):
            return found, []
        spans: dict[int, list[Match]] = {}
        for m in found:
            spans.setdefault(m.row, []).append(m)
        shown = resolve(scan(values, [t for t in PATTERN_PII if t in keep], self.regions)
                        + [m for m in named if m.type in keep])
        return found, [m for m in shown if not any(k.start < m.end and m.start < k.end for k in spans.get(m.row, ()))]

    def _named(self, column: str, values: pa.Array, near: list | None, counts: Counter | None = None,
               langs: list[str | None] | None = None) -> list[Match]:
        """NER spans in every value, or (with `near`, per value the spans written the round before) around those;
        `langs`: each value's language (the row's `_lang`)."""
        if self.ner is None or (self.ner_columns is not None and column not in self.ner_columns):
            return []
        rows = np.flatnonzero(values.is_valid().to_numpy(zero_copy_only=False)).tolist()
        if not rows:
            return []
        texts = values.take(pa.array(rows, pa.int64())).to_pylist()
        if near is None:
            pieces = [(r, text, 0, len(text)) for r, text in zip(rows, texts)]
        else:
            pieces = [(r, text, a, b) for r, text in zip(rows, texts) for a, b in _around(text, near[r])]
        found, seen = [], Counter()
        routes = hasattr(self.ner, "backend_of")  # a backend that routes by language
        counted = counts is not None and routes
        args = {"seen": seen} if counted else {}
        if routes and langs is not None:
            args["langs"] = [langs[r] for r, *_ in pieces]
        named = self.ner.find([text[a:b] for _, text, a, b in pieces], **args)
        if counted:
            counts.update({(NER_LANGUAGE, lang): n for lang, n in seen.items()})
        for (r, text, a, b), spans in zip(pieces, named):
            piece = text[a:b]
            for s, e, t in (outside_tokens(piece, spans) if "[" in piece else spans):
                if t in NER_TYPES and 0 <= s < e <= len(piece):
                    found.append(Match(r, a + s, a + e, t, _canon_name(piece[s:e])))
        return found

    def _apply(self, column: str, values: pa.Array, found: list[Match]) -> tuple[pa.Array, dict[int, list]]:
        """The values edited, and for each row edited where its placeholders now are."""
        edits: dict[int, list[tuple[int, int, str]]] = {}
        for m in found:  # drop_row too: the quarantine keeps the row for review, not the value
            token = self.token(m.type, m.canon) if self.policy(column, m.type) == "pseudonymize" else f"[{m.type}]"
            edits.setdefault(m.row, []).append((m.start, m.end, token))
        rows = sorted(edits)
        texts = values.take(pa.array(rows, pa.int64())).to_pylist()
        spots = {}
        for j, r in enumerate(rows):
            texts[j], spots[r] = _edited(texts[j], edits[r])
        mask = np.zeros(len(values), dtype=bool)
        mask[rows] = True
        return pc.replace_with_mask(values, pa.array(mask), pa.array(texts, values.type)), spots


def _edited(text: str, edits: list[tuple[int, int, str]]) -> tuple[str, list[tuple[int, int]]]:
    """`text` with each span replaced, and where the replacements are. A span that cuts a placeholder takes the whole
    placeholder, so that what is left of it cannot read as data; spans that then overlap become one, written as the
    first."""
    if "[" in text:
        tokens = [t.span() for t in TOKEN.finditer(text)]
        edits = [(min([s, *(a for a, b in tokens if a < s < b)]), max([e, *(b for a, b in tokens if a < e < b)]), r)
                 for s, e, r in edits]
    merged: list[tuple[int, int, str]] = []
    for s, e, r in sorted(edits):
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]), merged[-1][2])
        else:
            merged.append((s, e, r))
    parts, spots, at, shift = [], [], 0, 0
    for s, e, r in merged:
        parts += [text[at:s], r]
        spots.append((s + shift, s + shift + len(r)))
        shift += len(r) - (e - s)
        at = e
    return "".join(parts) + text[at:], spots


REACH = 100
"""Characters on each side of a placeholder that a later round's NER looks at, widened to the sentence or line: a
model's decision rests on a few tokens around each word, so farther text reads as it did in the round before."""
_BREAK = re.compile(r"\n|[.!?;:]\s")


def _around(text: str, spots: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Pieces of `text` around the spans `spots`, each from a sentence or line start (where name cues may start) to a
    sentence or line end; pieces that touch become one."""
    out: list[list[int]] = []
    for s, e in spots:
        x = max(0, s - REACH)
        line = text.rfind("\n", 0, x) + 1
        start = max([line, *(m.end() for m in _BREAK.finditer(text, line, x))])
        stop = _BREAK.search(text, min(e + REACH, len(text)))
        end = stop.start() + 1 if stop else len(text)
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def _canon_name(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()
