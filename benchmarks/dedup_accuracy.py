"""Near-duplicate accuracy and speed on the Gutenberg books of ../shared/data/dedup/gutenberg (natural near duplicates).

For each (shingle, num_perm) setting: NearDedup runs over the 31 books in source order (batches of 8); a pair is found
when the two books share an LSH band and their estimated Jaccard is at least the threshold. Found pairs are compared
with gold_pairs.csv (7 positives, 3 same-author hard negatives); rejected books with the manifest's groups. Also times
datasketch's MinHash (update_batch over the same shingles) against our numpy signatures.

    python benchmarks/dedup_accuracy.py ../shared/data/dedup/gutenberg [--out benchmarks/results/dedup.md]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import platform
import resource
import time
from pathlib import Path

import pyarrow as pa

from commons_pipelines.curate.dedup import NearDedup, normal_text
from commons_pipelines.curate.step import run_steps
from commons_pipelines.spec import NearDedupConfig

SETTINGS = [(3, 128), (5, 64), (5, 128), (5, 256), (7, 128), (9, 128)]


def load(folder: Path) -> tuple[list[str], list[str], set, set]:
    files = [r["file"] for r in csv.DictReader((folder / "manifest.csv").open())]
    texts = [(folder / "documents" / f).read_text(encoding="utf-8") for f in files]
    gold = list(csv.DictReader((folder / "gold_pairs.csv").open()))
    pos = {frozenset((g["file_a"], g["file_b"])) for g in gold if not g["label_or_group"].startswith("NEGATIVE")}
    neg = {frozenset((g["file_a"], g["file_b"])) for g in gold if g["label_or_group"].startswith("NEGATIVE")}
    return files, texts, pos, neg


def run(files, texts, shingle, num_perm, threshold=0.8) -> dict:
    step = NearDedup(["text"], NearDedupConfig(shingle=shingle, num_perm=num_perm, threshold=threshold))
    batches = [pa.record_batch({"text": texts[i:i + 8], "file": files[i:i + 8]}) for i in range(0, len(files), 8)]
    rejected = []
    start = time.perf_counter()
    list(run_steps([step], batches, lambda name, rows, reason: rejected.extend(rows.column("file").to_pylist())))
    seconds = time.perf_counter() - start
    sig, _ = step.signatures(normal_text(pa.record_batch({"text": texts}), ["text"]))
    keys = step.band_keys(sig)
    found = set()
    for i, j in itertools.combinations(range(len(files)), 2):
        if (keys[i] == keys[j]).any() and (sig[i] == sig[j]).mean() >= threshold:
            found.add(frozenset((files[i], files[j])))
    return {"found": found, "rejected": rejected, "seconds": seconds, "bands": (step.bands, step.rows),
            "est": {frozenset((files[i], files[j])): (sig[i] == sig[j]).mean()
                    for i, j in itertools.combinations(range(len(files)), 2)}}


def datasketch_seconds(texts: list[str], shingle: int, num_perm: int) -> float:
    from datasketch import MinHash

    norm = normal_text(pa.record_batch({"text": texts}), ["text"]).to_pylist()
    start = time.perf_counter()
    for t in norm:
        words = t.split()
        grams = [" ".join(words[k:k + shingle]).encode() for k in range(max(len(words) - shingle + 1, 1))]
        m = MinHash(num_perm=num_perm, seed=1)
        m.update_batch(grams)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    files, texts, pos, neg = load(args.folder)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    lines = [f"# Near-duplicate detection on {len(files)} Gutenberg books ({mb:.1f} MB)", "",
             f"`python benchmarks/dedup_accuracy.py ../shared/data/dedup/gutenberg`; {platform.machine()}, "
             f"{platform.python_version()}, threshold 0.8; found = shares an LSH band and estimated Jaccard ≥ 0.8.", "",
             "| shingle | num_perm | bands×rows | gold found | precision | recall | hard negatives found | rejected | seconds | MB/s | min est. gold | max est. negative |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for shingle, num_perm in SETTINGS:
        r = run(files, texts, shingle, num_perm)
        tp = len(r["found"] & pos)
        precision = tp / len(r["found"]) if r["found"] else 1.0
        lines.append(f"| {shingle} | {num_perm} | {r['bands'][0]}×{r['bands'][1]} | {tp}/{len(pos)} | {precision:.2f} | "
                     f"{tp / len(pos):.2f} | {len(r['found'] & neg)}/{len(neg)} | {len(r['rejected'])} | "
                     f"{r['seconds']:.2f} | {mb / r['seconds']:.1f} | {min(r['est'][p] for p in pos):.3f} | "
                     f"{max(r['est'][p] for p in neg):.3f} |")
        print(lines[-1], flush=True)
    lines += ["", "MinHash signatures only (same normalised text and shingles), our numpy NearDedup vs datasketch 2.0.0:", "",
              "| shingle | num_perm | datasketch seconds | datasketch MB/s |", "|---|---|---|---|"]
    for shingle, num_perm in [(5, 128)]:
        s = datasketch_seconds(texts, shingle, num_perm)
        lines.append(f"| {shingle} | {num_perm} | {s:.2f} | {mb / s:.1f} |")
        print(lines[-1], flush=True)
    lines += ["", f"Peak RSS of the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB."]
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
