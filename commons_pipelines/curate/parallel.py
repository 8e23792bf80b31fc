"""Run the stateless steps of a curation in worker processes, batch by batch, and keep the input order.

The steps before the first stateful one (dedup keeps an index of what it has seen) work on each batch alone, so
batches can go to a pool of processes. Results come back in input order, so the output is the same as in one
process. Each worker builds its own steps once (models load once per worker); the counts, personal data found and
quarantined rows of each batch travel back with it and are added to the main process's steps, which report them.
Small inputs never pay for starting the pool: an input of at most `after` batches goes through in process; a larger
one goes to the pool from its first batch, so the main process never loads the models (lingua's alone take 230 MB
per process). At most `workers + 1` batches are in flight (one more than the workers, so none waits), so memory
stays bounded by batches, not by the dataset. With the engine `ray` the same happens in actors of a Ray cluster
instead of local processes (engines.py).
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

import pyarrow as pa

from ..spec import SourceSpec
from .step import Reject, Step, redacting, run_steps

_worker_steps: list[Step] = []


def _start(build: Callable[[], list[Step]]) -> None:
    global _worker_steps
    _worker_steps = build()


def _work(batch: pa.RecordBatch) -> tuple[list[pa.RecordBatch], list[tuple], list[tuple]]:
    return work(_worker_steps, batch)


def work(steps: list[Step], batch: pa.RecordBatch) -> tuple[list[pa.RecordBatch], list[tuple], list[tuple]]:
    """One batch through `steps`: its output, the rows rejected (step, rows, reason) and each step's counts."""
    rejected: list[tuple] = []
    sink = redacting(steps, lambda step, rows, reason: rejected.append((step, rows, reason)))
    out = list(run_steps(steps, [batch], sink))
    return out, rejected, [step.snapshot() for step in steps]


def in_order(calls: Iterable, get: Callable, window: int) -> Iterator:
    """`get` of each call (started as it is drawn from `calls`) in their order, with at most `window` pending."""
    pending: deque = deque()
    for call in calls:
        pending.append(call)
        if len(pending) >= window:
            yield get(pending.popleft())
    while pending:
        yield get(pending.popleft())


def stateless_prefix(steps: list[Step]) -> int:
    return next((i for i, step in enumerate(steps) if step.stateful), len(steps))


def run_parallel(steps: list[Step], build: Callable[[], list[Step]], batches: Iterable[pa.RecordBatch],
                 sink: Reject, workers: int, after: int = 2, engine: str = "local",
                 address: str | None = None) -> Iterator[pa.RecordBatch]:
    """Like run_steps(steps, batches, redacting(steps, sink)), with the stateless prefix in `workers` processes, or
    with engine "ray" in actors of the Ray cluster at `address` (RAY_ADDRESS). `build` makes that prefix again in
    each worker: it must be picklable (a module-level function or a functools.partial of one). Rows removed before
    the PII step are treated in the process that removed them."""
    n = stateless_prefix(steps)
    prefix, tail = steps[:n], steps[n:]

    def head() -> Iterator[pa.RecordBatch]:
        source = iter(batches)
        first = list(itertools.islice(source, after + 1))
        if len(first) <= after:
            yield from run_steps(prefix, first, redacting(prefix, sink))
            return
        rest = itertools.chain(first, source)
        if engine == "ray":
            from .engines import ray_results

            results = ray_results(build, rest, address)
        else:
            results = _local(build, rest, workers)
        for result in results:
            yield from _collect(result, prefix, sink)

    yield from run_steps(tail, head(), sink)


def _local(build: Callable[[], list[Step]], batches: Iterator[pa.RecordBatch], workers: int) -> Iterator[tuple]:
    context = mp.get_context("spawn")  # no fork: the parent holds DuckDB, GX and Dagster threads
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start, initargs=(build,)) as pool:
        yield from in_order((pool.submit(_work, b) for b in batches), Future.result, workers + 1)


def _collect(result: tuple, prefix: list[Step], sink: Reject) -> Iterator[pa.RecordBatch]:
    out, rejected, counts = result
    for step, (count, found) in zip(prefix, counts):
        step.absorb(count, found)
    for step, rows, reason in rejected:
        sink(step, rows, reason)
    yield from out


def prefix_builder(spec: SourceSpec, pii_key: bytes | None, takedown: list = ()) -> Callable[[], list[Step]]:
    from functools import partial

    return partial(_build_prefix, spec, pii_key, list(takedown))


def _build_prefix(spec: SourceSpec, pii_key: bytes | None, takedown: list) -> list[Step]:
    from .runner import default_steps, ner_status

    steps = default_steps(spec, pii_key, ner_status(spec), takedown)
    return steps[:stateless_prefix(steps)]
