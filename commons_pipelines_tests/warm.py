"""Imported by the kill harness's forkserver: one clean nightly on a scratch workspace, so that each forked run starts
with what a run imports on its way (the code Dagster, dlt, GX and the steps load lazily: about 1 s of CPU a run) and
codecarbon's hardware setup (about 2 s, once per process) done. Each forked run still does all its own work from its
own workspace; nothing of the scratch run's is on disk where a forked run looks.

No Python thread may outlive the warm-up: a fork copies only the thread that forks, and a lock another thread held
stays locked in the child forever. The DuckDBs the run keeps per process (the warehouse's, the thread's scratch one)
keep their native threads; a forked child does not use them but opens its own (`os.register_at_fork` in
ingest/state.py and columns.py).
"""

import os
import shutil
import tempfile
import threading
from pathlib import Path

import tqdm

from commons_pipelines_tests.kill_harness import run_here, workspace

tqdm.tqdm.monitor_interval = 0  # a progress bar of the run would start tqdm's monitor thread

_scratch = Path(tempfile.mkdtemp(prefix="commons-kill-warm-"))
_saved = {name: os.environ.get(name) for name in ("COMMONS_HOME", "COMMONS_RETRIES", "COMMONS_WORKERS")}
try:
    if not run_here(workspace(_scratch / "warm"), {"COMMONS_RETRIES": "0", "COMMONS_WORKERS": "1"}):
        raise RuntimeError("the kill harness's warm-up nightly failed")
finally:
    for _name, _value in _saved.items():
        if _value is None:
            os.environ.pop(_name, None)
        else:
            os.environ[_name] = _value
    shutil.rmtree(_scratch, ignore_errors=True)
if threading.active_count() != 1:
    raise RuntimeError(f"threads left by the kill harness's warm-up: {threading.enumerate()}")
