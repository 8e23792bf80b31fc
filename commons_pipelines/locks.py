"""One stage of one source at a time, across processes: the UI, the schedule and `commons run` may start the same
source at once. Every stage that writes a source's state (ingest, curate, check verdicts, publish) holds the source's
lock file under COMMONS_HOME/locks while it runs; Dagster's pool `warehouse_<source>` orders them within one instance,
the lock also covers runs from several instances or from the command line. A Hub target shared by several machines
is protected by the commit's parent (a conflict is retried), not by this lock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

TIMEOUT_ENV = "COMMONS_LOCK_TIMEOUT"


class Busy(RuntimeError):
    pass


@contextmanager
def source_lock(home: Path | str, source_id: str, stage: str) -> Iterator[None]:
    folder = Path(home) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    timeout = float(os.environ.get(TIMEOUT_ENV, "3600"))
    lock = FileLock(folder / f"{source_id}.lock", timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise Busy(f"{source_id}: {stage} waited {timeout:.0f} s for another run of this source to finish "
                   f"(lock {folder / (source_id + '.lock')}); set {TIMEOUT_ENV} to wait longer") from None
    try:
        yield
    finally:
        lock.release()
