"""The fixed cost of a run: the nightly job on a small source (the school notices sample, 19 rows, NER off), in
process, after one warm-up run (imports and first-use set-up done), as each run of the SIGKILL harness and each small
source of a nightly pays it. Counts the DuckDB databases a run opens (each costs ~36 ms of CPU) and their CPU.

    python benchmarks/small_run.py [--runs 8] --out benchmarks/results/small_run.md

The table is appended to `--out` under the commit measured, so that a change can be measured before and after.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["HF_HUB_DISABLE_XET"] = "1"


def measure(runs: int) -> tuple[list[float], list[float], int, float]:
    """CPU and wall seconds of each run; DuckDB opens and their CPU seconds per run."""
    import duckdb
    import tqdm

    from commons_pipelines_tests.kill_harness import run_here, workspace

    tqdm.tqdm.monitor_interval = 0
    opened, opening = [0], [0.0]
    connect = duckdb.connect

    def counted(*args, **kwargs):
        start = time.process_time()
        try:
            return connect(*args, **kwargs)
        finally:
            opened[0] += 1
            opening[0] += time.process_time() - start

    duckdb.connect = counted
    env = {"COMMONS_RETRIES": "0", "COMMONS_WORKERS": "1"}
    cpu, wall = [], []
    with tempfile.TemporaryDirectory() as tmp:
        if not run_here(workspace(Path(tmp) / "warm"), env):
            raise SystemExit("the warm-up run failed")
        opened[0], opening[0] = 0, 0.0
        for i in range(runs):
            folder = workspace(Path(tmp) / f"run{i}")
            c, w = time.process_time(), time.perf_counter()
            if not run_here(folder, env):
                raise SystemExit(f"run {i} failed")
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - w)
    return cpu, wall, opened[0] // runs, opening[0] / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    cpu, wall, opened, opening = measure(args.runs)
    commit = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h"], capture_output=True,
                            text=True).stdout.strip()
    header = ["# The fixed cost of a small run", "", f"`python benchmarks/small_run.py --runs {args.runs}` on "
              f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}: the nightly job on "
              "the school notices sample (19 rows, NER off), in process, after a warm-up run. Seconds per run; the "
              "machine's load varies, so compare medians measured in the same minutes.", "",
              "| commit | runs | CPU s, median | CPU s, min-max | wall s, median | DuckDB opens per run | "
              "their CPU s |", "|---|---|---|---|---|---|---|"]
    text = args.out.read_text(encoding="utf-8") if args.out.exists() else "\n".join(header) + "\n"
    row = (f"| {commit} | {args.runs} | {statistics.median(cpu):.2f} | {min(cpu):.2f}-{max(cpu):.2f} | "
           f"{statistics.median(wall):.2f} | {opened} | {opening:.2f} |")
    args.out.write_text(text + row + "\n", encoding="utf-8")
    print(row)


if __name__ == "__main__":
    main()
