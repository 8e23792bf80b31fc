"""Failpoints: named places where the fault tests kill the process, to prove that every stage recovers.

`failpoint("publish.after_commit")` does nothing unless the environment variable COMMONS_FAILPOINT names that point;
then the process kills itself with SIGKILL, as a power cut or the OOM killer would: no cleanup, no `finally`, no
atexit. `name@N` fires at the point's N-th hit in the process (for points inside loops: "curate.part@2").
Several points can be given, separated by commas. The list of points is `POINTS`; tests check that each is reached.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "COMMONS_FAILPOINT"

POINTS = {
    "ingest.extract": "inside ingest, after the first batch of a file was handed to dlt",
    "ingest.loaded": "after dlt loaded the records, before the listing state is committed",
    "ingest.committed": "after the listing state is committed (the end of ingest)",
    "curate.part": "inside curation, after a part of the staged rows was written",
    "curate.dedup": "inside deduplication, after the exact duplicates were decided",
    "curate.staged": "after the curated folder is complete, before it replaces the current one",
    "curate.swapped": "after the curated folder was swapped in (the end of curation)",
    "validate.suite": "inside a check, after GX ran, before its verdict is written",
    "publish.staged": "after the shards, card and croissant were written, before the target is touched",
    "publish.uploaded": "Hub: after the files were uploaded, before the commit; object store: before version.json",
    "publish.committed": "Hub: after the commit, before its tag; local: after versions/vN exists, before `current` moves;"
                         " object store: after version.json, before current.json",
    "publish.linking": "local: in the middle of moving `current` (the new link exists under a temporary name)",
    "publish.done": "after the version is live (the end of publish)",
}

_hits: Counter[str] = Counter()


def failpoint(name: str) -> None:
    if name not in POINTS:
        raise ValueError(f"unknown failpoint {name!r}")
    armed = os.environ.get(ENV)
    if not armed:
        return
    _hits[name] += 1
    for entry in armed.split(","):
        point, _, nth = entry.strip().partition("@")
        if point == name and _hits[name] == (int(nth) if nth else 1):
            os.kill(os.getpid(), signal.SIGKILL)
