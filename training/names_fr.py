"""Train the French person-name recogniser that the package ships (commons_pipelines/curate/pii/fr_names).

fr_core_news_sm (spaCy's WikiNER model) misses names in court decisions (ECHR French: recall 0.82, issue 12). This
one is a blank spaCy pipeline (`fr` tokenizer) with one entity recogniser (label PERSON), learned from
- the ECHR French decisions (MIT, Sierro et al.): PER and LEGAL_PROFESSIONAL are PERSON;
- texts generated from training/templates_fr.py (written for this project) filled with the names of Faker's
  French-speaking locales (MIT) and, one name in three, of other Latin-script locales (the ECHR's applicants and
  judges are Turkish, British, Polish ...); texts without names: the templates' own (court, clinic, forms, course
  titles, medicine names in capitals) and Title Case headings of common French words (wordfreq) less the names.
The decisions are split as training/names_es.py splits the Spanish ones (`part` of each decision's opening, two in
five kept out, one in five more kept out with `--dev`); only the training part is read here, and
benchmarks/names_languages.py measures on the kept-out part. `--dev` measures on the dev part, to choose settings
without the kept-out part. The backend feeds models text with ’ written ' (curate/pii/ner.py), so the training
texts are written so too. Measured in benchmarks/results/names_languages.md: on the kept-out decisions it finds as many
names as fr_core_news_sm, not the same ones, with fewer false alarms, so the backend reads French text with both
(curate/pii/ner.py, MODELS: "fr_core_news_sm+fr_names").
About 4.5 minutes on 2 shared cores (9.3 beside another training; 3.3 CPU minutes); the model is 5.7 MB.

    python training/names_fr.py [--generated 6000] [--epochs 6] [--seed 13] [--real-repeat 4] [--dev] [--out DIR]

Deterministic for a given seed and library versions (the `train` and `ner` extras).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import templates_fr as T  # noqa: E402
from names_es import PII, echr  # noqa: E402
from names_multi import FOREIGN, _fakers, _names, deterministic  # noqa: E402
from person_names import examples, fill, fit, person_f, place, save  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "commons_pipelines" / "curate" / "pii" / "fr_names"
ECHR = PII / "echr_fr_es_train" / "FR-manual-train.tsv"
NAMES = ("fr_FR", "fr_FR", "fr_BE", "fr_CH", "fr_CA")
PLACES = ("fr_FR", "fr_FR", "fr_CH", "fr_CA")
"""fr_BE gives English cities and streets: names only."""
PERSON_SLOTS = ("name", "first", "last", "init")


def real(parts) -> list[tuple[str, list]]:
    """The ECHR French decisions of these parts, blocks of 5 sentences, with ’ written '."""
    return [(t.replace("’", "'"), e) for t, e, _ in echr(parts, path=ECHR)]


class Generator:
    """French texts from the templates, with their PERSON spans."""

    def __init__(self, seed: int):
        from wordfreq import top_n_list

        self.rng = random.Random(seed)
        self.pools = [_names(f) for f in _fakers(NAMES, seed)]
        self.places = _fakers(PLACES, seed)
        self.foreign = [_names(f) for f in _fakers(FOREIGN, seed)]
        names = {w.lower() for pool in self.pools + self.foreign for n in pool[0] + pool[1] for w in n.split()}
        self.words = [w for w in top_n_list("fr", 20_000) if w.isalpha() and len(w) > 2 and w not in names]
        self.lorem = [w for w in _fakers(["fr_FR"], seed)[0].get_words_list() if w.lower() not in names]
        self.surnames = [n for pool in self.pools for n in pool[1]]
        self.with_names = T.WITH + [f"{{name}} {x}" for x in T.SUBJECT] + [f"M. {{last}} {x}" for x in T.SUBJECT]

    def name(self, slot: str) -> str:
        rng = self.rng
        firsts, lasts = rng.choice(self.foreign if rng.random() < 0.3 else self.pools)
        first, last = rng.choice(firsts), rng.choice(lasts)
        if rng.random() < 0.06:
            last += "-" + rng.choice(lasts)
        if slot == "first":
            return first
        if slot == "last":
            return last
        # no initial "M.": before a surname it is Monsieur, no part of the name ("M. Costa")
        initial = first[0] if first[0] != "M" else rng.choice([f for f in firsts if f[0] != "M"])[0]
        initials = f"{initial}." if rng.random() < 0.8 else f"{initial}. {rng.choice(firsts)[0]}."
        if slot == "init" or rng.random() < 0.15:
            return f"{initials} {last}"
        r = rng.random()
        value = (f"{first} {last}" if r < 0.7 else f"{first} {rng.choice(firsts)} {last}" if r < 0.8
                 else f"{first}-{rng.choice(firsts)} {last}" if r < 0.9 else f"{last} {first}")
        return value.upper() if rng.random() < 0.06 else value

    def filler(self, slot: str) -> str:
        rng, fake = self.rng, self.rng.choice(self.places)
        if (value := place(rng, fake, slot, T.TITLES, T.ORGS)) is not None:
            return value
        if slot == "drug":  # the laboratory: a brand or, one in two, a surname (a laboratory, no person, here)
            lab = rng.choice(T.LABS) if rng.random() < 0.5 else rng.choice(self.surnames).upper()
            if rng.random() < 0.25:
                low, high = rng.choice(((2, 30), (4, 30), (5, 9))), rng.choice(((4, 60), (8, 60)))
                return (f"{rng.choice(T.HOMEOPATHY)} {lab}, degré de dilution compris entre {low[0]}CH et {low[1]}CH "
                        f"ou entre {high[0]}DH et {high[1]}DH")
            inn = rng.choice(T.DRUGS) if rng.random() < 0.7 else rng.choice(self.words).upper()
            drug = f"{inn} {lab} {rng.choice((5, 10, 20, 40, 100, 250, 500, 1000))} mg, {rng.choice(T.FORMS)}"
            return drug if rng.random() < 0.85 else drug.title()
        if slot == "date":
            d = fake.date_between_dates(date(1930, 1, 1), date(2025, 12, 31))  # not up to today: deterministic
            return rng.choice([d.strftime("%d/%m/%Y"), f"{d.day} {self.places[0].month_name().lower()} {d.year}"])
        return str(rng.randint(1, 99))

    def sentence(self, template: str) -> tuple[str, list]:
        return fill(template, self.name, self.filler, PERSON_SLOTS)

    def prose(self) -> str:
        """A text with no name: a Title Case heading of common words, a sentence of Faker's French words, or a
        capitalised opener that is no name before a sentence ("Chacun a droit ...")."""
        rng, r = self.rng, self.rng.random()
        if r < 0.35:
            words = [rng.choice(self.words) for _ in range(rng.randint(2, 6))]
            return " ".join(w.capitalize() if i == 0 or len(w) > 3 else w for i, w in enumerate(words))
        if r < 0.6:
            words = " ".join(rng.choice(self.lorem) for _ in range(rng.randint(4, 14)))
            return words[0].upper() + words[1:] + rng.choice("..?!")
        return self.sentence(f"{rng.choice(T.OPENERS)} {rng.choice(T.SUBJECT + T.TAILS)}")[0]

    def text(self) -> tuple[str, list]:
        text, ents = "", []
        for _ in range(self.rng.choice((1, 1, 2, 2, 3))):
            r = self.rng.random()
            s, e = (self.prose(), []) if r < 0.2 else (self.filler("drug"), []) if r < 0.25 else self.sentence(
                self.rng.choice(self.with_names if r < 0.62 else T.WITHOUT))
            sep = "" if not text else self.rng.choice((" ", " ", "\n"))
            base = len(text) + len(sep)
            text += sep + s
            ents += [(a + base, b + base, t) for a, b, t in e]
        return text.replace("’", "'"), ents


