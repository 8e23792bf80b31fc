"""Faults injected and survived: SIGKILL at every failpoint (local target and Hub), and Hub faults through the
emulator. Writes the tables to benchmarks/results/faults.md.

    python benchmarks/faults.py --out benchmarks/results/faults.md

The same checks run in `make test` (test_kill.py, test_hub_faults.py); this script keeps their tables.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["HF_HUB_DISABLE_XET"] = "1"  # the emulator speaks the LFS batch API, not Xet
os.environ.setdefault("COMMONS_ALLOW_LOCAL_URLS", "1")


def kill_tables() -> list[str]:
    from commons_pipelines_tests.hub_emulator import HubEmulator
    from commons_pipelines_tests.kill_harness import HUB_POINTS, LOCAL_POINTS, on_hub, scenario_runs, table

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        local = scenario_runs(Path(tmp) / "local", LOCAL_POINTS)
        out += ["## SIGKILL, local target", "", table(local), "",
                f"{time.perf_counter() - start:.0f} s for {2 * len(local) + 2} runs, 2 at a time.", ""]
        with HubEmulator(tokens={"hf_kill_harness_token": "commons-pipelines"}) as hub:
            state, prepare = on_hub(hub)
            env = {"COMMONS_TARGET": "hub", "HF_ENDPOINT": hub.url, "HF_TOKEN": "hf_kill_harness_token"}
            remote = scenario_runs(Path(tmp) / "hub", HUB_POINTS, env=env, state=state, prepare=prepare)
        out += ["## SIGKILL, Hub target (emulator)", "", table(remote), ""]
    return out


def hub_fault_table() -> list[str]:
    with tempfile.NamedTemporaryFile(suffix=".md") as f:
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "commons_pipelines_tests/test_hub_faults.py"], cwd=ROOT, check=True,
                       env={**os.environ, "FAULTS_TABLE": f.name}, stdout=subprocess.DEVNULL)
        text = Path(f.name).read_text(encoding="utf-8")
    rows = [line for line in text.splitlines()[2:] if line.startswith("|")]
    return ["## Hub faults (emulator, real huggingface_hub client)", "",
            "Each fault injected at each call a publish makes; a lasting fault repeats on every try, past the retry "
            "budget, and must fail with one clear line while the previous version stays the newest tag.", "",
            text, f"{len(rows)} cases.", ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    lines = ["# Faults injected and survived", "",
             "Produced by `benchmarks/faults.py` (`make bench`). A kill point's run is killed with SIGKILL there "
             "(commons_pipelines/faults.py), the next run must succeed, and what is published must equal a clean "
             "run's: the same versions, `current` on the newest, the same identity and row hashes, the same landed "
             "rows, and no temporary file left where users look. `first`: nothing published yet; `update`: v1 live "
             "and the source changed (a corrected notice, a new file).", ""]
    lines += kill_tables() + hub_fault_table()
    args.out.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
