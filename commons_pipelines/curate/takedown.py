"""Erasure and opt-out: a source's takedown list, applied on every build.

The list is a JSON-lines file per source, `<COMMONS_TAKEDOWN_DIR>/<source>.jsonl` (default COMMONS_HOME/takedown,
which `make clean` keeps), one entry a line, added by `commons erase`:

    {"kind": "key", "value": {"notice_id": "SN-2025-004"}, "reason": "...", "added": "2026-11-27T10:00:00Z"}
    {"kind": "sha256", "value": "<_row_sha256 of a published row>", ...}
    {"kind": "url", "value": "<_source_url: every row from that file or address>", ...}
    {"kind": "match", "value": "<RE2 regular expression, searched in every data text column>", ...}

A key entry names the source's primary-key columns (every one of them). The `Takedown` step removes matching rows
and writes them nowhere (no quarantine): it counts them per reason for the card's changelog, never their content.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..columns import ROW_SHA256, SOURCE_URL, data_columns
from ..naming import column_name
from .step import Step

KINDS = ("key", "sha256", "url", "match")


@dataclass(frozen=True)
class Entry:
    kind: str
    value: object
    reason: str
    added: str = ""


def entries_file(folder: Path | str, source_id: str) -> Path:
    return Path(folder) / f"{source_id}.jsonl"


def load_entries(folder: Path | str, source_id: str) -> list[Entry]:
    path = entries_file(folder, source_id)
    if not path.exists():
        return []
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = Entry(**json.loads(line))
        except (ValueError, TypeError) as err:
            raise ValueError(f"{path}, line {number}: not a takedown entry ({err})") from None
        check(entry, [], where=f"{path}, line {number}")
        out.append(entry)
    return out


def check(entry: Entry, primary_key: list[str], where: str = "takedown") -> None:
    if entry.kind not in KINDS:
        raise ValueError(f"{where}: kind {entry.kind!r}; allowed: {', '.join(KINDS)}")
    if not entry.reason.strip():
        raise ValueError(f"{where}: a takedown needs a reason (it goes to the card's changelog)")
    if entry.kind == "key":
        if not isinstance(entry.value, dict) or not entry.value:
            raise ValueError(f"{where}: a key entry is a mapping of primary-key columns to values")
        names = sorted(column_name(c) for c in entry.value)
        if primary_key and names != sorted(column_name(c) for c in primary_key):
            raise ValueError(f"{where}: a key names every primary-key column ({', '.join(primary_key)}); "
                             f"got {', '.join(entry.value)}")
    elif entry.kind == "sha256" and not re.fullmatch(r"[0-9a-f]{64}", str(entry.value)):
        raise ValueError(f"{where}: a sha256 entry is the 64 hex digits of a row's _row_sha256")
    elif entry.kind == "match":
        try:
            pc.match_substring_regex(pa.array([""]), str(entry.value))
        except pa.ArrowInvalid as err:
            raise ValueError(f"{where}: not an RE2 regular expression: {err}") from None


def add_entry(folder: Path | str, source_id: str, entry: Entry, primary_key: list[str]) -> Entry:
    check(entry, primary_key)
    if not entry.added:
        entry = Entry(entry.kind, entry.value, entry.reason, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    path = entries_file(folder, source_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
    return entry


def matches(entry: Entry, batch: pa.RecordBatch) -> np.ndarray:
    n, names = batch.num_rows, batch.schema.names
    if entry.kind == "key":
        hit = np.ones(n, bool)
        for col, value in entry.value.items():
            name = column_name(col)
            if name not in names:
                return np.zeros(n, bool)
            values = pc.cast(batch.column(name), pa.string())
            hit &= pc.fill_null(pc.equal(values, str(value)), False).to_numpy(zero_copy_only=False)
        return hit
    if entry.kind in ("sha256", "url"):
        name = ROW_SHA256 if entry.kind == "sha256" else SOURCE_URL
        if name not in names:
            return np.zeros(n, bool)
        return pc.fill_null(pc.equal(batch.column(name), str(entry.value)), False).to_numpy(zero_copy_only=False)
    hit = np.zeros(n, bool)
    for name in data_columns(batch.schema):
        col = batch.column(name)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            hit |= pc.fill_null(pc.match_substring_regex(col, str(entry.value)), False).to_numpy(zero_copy_only=False)
    return hit


class Takedown(Step):
    """Rows matching any takedown entry leave the build and are written nowhere; `erased` counts them per reason."""

    name = "takedown"

    def __init__(self, entries: list[Entry]) -> None:
        super().__init__()
        self.entries = list(entries)

    @property
    def erased(self) -> Counter[str]:
        """Rows erased, by the reason their entry gives."""
        return self.found

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        gone = np.zeros(batch.num_rows, bool)
        for entry in self.entries:
            hit = matches(entry, batch) & ~gone
            if hit.any():
                self.found[entry.reason] += int(hit.sum())
                gone |= hit
        if not gone.any():
            return batch
        self.count.removed["takedown"] += int(gone.sum())
        return batch.filter(pa.array(~gone))
