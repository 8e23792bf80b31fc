"""Exact duplicates: a row whose data hash was seen before in this source is removed; the first copy is kept."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from .provenance import ROW_SHA256
from .step import Step


class ExactDedup(Step):
    name = "exact_dedup"

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[bytes] = set()

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        keep = []
        for digest in batch.column(ROW_SHA256).to_pylist():
            key = bytes.fromhex(digest[:32])
            keep.append(key not in self.seen)
            self.seen.add(key)
        mask = pa.array(keep)
        if all(keep):
            return batch
        self.reject(batch.filter(pc.invert(mask)), "exact_duplicate")
        return batch.filter(mask)
