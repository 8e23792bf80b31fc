"""Precision, recall and F1 of the PII detectors per type against gold spans, and scan throughput.

    python benchmarks/pii_accuracy.py ../shared/data/pii/presidio_synth_en.json [--ner] [--out PATH] [--regions GB,US]

Input: Presidio JSON (a list of {full_text, spans: [{start_position, end_position, entity_type}]}) or JSONL with
`text` and `spans: [{start, end, label}]` (MEDDOCAN). Gold labels map to our types by LABELS; a gold label not
there is "not covered" and counted apart. Regions default from the language (`language` field, else en).

Matching rule: a predicted span is a true positive when it overlaps a gold span of the same type (one gold span
is matched at most once, one prediction likewise); unmatched predictions are false positives, unmatched gold
spans false negatives. Overlap rather than exact offsets because gold spans differ in what they include
("Tel.: 963 862 700" vs the digits only, a trailing full stop).

Misses and false alarms are printed masked (letters -> x, digits -> 9): the span, and in its 20 characters of
context every word holding a digit or an '@'.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from commons_pipelines.curate.pii import default_regions, scan  # noqa: E402
from commons_pipelines.spec import PATTERN_PII  # noqa: E402

LABELS = {
    # Presidio synthetic (English)
    "EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "IBAN_CODE": "IBAN", "CREDIT_CARD": "CARD",
    "IP_ADDRESS": "IP", "US_SSN": "NATIONAL_ID", "PERSON": "PERSON", "STREET_ADDRESS": "ADDRESS",
    # MEDDOCAN (Spanish clinical): NASS is the social security number, a national identifier
    "CORREO_ELECTRONICO": "EMAIL", "NUMERO_TELEFONO": "PHONE", "NUMERO_FAX": "PHONE",
    "ID_ASEGURAMIENTO": "NATIONAL_ID", "NOMBRE_SUJETO_ASISTENCIA": "PERSON", "NOMBRE_PERSONAL_SANITARIO": "PERSON",
    "FAMILIARES_SUJETO_ASISTENCIA": "PERSON", "CALLE": "ADDRESS",
}
TARGETS = {"EMAIL", "PHONE", "IBAN", "CARD", "IP", "NATIONAL_ID"}


def load(path: Path) -> list[tuple[str, list[tuple[int, int, str]], str]]:
    """(text, [(start, end, gold label)], language) per document."""
    if path.suffix == ".json":
        return [(d["full_text"], [(s["start_position"], s["end_position"], s["entity_type"]) for s in d["spans"]], "en")
                for d in json.loads(path.read_text(encoding="utf-8"))]
    docs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(d["text"], [(s["start"], s["end"], s["label"]) for s in d["spans"]], d.get("language", "en"))
            for d in docs]


def mask(text: str) -> str:
    return re.sub(r"\d", "9", re.sub(r"[^\W\d_]", "x", text))


def context(text: str, start: int, end: int) -> str:
    """20 characters either side; the span masked, and around it every word with a digit or '@' masked too."""
    around = [re.sub(r"\S*[@\d]\S*", lambda m: mask(m.group()), part)
              for part in (text[max(0, start - 20):start], text[end:end + 20])]
    return (around[0] + "«" + mask(text[start:end]) + "»" + around[1]).replace("\n", "⏎")


def score(docs, predicted):
    tp, fp, fn = Counter(), Counter(), Counter()
    misses, alarms = [], []
    for i, (text, gold, _) in enumerate(docs):
        gold = [(s, e, LABELS[g]) for s, e, g in gold if g in LABELS]
        used = set()
        for s, e, t in predicted[i]:
            j = next((j for j, (gs, ge, gt) in enumerate(gold) if j not in used and gt == t and gs < e and s < ge), None)
            if j is None:
                fp[t] += 1
                alarms.append((t, context(text, s, e)))
            else:
                used.add(j)
                tp[t] += 1
        for j, (gs, ge, gt) in enumerate(gold):
            if j not in used:
                fn[gt] += 1
                misses.append((gt, context(text, gs, ge)))
    return tp, fp, fn, misses, alarms


def table(tp, fp, fn, types) -> list[str]:
    lines = ["| type | precision | recall | F1 | support | TP | FP | FN | target met |", "|---|---|---|---|---|---|---|---|---|"]
    for t in types:
        p = tp[t] / (tp[t] + fp[t]) if tp[t] + fp[t] else float("nan")
        r = tp[t] / (tp[t] + fn[t]) if tp[t] + fn[t] else float("nan")
        f = 2 * p * r / (p + r) if p + r else 0.0
        met = "-" if t not in TARGETS or not tp[t] + fn[t] else ("yes" if p >= 0.95 and r >= 0.98 else "**no**")
        lines.append(f"| {t} | {p:.3f} | {r:.3f} | {f:.3f} | {tp[t] + fn[t]} | {tp[t]} | {fp[t]} | {fn[t]} | {met} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--ner", action="store_true", help="also score PERSON and ADDRESS with the NER backend")
    ap.add_argument("--out", type=Path, help="write the markdown section into this file (replacing its earlier run)")
    ap.add_argument("--regions", help="comma-separated phone regions (default: from the documents' language)")
    ap.add_argument("--show", type=int, default=15, help="masked misses and false alarms to print per type")
    ap.add_argument("--split", choices=("all", "dev", "test"), default="all",
                    help="dev: the even-numbered documents, test: the odd-numbered ones (tune on dev, report test)")
    args = ap.parse_args(argv)

    docs = load(args.file)
    if args.split != "all":
        docs = docs[args.split == "test"::2]
    langs = sorted({lang for _, _, lang in docs})
    regions = args.regions.split(",") if args.regions else default_regions(langs)
    texts = pa.array([t for t, _, _ in docs], pa.large_string())
    mb = sum(len(t.encode()) for t, _, _ in docs) / 1e6

    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        found = scan(texts, PATTERN_PII, regions)
        runs.append(time.perf_counter() - t0)
    seconds = min(runs)
    predicted = defaultdict(list)
    for m in found:
        predicted[m.row].append((m.start, m.end, m.type))

    types = list(PATTERN_PII)
    ner_note = ""
    if args.ner:
        try:
            from commons_pipelines.curate.pii.ner import load_ner
            status = load_ner(langs)
            if status.backend is None:
                raise RuntimeError(status.description)
        except (ImportError, RuntimeError) as err:
            print(f"--ner: the NER backend is not available: {err}", file=sys.stderr)
            return 2
        ner = status.backend
        ner_note = f", NER: {status.description}"
        t0 = time.perf_counter()
        spans = ner.find([t for t, _, _ in docs])
        ner_seconds = time.perf_counter() - t0
        for i, row in enumerate(spans):
            taken = predicted[i]
            for s, e, t in row:
                if t in ("PERSON", "ADDRESS") and not any(a < e and s < b for a, b, _ in taken):
                    taken.append((s, e, t))
        types += ["PERSON", "ADDRESS"]
        ner_note += f" at {mb / ner_seconds:.2f} MB/s"

    tp, fp, fn, misses, alarms = score(docs, predicted)
    gold_labels = Counter(g for _, spans, _ in docs for _, _, g in spans)
    not_covered = {g: n for g, n in gold_labels.items() if g not in LABELS or (LABELS[g] not in types)}
    mapping = ", ".join(f"{g}→{LABELS[g]}" for g in sorted(gold_labels) if g in LABELS and LABELS[g] in types)

    heading = f"## {args.file.name}" + ("" if args.split == "all" else f" ({args.split} half)")
    lines = [heading, "",
             f"{len(docs)} documents, {mb:.2f} MB of text, regions {','.join(regions) or 'none'}; "
             f"scan {mb / seconds:.2f} MB/s ({seconds:.2f} s, best of 3){ner_note}.", "",
             *table(tp, fp, fn, types), "",
             f"Mapped: {mapping}.", "",
             "Not covered (no type of ours): " + ", ".join(f"{g} ({n})" for g, n in sorted(not_covered.items())) + ".", ""]
    report = "\n".join(lines)
    print(report)
    for label, items in (("missed", misses), ("false alarm", alarms)):
        by_type = defaultdict(list)
        for t, ctx in items:
            by_type[t].append(ctx)
        for t in types:
            for ctx in by_type[t][:args.show]:
                print(f"{label} {t}: {ctx}")
    if args.out:
        write_section(args.out, heading, report + "\n")
    return 0


def write_section(path: Path, heading: str, section: str) -> None:
    """Replace this file's section in the results (the text from its heading to the next one), or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start = text.find(heading + "\n")
    if start < 0:
        text = text + ("\n" if text and not text.endswith("\n") else "") + section
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
