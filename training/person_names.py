"""Train the English person-name recogniser that the package ships (commons_pipelines/curate/pii/en_names).

Explosion publishes its English spaCy pipelines on GitHub only, which the project's machines cannot reach, so the
English NER backend is trained here: a blank English spaCy pipeline with one entity recogniser (label PERSON),
learned from
- texts generated from training/templates.py (written for this project), filled with the first names and surnames
  of Faker's 97 locales with Latin or romanisable names (MIT; romanised by anyascii where the locale writes another
  script) and of the US 1990 census, with Python's reference prose and common English words (wordfreq) as texts
  without names;
- passages of the public-domain Gutenberg books in ../shared/data, partly labelled (`partial_examples`).
Next to the model it writes the name lists (`Lexicon`) with which the backend checks the model's spans and finds
the listed names the model misses. Which names are also ordinary words is measured on the same books.
The PII benchmark files are not read: they stay held out. About 15 minutes on 2 cores.

    python training/person_names.py [--sentences 30000] [--real-passages 12000] [--epochs 4] [--out DIR]

Deterministic for a given seed and library versions (the `train` and `ner` extras).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
import unicodedata
import warnings
from collections import Counter
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).parent))
import templates as T  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "commons_pipelines" / "curate" / "pii" / "en_names"
BOOKS = ROOT.parent / "shared" / "data" / "dedup" / "gutenberg" / "documents"
SLOT = re.compile(r"\{(\w+)\}")
ROMANISED = {"ja_JP": ("first_romanized_names", "last_romanized_names"),
             "zh_CN": ("first_romanized_names", "last_romanized_names"),
             "zh_TW": ("first_romanized_names", "last_romanized_names")}


def _person_provider(fake):
    return next(p for p in fake.providers if type(p).__module__.startswith("faker.providers.person"))


TRANSLITERATED = ("CYRILLIC", "GREEK", "GEORGIAN", "ARMENIAN", "HANGUL", "THAI")
"""Scripts whose romanisation (anyascii) reads as the names do in English text; abjads and Indic scripts lose their
vowels and are left out."""


def _script(text: str) -> str:
    return next((unicodedata.name(c, "?").split()[0] for c in text if c.isalpha()), "?")


def _words(values) -> list[str]:
    return [v for v in dict.fromkeys(values) if len(v) > 1 and re.fullmatch(r"[^\W\d_]+(?:['’ -][^\W\d_]+)*", v)]


def _pool(fake, provider, kind: str) -> list[str]:
    """A locale's first names or surnames: every list the provider holds (some split them by gender: pl_PL, de_LU;
    a list of fewer than 5 is a placeholder such as the base provider's "Doe") and what its generators return,
    which covers the names built by rule (is_IS patronymics, pl_PL female surnames)."""
    values = []
    for attr in dir(provider):
        pool = getattr(provider, attr, None) if re.fullmatch(rf"(?:\w+_)?{kind}_names(?:_\w+)?", attr) else None
        if isinstance(pool, (list, tuple, dict)) and len(pool) >= 5 and "without" not in attr:
            values += [v for v in pool if isinstance(v, str)]
    for method in (f"{kind}_name", f"{kind}_name_male", f"{kind}_name_female"):
        if callable(getattr(fake, method, None)):
            values += [getattr(fake, method)() for _ in range(300)]
    return list(dict.fromkeys(values))


def name_pools(seed: int) -> tuple[list[list[str]], list[list[str]], list]:
    """Per locale: first names, surnames; and a Faker for the unlabelled fillers (cities, companies, streets)."""
    from anyascii import anyascii
    from faker import Faker
    from faker.config import AVAILABLE_LOCALES

    firsts, lasts, fakers = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for loc in sorted(AVAILABLE_LOCALES):
            fake = Faker(loc)
            fake.seed_instance(seed)
            p = _person_provider(fake)
            if loc in ROMANISED:
                f, last = (list(getattr(p, a)) for a in ROMANISED[loc])
            else:
                f, last = _pool(fake, p, "first"), _pool(fake, p, "last")
            if not f or not last:
                continue
            script = _script(f[0] + last[0]) if loc not in ROMANISED else "LATIN"
            if script not in ("LATIN",) + TRANSLITERATED:
                continue
            if script != "LATIN":
                f, last = [anyascii(x) for x in f], [anyascii(x) for x in last]
            f, last = _words(f), _words(last)
            if len(f) >= 5 and len(last) >= 5:
                firsts.append(f)
                lasts.append(last)
            if script == "LATIN":
                fakers.append(fake)
    sys.path.insert(0, str(ROOT))
    from commons_pipelines.curate.pii.ner import census_list

    firsts.append([n.title() for part in ("dist.male.first", "dist.female.first") for n in census_list(part, 3000)])
    lasts.append([n.title() for n in census_list("dist.all.last", 3000)])
    return firsts, lasts, fakers


def english_prose(names: set[str]) -> tuple[list[str], list[str]]:
    """Sentences of Python's reference documentation (pydoc_data, in every Python) and the 40,000 most common English
    words less those that are also names."""
    from pydoc_data.topics import topics
    from wordfreq import top_n_list

    text = re.sub(r"\s+", " ", " ".join(topics.values()))
    sentences = [s for s in re.split(r"(?<=[.!?]) (?=[A-Z])", text)
                 if 20 < len(s) < 240 and not re.search(r"[(){}\[\]=_*>|`\\]|\.\.\.|  ", s)]
    words = [w for w in top_n_list("en", 40_000) if w.isalpha() and len(w) > 1 and w not in names]
    return sentences, words


class Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.firsts, self.lasts, self.fakers = name_pools(seed)
        self.name_words = {w.lower() for pool in self.firsts + self.lasts for name in pool
                           for w in re.split(r"[ '’-]", name)}
        self.sentences, self.words = english_prose(self.name_words)

    def _locale(self) -> int:
        return self.rng.randrange(len(self.firsts))

    def first(self, loc: int) -> str:
        return self.rng.choice(self.firsts[loc])

    def last(self, loc: int) -> str:
        name = self.rng.choice(self.lasts[loc])
        if self.rng.random() < 0.08:
            name += "-" + self.rng.choice(self.lasts[loc])
        return name

    def full(self) -> str:
        loc, r = self._locale(), self.rng.random()
        first, last = self.first(loc), self.last(loc)
        if r < 0.6:
            return f"{first} {last}"
        if r < 0.72:
            return f"{first} {self.rng.choice('ABCDEFGHIJKLMNOPRSTVW')}. {last}"
        if r < 0.8:
            return f"{first} {self.first(loc)} {last}"
        if r < 0.86:
            return f"{first[0]}. {last}"
        if r < 0.92:
            return f"{first} {last} {self.last(loc)}"
        return f"{first} {last}"

    def filler(self, slot: str) -> str:
        rng, fake = self.rng, self.rng.choice(self.fakers)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if slot == "org":
                    return rng.choice([fake.company(), f"{fake.city()} General Hospital", f"{fake.city()} College",
                                       f"St {fake.last_name()}'s School", f"{fake.last_name()} & Partners",
                                       "Riverside Care Home", "the Open University", "Meadowbank Surgery"])
                if slot == "city":
                    return fake.city()
                if slot == "street":
                    return fake.street_address()
                if slot == "date":
                    return rng.choice([fake.date(), fake.month_name() + " " + str(rng.randint(1950, 2030)),
                                       str(rng.randint(1940, 2030)), f"{rng.randint(1, 28)} {fake.month_name()}"])
            except (AttributeError, ValueError):
                pass
        if slot == "org":
            return "Northfield Health Centre"
        if slot in ("city", "street"):
            return rng.choice(["Leeds", "Lyon", "Porto", "Graz", "12 High Street", "4 Rue Neuve"])
        if slot == "date":
            return f"{rng.randint(1, 28)}/{rng.randint(1, 12)}/{rng.randint(1950, 2030)}"
        if slot == "num":
            return str(rng.randint(1, 120))
        pools = {"subject": T.SUBJECTS, "drug": T.DRUGS, "disease": T.DISEASES, "title": T.TITLES}
        return rng.choice(pools[slot])

    def styled(self, name: str) -> str:
        r = self.rng.random()
        if r < 0.12:
            return name.lower()
        if r < 0.16:
            return name.upper()
        return name

    def sentence(self, template: str) -> tuple[str, list[tuple[int, int, str]]]:
        text, ents, pos, loc = [], [], 0, self._locale()
        for part in _parts(template):
            if part.startswith("{") and part.endswith("}"):
                slot = part[1:-1]
                if slot in ("name", "first", "last"):
                    value = self.styled(self.full() if slot == "name" else
                                        self.first(loc) if slot == "first" else self.last(loc))
                    ents.append((pos, pos + len(value), "PERSON"))
                else:
                    value = self.filler(slot)
            else:
                value = part
            text.append(value)
            pos += len(value)
        out = "".join(text)
        r = self.rng.random()
        if r < 0.08:
            out = out.lower()
        elif r < 0.1:
            out = out.upper()
        return out, ents

    def prose(self) -> str:
        """A text with no name: real English prose (Python's own reference text, shipped with Python), or common
        English words (wordfreq's list less every word of the name lists) as a phrase, a sentence or a Title Case
        heading, so that ordinary words, in any case, are not names."""
        rng, r = self.rng, self.rng.random()
        if r < 0.25:
            text = rng.choice(self.sentences)
            return text.lower() if rng.random() < 0.15 else text
        words = [rng.choice(self.words) for _ in range(rng.randint(2, 6) if r < 0.6 else rng.randint(4, 14))]
        if r < 0.6:
            heading = " ".join(w if w in ("of", "and", "the", "to", "in") and i else w.capitalize()
                               for i, w in enumerate(words))
            if rng.random() < 0.3:
                heading += ": " + " ".join(w.capitalize() for w in rng.sample(self.words, rng.randint(1, 4)))
            return heading
        text = " ".join(words)
        return (text[0].upper() + text[1:] + rng.choice(".?!")) if rng.random() < 0.6 else text

    def corpus(self, n: int) -> list[tuple[str, list]]:
        out = []
        for _ in range(n):
            k = self.rng.choice((1, 1, 1, 2, 2, 3))
            text, ents = "", []
            for _ in range(k):
                r = self.rng.random()
                if r < 0.3:
                    s, e = self.prose(), []
                else:
                    s, e = self.sentence(self.rng.choice(T.WITH_NAMES if r < 0.75 else T.WITHOUT_NAMES))
                sep = "" if not text else self.rng.choice((" ", " ", "\n", "\n\n"))
                base = len(text) + len(sep)
                text += sep + s
                ents += [(a + base, b + base, t) for a, b, t in e]
            out.append((text, ents))
        return out


def _parts(template: str) -> list[str]:
    out, last = [], 0
    for m in SLOT.finditer(template):
        out += [template[last:m.start()], m.group(0)]
        last = m.end()
    return [p for p in out + [template[last:]] if p]


def fill(template: str, name, filler, person_slots: tuple[str, ...]) -> tuple[str, list]:
    """A template with its slots filled, `name(slot)` for the person slots and `filler(slot)` for the others, and
    the PERSON spans of the names."""
    text, ents, pos = [], [], 0
    for piece in _parts(template):
        slot = piece[1:-1] if piece.startswith("{") and piece.endswith("}") else None
        value = piece if slot is None else name(slot) if slot in person_slots else filler(slot)
        if slot in person_slots:
            ents.append((pos, pos + len(value), "PERSON"))
        text.append(value)
        pos += len(value)
    return "".join(text), ents


def place(rng, fake, slot: str, titles: list[str], orgs: list[str]) -> str | None:
    """A filler shared by the language scripts (a title, a city, a country, a street, an organisation) from a Faker
    of the language's places; None for other slots."""
    if slot == "title":
        return rng.choice(titles)
    if slot in ("city", "country"):
        return getattr(fake, slot)()
    if slot == "street":
        return fake.street_address()
    if slot == "org":
        return rng.choice(orgs).replace("{city}", fake.city())
    return None


def save(nlp, out: Path) -> float:
    """Write the pipeline to `out`; its size in MB."""
    out.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    return sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1e6


def examples(nlp, data):
    from spacy.training import Example

    out, skipped = [], 0
    for text, ents in data:
        doc = nlp.make_doc(text)
        spans = [doc.char_span(s, e, label=t, alignment_mode="strict") for s, e, t in ents]
        if any(s is None for s in spans):
            skipped += 1
            continue
        out.append(Example.from_dict(doc, {"entities": [(s, e, t) for s, e, t in ents]}))
    return out, skipped


def real_texts(folder: Path, n: int, seed: int) -> list[str]:
    """n passages of 1-3 sentences from the books in folder (Project Gutenberg's, in ../shared/data)."""
    rng = random.Random(seed)
    passages = []
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
        sentences = [x for p in paragraphs for x in re.split(r"(?<=[.!?]) ", p) if 15 < len(x) < 300]
        for i in range(0, len(sentences) - 3, 3):
            passages.append(" ".join(sentences[i:i + rng.randint(1, 3)]))
    rng.shuffle(passages)
    return passages[:n]


def partial_examples(nlp, texts: list[str], lex: Lexicon, words: set[str]):
    """Real text, partly labelled: the name cues' and census names' spans are PERSON, every ordinary English word
    and every punctuation mark or number is O, and any other token (a capitalised word, a word that may be a name)
    is left unlabelled, so the model learns what ordinary prose looks like without being told a name is not one.
    Ordinary: in lower case, a common word (the 3,000 most common, or one of `words` that is no name) or an
    ambiguous name ("will", "grace"); capitalised, an ambiguous name ("Will", "Latin", "May") or a common word
    that is no name. "James" and "David", common words by frequency, are names: left unlabelled."""
    from spacy.training import Example, offsets_to_biluo_tags

    sys.path.insert(0, str(ROOT))
    from commons_pipelines.curate.pii.ner import NAME_CUE, _census_spans, _fold

    out = []
    for text in texts:
        doc = nlp.make_doc(text)
        spans = _census_spans(text) + [(m.start("name"), m.end("name"), "PERSON") for m in NAME_CUE.finditer(text)]
        tags = offsets_to_biluo_tags(doc, [(s, e, "PERSON") for s, e, _ in _disjoint(spans)])
        for i, tok in enumerate(doc):
            if tags[i] != "O":
                continue
            low, folded = tok.text.lower(), _fold(tok.text)
            no_name = folded not in lex.names
            if tok.is_lower:
                ordinary = low in lex.common or (low in words and no_name) or folded in lex.ambiguous
            else:
                ordinary = tok.is_title and (folded in lex.ambiguous or (low in lex.common and no_name))
            tags[i] = "O" if not tok.is_alpha or ordinary else "-"
        if "-" not in tags or any(t != "-" for t in tags):
            out.append(Example.from_dict(doc, {"entities": tags}))
    return out


def _disjoint(spans):
    out = []
    for s, e, t in sorted(spans):
        if out and s < out[-1][1]:
            continue
        out.append((s, e, t))
    return out


PLACES = ("Africa African America American Asia Asian Europe European Arab Arabic Christian Catholic Muslim Jewish "
          "Roman Latin Greek Celtic Saxon Anglo Atlantic Pacific Mediterranean Caribbean")
CALENDAR = ("January February March April May June July August September October November December Monday Tuesday "
            "Wednesday Thursday Friday Saturday Sunday")


class Lexicon(NamedTuple):
    names: set[str]
    """Every first name and surname the model is trained on, folded (no accents, upper case: "TREVINO")."""
    firsts: set[str]
    ambiguous: set[str]
    """Names that are also ordinary words: see `ambiguous_names`."""
    words: set[str]
    """Words the books write in lower case at least twice, folded: English words, as opposed to unknown names."""
    common: set[str]
    """The 3,000 most common English words (wordfreq), lower case."""


def lexicon(gen: Generator, books: Path) -> Lexicon:
    from wordfreq import top_n_list

    sys.path.insert(0, str(ROOT))
    from commons_pipelines.curate.pii.ner import _fold

    def folded(pools):
        return {_fold(w) for pool in pools for name in pool for w in re.split(r"[ '’-]", name) if len(w) > 1}

    names = folded(gen.firsts + gen.lasts)
    lower, capital = book_words(books)
    frequent = {_fold(w) for w in top_n_list("en", 10_000)}
    return Lexicon(names, folded(gen.firsts), ambiguous_names(names, lower, capital, frequent, census_top(1000)),
                   {w for w, n in lower.items() if n >= 2}, set(top_n_list("en", 3000)))


def census_top(n: int) -> set[str]:
    """The census's n most common first names (male and female) and surnames."""
    sys.path.insert(0, str(ROOT))
    from commons_pipelines.curate.pii.ner import census_list

    return {name for part in ("dist.male.first", "dist.female.first", "dist.all.last") for name in census_list(part, n)}


INSIDE = re.compile(r"[^\s.!?:;\"“‘(\[]\s*$")
"""What comes before a capitalised word that is not capitalised for its place: no full stop, colon, quote or bracket
(line breaks do not count: the books are wrapped mid-sentence)."""


def book_words(folder: Path) -> tuple[Counter, Counter]:
    """Folded word -> how often the books write it in lower case, and capitalised inside a sentence (`INSIDE`)."""
    sys.path.insert(0, str(ROOT))
    from commons_pipelines.curate.pii.ner import _fold

    lower, capital = Counter(), Counter()
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in re.finditer(r"(?<![\w'’-])[^\W\d_]+", text):
            w = m.group()
            if w.islower():
                lower[_fold(w)] += 1
            elif w[0].isupper() and not w.isupper() and INSIDE.search(text[max(0, m.start() - 3):m.start()]):
                capital[_fold(w)] += 1
    return lower, capital


def ambiguous_names(names: set[str], lower: Counter, capital: Counter, frequent: set[str],
                    census: set[str]) -> set[str]:
    """Names that are also ordinary words, so that seeing one says little: those the books write in lower case at
    least a fifth of the time ("WILL", "BROWN", "GRACE"); those among the 10,000 most frequent English words that
    are not among the census's 1,000 most common first names or surnames (keeps "JAMES", drops "ENGLISH", "AFRICA");
    countries, languages, continents and creeds (Faker's en_US lists and PLACES); months and weekdays; and any of
    fewer than 3 letters."""
    from faker import Faker

    sys.path.insert(0, str(ROOT))
    from commons_pipelines.curate.pii.ner import _fold

    fake = Faker("en_US")
    lists = [p for p in fake.providers if type(p).__module__.split(".")[2] in ("person", "address")]
    places = {_fold(w) for p in lists for x in [*getattr(p, "language_names", ()), *getattr(p, "countries", ())]
              for w in re.findall(r"[^\W\d_]+", x)}
    places |= {_fold(w) for w in (PLACES + " " + CALENDAR).split()}

    def ambiguous(n: str) -> bool:
        lo = lower[n]
        return (len(n) < 3 or n in places or (lo >= 3 and lo * 5 >= lo + capital[n])
                or (n in frequent and n not in census))

    return {n for n in names if ambiguous(n)}


def write_name_lists(out: Path, lex: Lexicon) -> None:
    """The lists the backend checks this model's PERSON spans against and finds names with (curate/pii/ner.py,
    `_known_name`, `_listed_names`), folded: names, first names, ambiguous names, and English words."""
    for name, words in (("names.txt", lex.names), ("first_names.txt", lex.firsts),
                        ("ambiguous.txt", lex.ambiguous), ("words.txt", lex.words)):
        (out / name).write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")


def person_f(nlp, dev) -> tuple[float, float]:
    tp = fp = fn = 0
    for ex, doc in zip(dev, nlp.pipe([ex.reference.text for ex in dev])):
        gold = {(e.start_char, e.end_char) for e in ex.reference.ents}
        pred = {(e.start_char, e.end_char) for e in doc.ents}
        tp += len(gold & pred)
        fp += len(pred - gold)
        fn += len(gold - pred)
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1)


def fit(nlp, train_ex: list, dev_ex: list, epochs: int, seed: int) -> None:
    """Train the entity recogniser, printing the dev PERSON precision and recall after each epoch."""
    from spacy.util import minibatch

    optimizer = nlp.initialize(lambda: train_ex[:2000])
    rng = random.Random(seed)
    for epoch in range(epochs):
        t0, losses = time.perf_counter(), {}
        rng.shuffle(train_ex)
        for batch in minibatch(train_ex, size=64):
            nlp.update(batch, drop=0.2, sgd=optimizer, losses=losses)
        p, r = person_f(nlp, dev_ex)
        print(f"epoch {epoch + 1}: loss {losses['ner']:.0f}, dev PERSON P {p:.3f} R {r:.3f}, "
              f"{time.perf_counter() - t0:.0f} s", flush=True)


def train(sentences: int, epochs: int, seed: int, out: Path, books: Path = BOOKS, real_n: int = 0,
          gen: Generator | None = None, lex: Lexicon | None = None) -> None:
    """`gen` and `lex`: the name lists and the lexicon, when already built (they take most of a small run)."""
    import spacy
    from spacy.util import fix_random_seed

    fix_random_seed(seed)
    gen = gen if gen is not None else Generator(seed)
    data = gen.corpus(sentences + sentences // 10)
    nlp = spacy.blank("en")
    nlp.add_pipe("ner").add_label("PERSON")
    train_ex, skipped = examples(nlp, data[:sentences])
    dev_ex, _ = examples(nlp, data[sentences:])
    lex = lex if lex is not None else lexicon(gen, books)
    if real_n:
        partial = partial_examples(nlp, real_texts(books, real_n, seed), lex, set(gen.words))
        print(f"{len(partial)} partly labelled passages from {books}", flush=True)
        train_ex += partial
    print(f"{len(train_ex)} training texts ({skipped} misaligned dropped), {len(dev_ex)} dev, "
          f"{sum(map(len, gen.firsts))} first names and {sum(map(len, gen.lasts))} surnames from {len(gen.firsts)} lists",
          flush=True)
    fit(nlp, train_ex, dev_ex, epochs, seed)
    nlp.meta.update({"name": "en_names", "version": "1.0.0", "description": "English person names (PERSON), "
                     "trained by training/person_names.py on generated sentences and partly labelled public-domain books", "license": "Apache-2.0",
                     "finds_lowercase_names": True, "name_lists": True})
    out.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    write_name_lists(out, lex)
    print(f"saved {out} ({sum(f.stat().st_size for f in out.rglob('*') if f.is_file()) / 1e6:.1f} MB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=30_000)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--books", type=Path, default=BOOKS,
                    help="a folder of English .txt books: partly labelled passages, and which words are English")
    ap.add_argument("--real-passages", type=int, default=12_000)
    ap.add_argument("--show", type=int, default=0, help="print this many generated texts and stop")
    args = ap.parse_args()
    if args.show:
        for text, ents in Generator(args.seed).corpus(args.show):
            print(repr(text), [text[s:e] for s, e, _ in ents])
        return
    train(args.sentences, args.epochs, args.seed, args.out, args.books, args.real_passages)


if __name__ == "__main__":
    main()
