"""Person names the NER backend finds in real English text that has no gold labels: the Open Textbook Library.

    python benchmarks/names_real_text.py ../shared/data/opendata/open_textbook_library/OTL.csv [--out PATH]

Titles are Title Case phrases that seldom name a person, so every PERSON span in a title is listed for a reader to
judge (most are false alarms: over-redaction); descriptions name their authors, so the distinct spans found there
show what the backend catches in real prose. Both are printed in full: they are public book titles and authors.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from commons_pipelines.curate.pii.ner import load_ner  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pii_accuracy import write_section  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file", type=Path, help="OTL.csv (columns Title and Description)")
    ap.add_argument("--out", type=Path, help="write the markdown section into this file (replacing its earlier run)")
    args = ap.parse_args(argv)

    with args.file.open(encoding="utf-8", newline="") as f:
        books = list(csv.DictReader(f))
    status = load_ner(["en"], "required")
    out = {}
    for column in ("Title", "Description"):
        texts = [b[column] for b in books]
        t0 = time.perf_counter()
        found = status.backend.find(texts)
        seconds = time.perf_counter() - t0
        spans = [t[s:e] for t, row in zip(texts, found) for s, e, kind in row if kind == "PERSON"]
        out[column] = (len(texts), sum(any(k == "PERSON" for *_, k in row) for row in found), Counter(spans), seconds)

    n, with_person, titles, _ = out["Title"]
    n_d, with_person_d, names, seconds = out["Description"]
    lines = [f"## {args.file.name}: names in real text, no gold", "",
             f"NER: {status.description}.", "",
             f"- Titles: {with_person} of {n} have a PERSON span ({with_person / n:.1%}): "
             + ", ".join(f"{s} ({c})" if c > 1 else s for s, c in sorted(titles.items())) + ".",
             f"- Descriptions: {with_person_d} of {n_d} have one; {len(names)} distinct spans, "
             f"{sum(names.values())} in all, at {sum(len(b['Description'].encode()) for b in books) / 1e6 / seconds:.2f} MB/s. "
             "The 40 most frequent: " + ", ".join(f"{s} ({c})" for s, c in names.most_common(40)) + ".", ""]
    report = "\n".join(lines)
    print(report)
    if args.out:
        write_section(args.out, lines[0], report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
