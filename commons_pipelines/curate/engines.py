"""The Ray engine (COMMONS_ENGINE=ray): the stateless steps of a curation run in actors of a Ray cluster.

It does what the local process pool does (parallel.py), on a cluster: each actor builds the steps once (models load
once per actor), batches go out in input order, and each batch's output, rejected rows and step counts come back in
that order to the driver, which runs dedup and writes the parts. The output is the local engine's, byte for byte.

Actors, not Ray Data's `map_batches`: the input is a stream read from the source's DuckDB file by the driver, under
the source's lock, so a Ray Dataset would have to hold it all or reopen the file on workers; `map_batches` returns
one table of one schema, with no room for the rows each step rejected and its counts (the card and quarantine need
them); and Ray Data re-blocks batches. Here batch i goes to actor i mod n (n: the cluster's CPUs, one actor each)
and at most 2n batches are in flight, so memory is bounded by batches. An actor that dies is restarted and its
batches are retried: the steps are stateless and each result carries only its own batch's counts.

The actors get the PII key and the takedown entries with the steps: the cluster must be as trusted as the pod
that runs the curation. Ray is imported only when this engine runs.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import urlsplit

import pyarrow as pa

from .step import Step


class _Prefix:
    def __init__(self, build: Callable[[], list[Step]]) -> None:
        self.steps = build()

    def work(self, batch: pa.RecordBatch) -> tuple:
        from .parallel import work

        return work(self.steps, batch)


def ray_results(build: Callable[[], list[Step]], batches: Iterable[pa.RecordBatch],
                address: str | None) -> Iterator[tuple]:
    """What `parallel.work` returns for each batch, in input order, computed by actors of the Ray cluster."""
    import ray

    from .parallel import in_order

    owned = connect(address)
    actors = []
    try:
        n = max(1, int(ray.cluster_resources().get("CPU", 1)))
        cls = ray.remote(num_cpus=1, max_restarts=2, max_task_retries=2)(_Prefix)
        actors = [cls.remote(build) for _ in range(n)]
        yield from in_order((actors[i % n].work.remote(b) for i, b in enumerate(batches)), ray.get, 2 * n)
    finally:
        for actor in actors:
            ray.kill(actor)
        if owned:
            ray.shutdown()


def connect(address: str | None) -> bool:
    """Connect to the cluster at `address` (RAY_ADDRESS; "auto": the one started on this machine). False when this
    process was already connected (then it stays so)."""
    import ray

    if ray.is_initialized():
        return False
    address = address or "auto"
    problem = _unreachable(address)
    if problem is None:
        try:
            ray.init(address=address, logging_level="WARNING")
            return True
        except ConnectionError as err:
            problem = str(err)
    raise ConnectionError(f"COMMONS_ENGINE=ray: no Ray cluster reachable at RAY_ADDRESS={address!r} ({problem}); "
                          "start one (`ray start --head`) or set RAY_ADDRESS to its head (host:6379 or "
                          "ray://host:10001)")


def _unreachable(address: str, timeout: float = 5.0) -> str | None:
    """Why host:port cannot be reached, checked first: ray.init retries an unreachable address for minutes."""
    if address == "auto":
        return None
    parts = urlsplit(address if "://" in address else f"//{address}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        return "not host:port or ray://host:port"
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as err:
        return f"{parts.hostname}:{port}: {err.strerror or err}"
    return None
