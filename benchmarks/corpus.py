"""The side-by-side benchmark's JSONL corpus, built from ../shared/data read in place.

Documents: the Gutenberg books cut into runs of paragraphs of about 2,000 characters (a web page's size), the UDHR
paragraphs (151 languages), the MEDDOCAN Spanish clinical reports and the Presidio English sentences (both full of
personal data), in an order shuffled once. Copy 0 is the documents as they are; every later copy varies each
document lightly (one adjacent word swap, one word dropped or one word doubled; one in ten left verbatim), seeded by
the copy number, so that exact dedup and near dedup both have work. Copies are written in order until the corpus
reaches `--mb` megabytes, cut into `--files` files of equal size so that two processes can split them. The same
arguments give the same bytes; a corpus already built with them is kept (its manifest.json says so). Fields: `id`,
`text`, `source`. Written outside the repository:
    python benchmarks/corpus.py --mb 300 --out .commons/bench/corpus-300mb
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
VERSION = 2  # bump when the documents or the variation change
PARAGRAPHS_CHARS = 2000


def documents() -> list[dict]:
    docs = []
    for path in sorted((DATA / "dedup" / "gutenberg" / "documents").glob("*.txt")):
        book = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
        # NLTK's copies have one paragraph a line, the others blank lines between paragraphs
        paras = [p.strip() for p in book.split("\n\n" if "\n\n" in book else "\n") if p.strip()]
        chunk: list[str] = []
        for para in paras:  # consecutive paragraphs up to PARAGRAPHS_CHARS make one document
            chunk.append(para)
            if sum(map(len, chunk)) >= PARAGRAPHS_CHARS or para is paras[-1]:
                docs.append({"id": f"{path.stem}-{len(docs)}", "text": "\n\n".join(chunk), "source": "gutenberg"})
                chunk = []
    for line in (DATA / "language" / "udhr_151_languages.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        docs.append({"id": row["id"], "text": row["text"], "source": "udhr"})
    for line in (DATA / "pii" / "meddocan_es_train.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        docs.append({"id": row["id"], "text": row["text"], "source": "meddocan"})
    for i, row in enumerate(json.loads((DATA / "pii" / "presidio_synth_en.json").read_text(encoding="utf-8"))):
        docs.append({"id": f"presidio-{i}", "text": row["full_text"], "source": "presidio"})
    return docs


def vary(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    if len(words) < 2 or rng.random() < 0.1:
        return text
    i = rng.randrange(len(words) - 1)
    edit = rng.randrange(3)
    if edit == 0:
        words[i], words[i + 1] = words[i + 1], words[i]
    elif edit == 1:
        del words[i]
    else:
        words.insert(i, words[i])
    return " ".join(words)


def lines(docs: list[dict], seed: int) -> Iterator[bytes]:
    docs = docs.copy()
    random.Random(seed).shuffle(docs)  # so that a small corpus has every kind of text
    copy = 0
    while True:
        rng = random.Random(f"{seed}-{copy}")
        for d in docs:
            text = d["text"] if copy == 0 else vary(d["text"], rng)
            row = {"id": f"{copy}-{d['id']}", "text": text, "source": d["source"]}
            yield (json.dumps(row, ensure_ascii=False) + "\n").encode()
        copy += 1


def build(mb: float, out: Path, files: int = 8, seed: int = 0) -> dict:
    """Write the corpus into `out` (if not already there) and return its manifest: files, documents, bytes."""
    params = {"version": VERSION, "mb": mb, "files": files, "seed": seed}
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest["params"] == params:
            return manifest
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part-*.jsonl"):
        old.unlink()
    per_file = mb * 1e6 / files
    source = lines(documents(), seed)
    names, docs, size = [], 0, 0
    for k in range(files):
        name = f"part-{k:03d}.jsonl"
        written = 0
        with (out / name).open("wb") as f:
            while written < per_file:
                line = next(source)
                f.write(line)
                written += len(line)
                docs += 1
        names.append(name)
        size += written
    manifest = {"params": params, "files": names, "documents": docs, "bytes": size}
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=300)
    parser.add_argument("--out", type=Path, default=ROOT / ".commons" / "bench" / "corpus")
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    m = build(args.mb, args.out, args.files, args.seed)
    print(f"{args.out}: {len(m['files'])} files, {m['documents']:,} documents, {m['bytes'] / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
