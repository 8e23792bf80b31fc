"""Throughput of each curation step, and of the whole curation, on a text corpus built from ../shared/data.

The corpus mixes every text the shared data holds: UDHR paragraphs (151 languages), the Spanish clinical reports of
MEDDOCAN and the English Presidio sentences (both full of personal data), Open Textbook Library descriptions and the
Gutenberg books cut into paragraphs. It is repeated with a copy number prefixed to each document's id until it
reaches `--mb` megabytes of text, so exact dedup sees only the duplicates the data really has. The same corpus is
written to and read from Parquet by pyarrow alone, the floor any step is compared against.

Each step runs on the output of the steps before it (held in memory), so its time is its own; then the whole
curation runs as the pipeline runs it, in one process and with one worker process per CPU (curate/parallel.py):
    python benchmarks/steps.py --mb 100 --out benchmarks/results/steps.md
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
BATCH_ROWS = 10_000


def documents() -> list[dict]:
    docs = []
    for line in (DATA / "language" / "udhr_151_languages.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        docs.append({"id": row["id"], "text": row["text"]})
    for line in (DATA / "pii" / "meddocan_es_train.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        docs.append({"id": row["id"], "text": row["text"]})
    for i, row in enumerate(json.loads((DATA / "pii" / "presidio_synth_en.json").read_text(encoding="utf-8"))):
        docs.append({"id": f"presidio-{i}", "text": row["full_text"]})
    with (DATA / "opendata" / "open_textbook_library" / "OTL.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            docs.append({"id": f"otl-{row['OTL ID']}", "text": row["Description"]})
    for path in sorted((DATA / "dedup" / "gutenberg" / "documents").rglob("*.txt")):
        for j, para in enumerate(path.read_text(encoding="utf-8", errors="replace").split("\n\n")):
            if para.strip():
                docs.append({"id": f"{path.stem}-{j}", "text": para})
    return docs


def corpus(mb: float) -> pa.Table:
    docs = documents()
    size = sum(len(d["text"].encode()) for d in docs)
    copies = max(1, round(mb * 1e6 / size))
    ids = [f"{k}-{d['id']}" for k in range(copies) for d in docs]
    texts = [d["text"] for _ in range(copies) for d in docs]
    return pa.table({"doc_id": ids, "text": texts})


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=100)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from commons_pipelines.curate.runner import default_dedup, default_steps, load_ner
    from commons_pipelines.spec import parse_spec

    table = corpus(args.mb)
    text_mb = pa.compute.sum(pa.compute.binary_length(table["text"])).as_py() / 1e6
    spec = parse_spec({"id": "bench", "title": "Benchmark corpus", "description": "Text from ../shared/data.",
                       "licence": "CC-BY-4.0", "languages": ["en", "es", "fr"], "domain": "general", "kind": "files",
                       "files": {"path": ".", "format": "jsonl"}, "text_columns": ["text"],
                       "publish": {"repo_id": "bench/steps"},
                       "attribution": {"creator": "benchmark", "citation": "Text from ../shared/data."},
                       "pii": {"policy": "pseudonymize", "ner": "off"},  # NER speed: results/pii_ner.md
                       "dedup": {"columns": ["text"]},
                       "quality": {"min_words": 3, "max_words": 100_000, "max_symbol_ratio": 0.1,
                                   "min_alpha_words": 0.5, "max_duplicate_lines": 0.3, "max_top_ngram": 0.2,
                                   "max_duplicate_ngrams": 0.15, "boilerplate": True}}, Path("bench.yaml"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        pq.write_table(table, f"{tmp}/corpus.parquet", compression="zstd")
        read = pq.read_table(f"{tmp}/corpus.parquet")
        floor = time.perf_counter() - t
        assert read.num_rows == table.num_rows
    rows.append(("pyarrow write + read (floor)", table.num_rows, table.num_rows, floor))

    ner = load_ner(spec.languages, spec.pii.ner)
    steps = default_steps(spec, pii_key=b"benchmark key", ner=ner)
    batches = table.to_batches(max_chunksize=BATCH_ROWS)
    total = 0.0
    for step in steps:
        t = time.perf_counter()
        batches = list(step.run(batches))
        elapsed = time.perf_counter() - t
        total += elapsed
        rows.append((step.name, step.count.rows_in, step.count.rows_out, elapsed))
    with tempfile.TemporaryDirectory() as tmp:
        stage = default_dedup(spec, None, Path(tmp))
        t = time.perf_counter()
        reasons = stage.decide(lambda: iter(batches))
        elapsed = time.perf_counter() - t
        total += elapsed
    kept = int((reasons == 0).sum())
    rows.append(("dedup (exact, then near, over the whole corpus)", len(reasons), kept, elapsed))
    rows.append(("all steps", table.num_rows, kept, total))
    from commons_pipelines.curate.runner import curate

    for workers in sorted({1, os.cpu_count() or 1}):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            done = curate(spec, table.to_batches(max_chunksize=BATCH_ROWS), Path(tmp) / "curated",
                          pii_key=b"benchmark key", workers=workers)
            rows.append((f"curate(), {workers} process(es) for the row steps, then dedup, with its Parquet writes",
                         table.num_rows, done.rows, time.perf_counter() - t))

    lines = [f"# Curation steps: throughput on {text_mb:.0f} MB of text ({table.num_rows:,} documents)", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; one process, "
             f"batches of {BATCH_ROWS:,} rows; NER: {ner.description}; peak RSS {rss_mb():.0f} MB.", "",
             f"Command: `python benchmarks/steps.py --mb {args.mb:g}`", "",
             "| step | rows in | rows out | seconds | MB/s of input text |", "|---|---:|---:|---:|---:|"]
    for name, rows_in, rows_out, seconds in rows:
        lines.append(f"| {name} | {rows_in:,} | {rows_out:,} | {seconds:.1f} | {text_mb / seconds:.1f} |")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
