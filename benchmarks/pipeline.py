"""Speed and peak memory of each stage (ingest, curate, validate, publish) on real data from ../shared/data.

Inputs: the French medicines database (CIS_bdpm.txt, tab-separated) written `--copies` times into a temporary
folder, each copy with its codes prefixed so that no row is an exact duplicate of another, and the Open
Textbook Library CSV as it is. Nothing is written into the project but the results table.

Each stage runs in a fresh child process, so its peak RSS is its own:
    python benchmarks/pipeline.py --copies 20 --out benchmarks/results/pipeline.md
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "opendata"
os.environ.setdefault("COMMONS_DATA_ROOTS", str(DATA))  # read in place
BDPM = DATA / "fr_medicines_bdpm" / "CIS_bdpm.txt"
OTL = DATA / "open_textbook_library" / "OTL.csv"
BDPM_COLUMNS = ["cis", "denomination", "form", "routes", "authorisation_status", "procedure", "marketing_status",
                "amm_date", "bdm_status", "eu_number", "holders", "reinforced_monitoring"]


def specs(work: Path, copies: int) -> dict:
    from commons_pipelines.spec import parse_spec

    folder = work / "bdpm"
    folder.mkdir(parents=True, exist_ok=True)
    lines = BDPM.read_bytes().splitlines(keepends=True)
    for k in range(copies):
        (folder / f"CIS_bdpm_{k:03d}.txt").write_bytes(b"".join(b"%03d" % k + line for line in lines))
    base = {"licence": "etalab-2.0", "description": "Benchmark input.", "kind": "files",
            "publish": {"repo_id": "bench/dataset"},
            "attribution": {"creator": "benchmark", "citation": "Benchmark input copied from ../shared/data."}}
    return {
        "bdpm": parse_spec({**base, "id": "bdpm", "title": "French medicines", "languages": ["fr"], "domain": "health",
                            "files": {"path": str(folder), "glob": "*.txt", "format": "tsv",
                                      "csv": {"header": False, "columns": BDPM_COLUMNS, "quote_char": None}},
                            "primary_key": ["cis"],
                            "pii": {"columns": {"cis": "keep"}}},  # public codes; prefixed, some read as phones
                           work / "bdpm.yaml"),
        "otl": parse_spec({**base, "id": "otl", "title": "Open Textbook Library", "languages": ["en"],
                           "domain": "education", "licence": "CC0-1.0", "files": {"path": str(OTL), "format": "csv"}},
                          work / "otl.yaml"),
    }


def stage(name: str, work: str, copies: int, source: str, queue) -> None:
    from commons_pipelines.curate.runner import curate, load_curated
    from commons_pipelines.ingest.runner import Ingest
    from commons_pipelines.ingest.warehouse import ingest_count, pipeline, read_records
    from commons_pipelines.publish import LocalTarget, publish
    from commons_pipelines.settings import Settings
    from commons_pipelines.validate.runner import run_suite
    from commons_pipelines.validate.suites import GENERIC, generic_suite

    work_dir = Path(work)
    spec = specs(work_dir, copies)[source]
    settings = Settings.from_env({"COMMONS_HOME": str(work_dir / "home")})
    db = settings.warehouse_dir / f"{spec.id}.duckdb"
    curated_dir = settings.curated_dir / spec.id
    start = time.perf_counter()
    if name in ("ingest", "ingest again"):  # again: nothing changed, every file is only listed
        Ingest(spec, db, settings.dlt_dir / "downloads" / spec.id, lambda url: None).run(
            pipeline(spec, settings.warehouse_dir, settings.dlt_dir))
        rows = ingest_count(db).rows_out
    elif name == "curate":
        rows = curate(spec, read_records(db), curated_dir, ingest=ingest_count(db), workers=os.cpu_count() or 1).rows
    elif name == "validate":
        data = load_curated(curated_dir)
        suite = generic_suite(spec, data.schema)  # with the residual-PII check on every string column
        start = time.perf_counter()  # GX's import and context are start-up, not per-row work
        rows = run_suite(data, GENERIC, suite).rows
    else:
        data = load_curated(curated_dir)
        rows = publish(spec, data.files, data.stages, LocalTarget(settings.publish_dir)).rows
    seconds = time.perf_counter() - start
    queue.put((seconds, rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20, help="copies of CIS_bdpm.txt (3.2 MB, 15,756 rows each)")
    parser.add_argument("--out", type=Path, help="write the results table here (Markdown)")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    lines = ["| source | input | stage | rows | seconds | rows/s | MB/s (input) | peak RSS MB |", "|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="commons-bench-") as work:
        sizes = {"bdpm": BDPM.stat().st_size * args.copies, "otl": OTL.stat().st_size}
        inputs = {"bdpm": f"CIS_bdpm.txt × {args.copies}", "otl": "OTL.csv"}
        for source in ("bdpm", "otl"):
            for name in ("ingest", "curate", "validate", "publish", "ingest again"):
                queue = ctx.Queue()
                child = ctx.Process(target=stage, args=(name, work, args.copies, source, queue))
                child.start()
                seconds, rows, rss = queue.get()
                child.join()
                mb = sizes[source] / 1e6
                line = (f"| {source} | {inputs[source]} ({mb:.1f} MB) | {name} | {rows:,} | {seconds:.2f} | "
                        f"{rows / seconds:,.0f} | {mb / seconds:.1f} | {rss / 1e6:.0f} |")
                print(line, flush=True)
                lines.append(line)
    header = (f"# Pipeline stages on real data\n\n`python benchmarks/pipeline.py --copies {args.copies}` on "
              f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; each stage in its "
              "own process (peak RSS includes the interpreter and imported libraries, ~150-250 MB). `ingest again` "
              "is the next refresh when no file changed: every file is listed and found unchanged by its size, "
              "times and inode, nothing is read or loaded.\n\n")
    if args.out:
        args.out.write_text(header + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
