"""Throughput of the pattern detectors (no names) on the shipped catalogue sources' real files, column by column.

Catalogues are not prose: their columns repeat dates, years and codes row after row ("2004-08-01", "1861-1865"), and
a source of many languages looks for phone numbers of many regions (Gutenberg's 9 languages: 9 regions). Each string
column of each file is scanned as the PII step scans it, with the regions of the source's declared languages:
    python benchmarks/pii_catalogues.py --out benchmarks/results/pii_catalogues.md
`--code <folder>` measures the commons_pipelines package of another checkout (e.g. a `git worktree` of an older
commit), to compare.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import platform
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
BDPM_COLUMNS = ["cis", "denomination", "form", "routes", "authorisation_status", "procedure", "marketing_status",
                "amm_date", "bdm_status", "eu_number", "holders", "reinforced_monitoring"]
SOURCES = {  # id -> (file, delimiter, header names or None to read the first line)
    "gutenberg_catalog": (DATA / "api_captures" / "gutenberg_catalog" / "pg_catalog_prefix_truncated.csv", ",", None),
    "fr_medicines": (DATA / "opendata" / "fr_medicines_bdpm" / "CIS_bdpm.txt", "\t", BDPM_COLUMNS),
    "open_textbooks": (DATA / "opendata" / "open_textbook_library" / "OTL.csv", ",", None),
}


def columns(path: Path, delimiter: str, names: list[str] | None) -> dict[str, pa.Array]:
    with path.open(encoding="utf-8", newline="") as f:
        quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL  # the BDPM quotes nothing
        rows = list(csv.reader(f, delimiter=delimiter, quoting=quoting))
    if names is None:
        names, rows = rows[0], rows[1:]
    return {n: pa.array([r[i] if i < len(r) else None for r in rows], pa.large_string()) for i, n in enumerate(names)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--code", type=Path, help="a checkout whose commons_pipelines to measure")
    parser.add_argument("--repeat", type=int, default=3, help="runs per source; the fastest is kept")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.code:
        sys.path.insert(0, str(args.code.resolve()))
    detect = importlib.import_module("commons_pipelines.curate.pii.detect")
    spec_module = importlib.import_module("commons_pipelines.spec")
    code = Path(detect.__file__).resolve().parents[3]
    commit = subprocess.run(["git", "-C", str(code), "log", "-1", "--format=%h %s"], capture_output=True,
                            text=True).stdout.strip()[:90] or str(code)

    lines = [f"# Pattern detectors on the catalogue sources' files: {commit}", "",
             f"Machine: {platform.machine()}, Python {platform.python_version()}; one process; every string column "
             f"scanned with the regions of the source's languages; best of {args.repeat}.", "",
             f"Command: `python benchmarks/pii_catalogues.py{' --code <a checkout of it>' if args.code else ''}`", "",
             "| source | regions | rows | columns | findings | seconds | rows x columns / s |",
             "|---|---|---:|---:|---:|---:|---:|"]
    total = 0.0
    for source_id, (path, delimiter, names) in SOURCES.items():
        spec = spec_module.load_spec(spec_module.CATALOG_DIR / f"{source_id}.yaml")
        regions = detect.default_regions(spec.languages)
        table = columns(path, delimiter, names)
        best, found = float("inf"), 0
        for _ in range(args.repeat):
            if hasattr(detect, "_window_hits"):
                detect._window_hits.cache_clear()  # each run starts cold, as a new process does
            start = time.process_time()
            found = sum(len(detect.scan(values, regions=regions)) for values in table.values())
            best = min(best, time.process_time() - start)
        total += best
        rows = len(next(iter(table.values())))
        lines.append(f"| {source_id} | {', '.join(regions)} | {rows:,} | {len(table)} | {found} | {best:.2f} | "
                     f"{rows * len(table) / best:,.0f} |")
    lines.append(f"\nAll three: {total:.2f} CPU-seconds.")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with args.out.open("a", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
