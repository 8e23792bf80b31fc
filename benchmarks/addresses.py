"""Street addresses (ADDRESS) in seven European languages: recall on generated sentences, false alarms on real text.

    python benchmarks/addresses.py [--seed 2] [--n 200] [--out benchmarks/results/addresses.md]

Generated text: sentences written for this benchmark (TEMPLATES, per language) filled with Faker's street addresses
of each locale, a postcode and a city; the gold span is the street address. The sentences also hold what is not an
address ("Artikel 12", "Seite 12", "apartado 3", "Kapitel 3"), so that precision on them means something. Faker's
it_CH has no Italian addresses (it gives English ones): it_CH takes it_IT street names written the Swiss way, the
number after the name without a comma. Faker addresses without a house number ("boulevard Hugo Chatriand") are no
street address by our rule (a street type and a number) and are left out, counted in the table.
Scoring: benchmarks/pii_accuracy.py's rule (a prediction matches one overlapping gold span).

Real text without street addresses: French medicine names (BDPM), Open Textbook Library titles and descriptions,
the UDHR paragraphs of the seven languages; a text with any ADDRESS span is a false alarm. Real legal text, full of
article, paragraph and case numbers: the ECHR decisions (French and Spanish, train split) in pieces of 100 tokens;
they name a few real addresses, so every ADDRESS span found there is listed for a reader to judge.

Detector: the whole NER backend of each language (`load_ner([lang]).backend.find`), as the Pii step runs it: the
street patterns for every language, plus fr_core_news_sm's facilities with a number for French and Spanish.
Held out: the patterns were tuned on seed 1; the report is on seed 2 (`--seed`). Runs with PYTHONHASHSEED=0 (it
restarts itself so), since some Faker locales pick cities from sets, whose order changes from run to run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
from collections import Counter
from pathlib import Path

from faker import Faker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from commons_pipelines.curate.pii.ner import load_ner  # noqa: E402
from pii_accuracy import score, write_section  # noqa: E402

DATA = ROOT.parent / "shared" / "data"

TEMPLATES = {
    "de": ["Die Firma ist von {A} nach {P} {C} umgezogen; Einzelheiten regelt Artikel 12 des Vertrags.",
           "Bitte senden Sie die Unterlagen bis zum 3. Mai an Frau Keller, {A}, {P} {C}.",
           "Laut Seite 12 des Protokolls wohnte der Zeuge damals in der {A} in {C}.",
           "Lieferadresse: {A}, {P} {C} (es gelten Kapitel 3 und § 4 Abs. 2 der AGB).",
           "Wir treffen uns um 14 Uhr vor dem Haus {A}, gleich neben der Apotheke."],
    "fr": ["Le siège social a été transféré au {A}, {P} {C}, conformément à l'article 12 des statuts.",
           "Merci d'adresser votre courrier à Mme Martin, {A}, {P} {C}.",
           "Selon la page 12 du rapport, le témoin habitait {A} à {C}.",
           "Le magasin situé {A} ouvre à 9 h ; voir le chapitre 3 du règlement intérieur.",
           "Adresse de livraison : {A}, {P} {C}, 2e étage."],
    "it": ["La sede legale è stata trasferita in {A}, {P} {C}, ai sensi dell'articolo 12 dello statuto.",
           "Si prega di inviare la documentazione al Sig. Rossi, {A}, {P} {C}.",
           "Secondo la pagina 12 del verbale, il testimone abitava in {A} a {C}.",
           "Il negozio di {A} apre alle 9, come previsto dal capitolo 3 del regolamento.",
           "Indirizzo di consegna: {A}, {P} {C}."],
    "es": ["La sede social se trasladó a {A}, {P} {C}, según el apartado 3 del artículo 12 de los estatutos.",
           "Envíe la documentación a la Sra. García, {A}, {P} {C}.",
           "Según la página 12 del acta, el testigo vivía en {A}, en {C}.",
           "La tienda de {A} abre a las 9, tal como dispone el capítulo 3 del reglamento.",
           "Dirección de entrega: {A}, {P} {C}."],
    "pt": ["A sede foi transferida para {A}, {P} {C}, nos termos do artigo 12.º dos estatutos.",
           "Envie os documentos para o Sr. Silva, {A}, {P} {C}.",
           "Segundo a página 12 da ata, a testemunha morava em {A}, em {C}.",
           "A loja de {A} abre às 9 horas, conforme o capítulo 3 do regulamento.",
           "Morada para entrega: {A}, {P} {C}."],
    "nl": ["Het kantoor is verhuisd naar {A}, {P} {C}; zie artikel 12 van de statuten.",
           "Stuur de documenten naar mevrouw De Vries, {A}, {P} {C}.",
           "Volgens pagina 12 van het verslag woonde de getuige aan de {A} in {C}.",
           "De winkel aan de {A} gaat om 9 uur open, zoals hoofdstuk 3 van het reglement bepaalt.",
           "Afleveradres: {A}, {P} {C}."],
    "pl": ["Siedziba spółki została przeniesiona na {A}, {P} {C}, zgodnie z art. 12 statutu.",
           "Proszę przesłać dokumenty do Pani Nowak, {A}, {P} {C}.",
           "Według strony 12 protokołu świadek mieszkał przy {A} w {C}.",
           "Sklep przy {A} jest czynny od 9, zgodnie z rozdziałem 3 regulaminu.",
           "Adres dostawy: {A}, {P} {C}."],
}
LOCALES = ["de_DE", "de_AT", "de_CH", "fr_FR", "fr_CH", "it_IT", "it_CH", "es_ES", "pt_PT", "nl_NL", "pl_PL"]
UDHR_LANGS = ["de", "fr", "it", "es", "pt", "nl", "pl"]


def generated(locale: str, n: int, seed: int) -> tuple[list[tuple[str, list, str]], int]:
    """n sentences (text, [(start, end, "STREET_ADDRESS")], language) and how many Faker addresses had no number."""
    lang = locale[:2]
    fake = Faker("it_IT" if locale == "it_CH" else locale)
    fake.seed_instance(seed)
    rng = random.Random(seed)
    docs, numberless = [], 0
    while len(docs) < n:
        if locale == "it_CH":
            street = f"{fake.street_name()} {fake.building_number()}"
        else:
            street = " ".join(fake.street_address().split())
        if not any(c.isdigit() for c in street):
            numberless += 1
            continue
        template = rng.choice(TEMPLATES[lang])
        before, after = template.split("{A}")
        before = before.format(P=fake.postcode(), C=fake.city())
        after = after.format(P=fake.postcode(), C=fake.city())
        docs.append((before + street + after, [(len(before), len(before) + len(street), "STREET_ADDRESS")], lang))
    return docs, numberless


def real_texts() -> dict[str, tuple[str, list[str]]]:
    """Corpus name -> (language, texts), none holding a street address."""
    bdpm = [line.split("\t")[1] for line in (DATA / "opendata" / "fr_medicines_bdpm" / "CIS_bdpm.txt")
            .read_text(encoding="utf-8").splitlines()]
    with (DATA / "opendata" / "open_textbook_library" / "OTL.csv").open(encoding="utf-8", newline="") as f:
        books = list(csv.DictReader(f))
    out = {"BDPM medicine names (fr)": ("fr", bdpm),
           "OTL titles (en)": ("en", [b["Title"] for b in books]),
           "OTL descriptions (en)": ("en", [b["Description"] for b in books])}
    rows = [json.loads(line) for line in (DATA / "language" / "udhr_151_languages.jsonl")
            .read_text(encoding="utf-8").splitlines()]
    for lang in UDHR_LANGS:
        out[f"UDHR paragraphs ({lang})"] = (lang, [r["text"] for r in rows if r["iso639_1"] == lang])
    return out


def echr(lang: str, size: int = 100) -> list[str]:
    """The ECHR decisions of a language as pieces of `size` tokens, joined by spaces."""
    path = DATA / "pii" / "echr_fr_es_train" / f"{lang.upper()}-manual-train.tsv"
    tokens = [line.split(" ")[0] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [" ".join(tokens[i:i + size]) for i in range(0, len(tokens), size)]


def addresses(lang: str, texts: list[str]) -> list[list[tuple[int, int, str]]]:
    return [[s for s in row if s[2] == "ADDRESS"] for row in load_ner([lang]).backend.find(texts)]


def main(argv: list[str] | None = None) -> int:
    if os.environ.get("PYTHONHASHSEED") != "0":  # some Faker locales draw cities from sets: fix their order
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=2, help="Faker and template seed (1 was used to tune; report 2)")
    ap.add_argument("--n", type=int, default=200, help="sentences per locale")
    ap.add_argument("--out", type=Path, help="write the markdown section into this file (replacing its earlier run)")
    ap.add_argument("--show", type=int, default=5, help="misses and false alarms to print per locale / corpus")
    args = ap.parse_args(argv)

    heading = f"## Seed {args.seed}" + (" (held out)" if args.seed != 1 else " (in-sample: tuned on it)")
    lines = [heading, "", f"Generated text: {args.n} sentences per locale, Faker {_faker_version()}.",
             "", "| locale | recall | precision | TP | FP | FN | Faker addresses without a number (left out) |",
             "|---|---|---|---|---|---|---|"]
    shown = []
    total = Counter()
    for locale in LOCALES:
        docs, numberless = generated(locale, args.n, args.seed)
        predicted = dict(enumerate(addresses(locale[:2], [t for t, _, _ in docs])))
        tp, fp, fn, _, _ = score(docs, predicted)
        t, f, m = tp["ADDRESS"], fp["ADDRESS"], fn["ADDRESS"]
        total.update(tp=t, fp=f, fn=m)
        lines.append(f"| {locale} | {t / (t + m):.3f} | {t / (t + f) if t + f else float('nan'):.3f} | {t} | {f} | {m}"
                     f" | {numberless} |")
        for i, (text, gold, _) in enumerate(docs):
            gs, ge, _ = gold[0]
            hit = [text[s:e] for s, e, _ in predicted[i] if s < ge and gs < e]
            wrong = [text[s:e] for s, e, _ in predicted[i] if not (s < ge and gs < e)]
            if (not hit or wrong) and sum(x[0] == locale for x in shown) < args.show:
                shown.append((locale, text[gs:ge], hit, wrong))
    t, f, m = total["tp"], total["fp"], total["fn"]
    lines.append(f"| all | {t / (t + m):.3f} | {t / (t + f):.3f} | {t} | {f} | {m} | |")
    lines += ["", "Real text without street addresses (the same for every seed):", "",
              "| corpus | texts | texts with a false ADDRESS | share |", "|---|---|---|---|"]
    alarms = []
    for name, (lang, texts) in real_texts().items():
        found = addresses(lang, texts)
        bad = [(texts[i], row) for i, row in enumerate(found) if row]
        lines.append(f"| {name} | {len(texts)} | {len(bad)} | {len(bad) / len(texts):.2%} |")
        alarms += [(name, text[s:e]) for text, row in bad[:args.show] for s, e, _ in row]
    for lang in ("fr", "es"):
        texts = echr(lang)
        spans = Counter(t[s:e] for t, row in zip(texts, addresses(lang, texts)) for s, e, _ in row)
        lines.append(f"| ECHR decisions ({lang}), listed below | {len(texts)} | {sum(spans.values())} spans | |")
        alarms += [(f"ECHR {lang} (to judge)", f"{s} ×{n}") for s, n in spans.items()]
    lines += ["", "False ADDRESS spans on real text (public text, shown in full): "
              + ("; ".join(f"{n}: «{s}»" for n, s in alarms) or "none") + ".", ""]
    report = "\n".join(lines)
    print(report)
    for locale, gold, hit, wrong in shown:
        print(f"{locale}: gold «{gold}» found {hit} false {wrong}")
    if args.out:
        write_section(args.out, heading, report + "\n")
    return 0


def _faker_version() -> str:
    from importlib.metadata import version
    return version("faker")


if __name__ == "__main__":
    sys.exit(main())
