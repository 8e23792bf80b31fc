"""The uniform step interface: a stream of Arrow record batches in, a stream out, removals counted by reason.

A step subclasses `Step` and implements `process(batch)`, returning the batch to keep; rows it removes go
through `self.reject(rows, reason)`, which counts them and hands them to the runner's quarantine. What else a step
counts (personal data found, rows erased by reason) goes in `self.found`, which travels back from worker processes
with the row counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from ..stats import StageCount

Reject = Callable[[str, pa.RecordBatch, str], None]


class Step:
    name: str = "step"
    stateful: bool = False  # True when a batch's result depends on earlier batches (dedup): it runs in one process
    reported: bool = True  # its count is one of the curation's stages

    def __init__(self) -> None:
        self.count = StageCount(self.name)
        self.found: Counter = Counter()
        self._sink: Reject | None = None

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        raise NotImplementedError

    def reject(self, rows: pa.RecordBatch, reason: str) -> None:
        if rows.num_rows:
            self.count.removed[reason] += rows.num_rows
            if self._sink:
                self._sink(self.name, rows, reason)

    def snapshot(self) -> tuple[StageCount, Counter]:
        """What this step counted since the last snapshot, then zero: how a worker process hands its counts back."""
        count, self.count = self.count, StageCount(self.name)
        found, self.found = self.found, Counter()
        return count, found

    def absorb(self, count: StageCount, found: Counter) -> None:
        """Add counts made by a copy of this step in a worker process."""
        self.count.rows_in += count.rows_in
        self.count.rows_out += count.rows_out
        self.count.removed.update(count.removed)
        self.found.update(found)

    def run(self, batches: Iterable[pa.RecordBatch], sink: Reject | None = None) -> Iterator[pa.RecordBatch]:
        self._sink = sink
        for batch in batches:
            self.count.rows_in += batch.num_rows
            out = self.process(batch)
            self.count.rows_out += out.num_rows
            if out.num_rows:
                yield out


def joined_text(batch: pa.RecordBatch, columns: list[str], step: str) -> pa.Array:
    """The text a step reads: `columns` joined by "\\n", a null read as "". A missing column is an error naming it."""
    missing = [c for c in columns if c not in batch.schema.names]
    if missing:
        raise ValueError(f"{step}: no column {', '.join(map(repr, missing))} in the batch; "
                         f"columns present: {', '.join(batch.schema.names)}")
    # filled, not null_handling="skip": pyarrow 26 drops the rows where every column is null
    cols = [pc.fill_null(batch.column(c).cast(pa.large_string()), "") for c in columns]
    return cols[0] if len(cols) == 1 else pc.binary_join_element_wise(*cols, pa.scalar("\n", pa.large_string()))


def run_steps(steps: list[Step], batches: Iterable[pa.RecordBatch], sink: Reject | None = None) -> Iterator[pa.RecordBatch]:
    for step in steps:
        batches = step.run(batches, sink)
    yield from batches


def redacting(steps: list[Step], sink: Reject) -> Reject:
    """A sink that treats personal data (the PII step's `redact`) in rows removed by steps that run before it, so
    that no quarantine file holds what the curated rows do not."""
    pii = next((s for s in steps if hasattr(s, "redact")), None)
    if pii is None:
        return sink
    before = {s.name for s in steps[:steps.index(pii)]}

    def write(step: str, rows: pa.RecordBatch, reason: str) -> None:
        sink(step, pii.redact(rows) if step in before else rows, reason)

    return write
