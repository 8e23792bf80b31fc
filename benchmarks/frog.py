"""What Frog costs the Dutch name backend: start-up, words a second, memory, and texts a second with and without it.

    python benchmarks/frog.py [--texts 2000] [--out benchmarks/results/frog.md]

Texts: Dutch, generated from the templates training/names_multi.py kept out of training (as names_languages.py).
Frog (curate/pii/frog.py) must be installed (`apt-get install frog frogdata`). Its peak memory is the largest
resident set of the child processes (getrusage), so Frog's own and not this script's.
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "training")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--texts", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    from names_multi import Generator, deterministic

    from commons_pipelines.curate.pii import frog
    from commons_pipelines.curate.pii.ner import SpacyNer, _model

    path = frog.program()
    if not path:
        raise SystemExit("Frog is not installed (apt-get install frog frogdata), or COMMONS_FROG is off")
    deterministic()
    texts = [t for t, _, _ in Generator(args.seed, part="test").corpus(args.texts, ("nl",))]
    words = sum(len(t.split()) for t in texts)
    t0 = time.perf_counter()
    frog.entities(path, texts[:1])
    start = time.perf_counter() - t0
    t0 = time.perf_counter()
    frog.entities(path, texts)
    alone = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    model = _model("xx_names")
    rows = []
    for label, backend in (("xx_names", SpacyNer({"nl": model}, "nl", {"nl": "xx_names"}, ["nl"])),
                           ("xx_names + frog", SpacyNer({"nl": model}, "nl", {"nl": "xx_names"}, ["nl"], frog=path))):
        backend.find(texts[:20], langs=["nl"] * 20)  # the model loaded
        t0 = time.perf_counter()
        backend.find(texts, langs=["nl"] * len(texts))
        rows.append(f"| {label} | {len(texts) / (time.perf_counter() - t0):,.1f} |")
    report = "\n".join([
        "# Frog on Dutch text", "",
        f"Made by `python benchmarks/frog.py --texts {args.texts}`: frog {frog.version(path)}, {platform.machine()}, "
        f"one process (Frog's `--threads=1`), 2 shared cores. {len(texts):,} generated Dutch texts, {words:,} words.",
        "", "| measure | value |", "|---|---|",
        f"| start-up (one text) | {start:.1f} s |",
        f"| all texts, Frog alone | {alone:.1f} s; after its start-up {words / (alone - start):,.0f} words/s |",
        f"| Frog's peak resident memory | {peak:,.0f} MiB |", "",
        "| backend | texts/s |", "|---|---|", *rows]) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