def train(generated: int, epochs: int, seed: int, repeat: int, dev: bool, out: Path) -> None:
    import spacy
    from spacy.util import fix_random_seed

    t0 = time.perf_counter()
    fix_random_seed(seed)
    gen = Generator(seed)
    data = [gen.text() for _ in range(generated + generated // 10)]
    nlp = spacy.blank("fr")
    nlp.add_pipe("ner").add_label("PERSON")
    real_train, skipped_real = examples(nlp, real(("train",) if dev else ("train", "dev")))
    train_ex, skipped = examples(nlp, data[:generated])
    dev_ex, _ = examples(nlp, data[generated:])
    print(f"{len(real_train)} real texts ({skipped_real} misaligned dropped) x{repeat}, {len(train_ex)} generated "
          f"({skipped} dropped), {len(dev_ex)} generated dev", flush=True)
    fit(nlp, real_train * repeat + train_ex, dev_ex, epochs, seed)
    if dev:
        held, _ = examples(nlp, real(("dev",)))
        print("real dev part (exact spans) P {:.3f} R {:.3f}".format(*person_f(nlp, held)), flush=True)
    nlp.meta.update({
        "name": "fr_names", "version": "1.0.0", "languages": ["fr"], "license": "MIT",
        "description": "French person names (PERSON), trained by training/names_fr.py on the training part of the "
                       "ECHR French decisions and on generated sentences",
        "sources": [
            {"name": "ECHR French-Spanish anonymisation corpus, FR-manual-train, training part",
             "url": "https://github.com/mariasierro/automatic-anonymization-ECHR-French-Spanish", "license": "MIT",
             "author": "msierrofer, 2023"},
            {"name": "Faker name lists", "url": "https://github.com/joke2k/faker", "license": "MIT"},
            {"name": "wordfreq word lists (headings without names)", "url": "https://github.com/rspeer/wordfreq",
             "license": "Apache-2.0 (code), CC BY-SA 4.0 (data)"},
            {"name": "sentences written for this project (training/templates_fr.py)", "license": "Apache-2.0"}]})
    size = save(nlp, out)
    print(f"saved {out} ({size:.1f} MB) in {(time.perf_counter() - t0) / 60:.1f} min")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--generated", type=int, default=6000)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--real-repeat", type=int, default=4, help="times each real training text is seen per epoch")
    ap.add_argument("--dev", action="store_true", help="keep a second fifth of the decisions out and measure on it")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--show", type=int, default=0, help="print this many generated texts and stop")
    args = ap.parse_args()
    deterministic()
    if args.show:
        gen = Generator(args.seed)
        for text, ents in (gen.text() for _ in range(args.show)):
            print(repr(text), [text[s:e] for s, e, _ in ents])
        return
    train(args.generated, args.epochs, args.seed, args.real_repeat, args.dev, args.out)


if __name__ == "__main__":
    main()
