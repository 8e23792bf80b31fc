"""Frog, a second reader of names in Dutch text next to xx_names, when it is installed.

Frog (LanguageMachines, Radboud and Tilburg universities; GPL-3.0) is a Dutch NLP suite with a memory-based
named-entity tagger (Timbl) and gazetteers; Debian ships it (`apt-get install frog frogdata`: the program, and its
245 MB of data, which apt does not add by itself). It runs as its own program, one process per batch of texts (about
5 s to start, 820 MiB: benchmarks/results/frog.md), with its tokenizer, tagger and entity tagger only.
`COMMONS_FROG`: the program's path, or `off`; unset: `frog` on PATH if there.

What it adds (`combined`), chosen on the dev split of CoNLL-2002 Dutch (benchmarks/results/names_labelled_dev.md):
its person names where xx_names found none, save all-capital acronyms ("ZCTU") and the lower-case words it sometimes
puts before a name ("uit Hoogstraten"); and a name of xx_names is dropped where Frog reads an organisation, a product
or an event ("Sabena", "Telindus", "Racing Santander"), unless a listed first name opens it or Frog reads one of its
words as a person elsewhere in the text. Frog's places are no veto: it reads foreign surnames as places ("Barak").
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

Span = tuple[int, int, str]
SEPARATOR = "Xqfrogtextendq"
"""A line between two texts: Frog keeps it as one word and one sentence of its own."""
VETO = ("ORG", "PRO", "EVE")
"""Frog's types that overrule a name of xx_names (organisations, products, events)."""
_ACRONYM = re.compile(r"[A-Z0-9&.\s]+|[A-Z]+[a-z]?[A-Z]+")
"""Capitals, perhaps with one lower-case letter among them ("ZCTU", "MoMA"): no person."""
_NEXT = re.compile(r"\s+|$")


class FrogFailed(RuntimeError):
    """Frog ran but did not finish; the message holds its exit status and the end of what it said."""


def program() -> str | None:
    """Frog's path: `COMMONS_FROG`, or `frog` on PATH; None when off or not installed."""
    chosen = os.environ.get("COMMONS_FROG", "")
    if chosen.lower() == "off":
        return None
    return shutil.which(chosen or "frog")


def label() -> str:
    """"frog 0.20", or "" when Frog is off or not installed: what a curation depends on (a run with Frog finds other
    names than one without)."""
    path = program()
    return f"frog {version(path)}" if path else ""


@lru_cache(maxsize=None)
def version(path: str) -> str:
    """"0.20": the version Frog prints first."""
    said = subprocess.run([path, "-V"], capture_output=True, text=True, timeout=60)
    found = re.search(r"frog\s+(\S+)", said.stdout + said.stderr)
    return found.group(1) if found else "?"


def entities(path: str, texts: list[str]) -> list[list[Span]]:
    """Per text, Frog's named entities as (start, end, type) character spans: PER, LOC, ORG, PRO, EVE, MISC."""
    out: list[list[Span]] = [[] for _ in texts]
    if not texts:
        return out
    with tempfile.TemporaryDirectory(prefix="frog-") as folder:
        given, said = Path(folder) / "in.txt", Path(folder) / "out.tsv"
        lines = []
        for text in texts:  # one line a sentence (-n); Frog's tokenizer splits a longer line further
            lines += [line for line in text.splitlines() if line.strip()] + [SEPARATOR]
        given.write_text("\n".join(lines) + "\n", encoding="utf-8")
        run = subprocess.run([path, "--skip=mpcla", "-n", "--threads=1", "-t", str(given), "-o", str(said)],
                             cwd=folder, capture_output=True, text=True)
        if run.returncode != 0 or not said.is_file():
            tail = (run.stderr or run.stdout).strip().splitlines()[-5:]
            raise FrogFailed(f"frog ({path}) exited with status {run.returncode} on {len(texts)} texts: "
                             + " | ".join(tail))
        tokens = _tokens(said.read_text(encoding="utf-8"))
    for n, words in enumerate(tokens[:len(texts)]):
        out[n] = _aligned(texts[n], words)
    return out


def _tokens(tsv: str) -> list[list[tuple[str, str]]]:
    """Frog's (word, entity tag) per text, the texts parted by SEPARATOR's sentences."""
    texts: list[list[tuple[str, str]]] = [[]]
    for line in tsv.splitlines():
        cols = line.split("\t")
        if len(cols) < 8:
            continue
        if cols[1] == SEPARATOR:
            texts.append([])
        else:
            texts[-1].append((cols[1], cols[7]))
    return texts


def _aligned(text: str, words: list[tuple[str, str]]) -> list[Span]:
    """Frog's words found in order in the text, its B-/I- tags made character spans. A word Frog wrote otherwise than
    the text does is skipped with its tag, and ends the entity before it; after n such words, the next word may lie
    up to n words of the text further on."""
    spans: list[Span] = []
    pos, current, lost = 0, None, 0
    for word, tag in words:
        at = text.find(word, pos)
        if at < 0 or len(text[pos:at].split()) > lost:
            if current:
                spans.append(tuple(current))
            current, lost = None, lost + 1
            continue
        lost = 0
        kind = tag[2:] if tag[:2] in ("B-", "I-") else None
        if current and tag.startswith("I-") and kind == current[2]:
            current[1] = at + len(word)
        else:
            if current:
                spans.append(tuple(current))
            current = [at, at + len(word), kind] if kind else None
        pos = at + len(word)
    if current:
        spans.append(tuple(current))
    return spans


def _overlaps(span: Span, others) -> bool:
    return any(span[0] < end and start < span[1] for start, end, *_ in others)


def combined(text: str, spans: list[Span], frog: list[Span], first_name) -> list[Span]:
    """The spans of xx_names and the rest of the backend, with Frog's reading of the text (see the module's text).
    `first_name(word) -> bool`: whether a word is a listed first name."""
    people = []
    for start, end, kind in frog:
        if kind != "PER" or _ACRONYM.fullmatch(text[start:end]):
            continue
        while start < end and not text[start].isupper():  # "minister Wijnants", ", Barrichello"
            start = _NEXT.search(text, start, end).end()
        if start == end:
            continue
        people.append((start, end, "PERSON"))
    others = [s for s in frog if s[2] in VETO]
    person_words = {w for s in people for w in re.findall(r"\w+", text[s[0]:s[1]])}
    kept = []
    for span in spans:
        if span[2] == "PERSON" and _overlaps(span, others) and not _overlaps(span, people):
            words = re.findall(r"[^\W\d_]+", text[span[0]:span[1]])
            opened = any(w[0].isupper() and first_name(w) for w in words[:-1])
            if not (opened or set(re.findall(r"\w+", text[span[0]:span[1]])) & person_words):
                continue
        kept.append(span)
    return sorted(kept + [p for p in people if not _overlaps(p, kept)])
