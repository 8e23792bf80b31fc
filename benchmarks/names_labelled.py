"""Person names on public labelled text the project does not hold: one test split per language, read in place.

    python benchmarks/names_labelled.py DIR [--xx DIR] [--split test|dev] [--out benchmarks/results/names_labelled.md]

DIR holds the repositories of SETS as `owner+name/`, either as checkouts (`owner+name/<path>`) or as bare git
directories (`owner+name/repo`, read at the commit below). None of these files is in ../shared/data or in the
project; a run without them cannot make this table. Each set's sentences are joined into texts of five sentences
(never across two documents, where the file marks them) by training/names_multi.bio_texts, its person tag counts as
PERSON, and every text goes through the backend its language gets in a run (curate/pii/ner.load_ner). `--xx DIR`:
an xx_names candidate (training/names_multi.py --out DIR) instead of the package's, for the languages it serves.
NKJP is stored as 7z and read with py7zr (the `bench` extra); xx_names 1.2.0 trains on its other documents.
Matching: benchmarks/pii_accuracy.py's rule (overlap, one to one), by import.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "training")]

from names_languages import row, timed  # noqa: E402
from names_es import is_name  # noqa: E402
from names_multi import NKJP, NKJP_DEV, _git, labelled, read_in  # noqa: E402

KIND, CONLL02 = ("dhfbk/KIND", "a2ad139171ef7fde0dff0f8ea94d18356340ada9"), ("YaxinCui/conll", "0e6f90354523a663ddaca3253f8072d885142075")
LENER, BSNLP = ("peluz/lener-br", "4999cb7f63191f1d6904206f312eeca8f5b45c5a"), ("Babelscape/wikineural", "d2e28c770cba2b285e742529ae18ed849e336c65")
MEDDOCAN = ("PlanTL-GOB-ES/SPACCC_MEDDOCAN", "783a6df385c975b328c99bcffb54196a9ba4078a")
EUROPARL = ("ixa-ehu/ner-evaluation-corpus-europarl", "40e84e215a35c7e46c1b169ad88ab55108a8b0de")
POLDEEPNER = ("CLARIN-PL/PolDeepNer", "1cb82101c4dffc38c1dc1fef290f640cf46109fe")
LER, LER_LICENCE = (("elenanereiss/Legal-Entity-Recognition", "f9c2b950898c56fdc328e553d5537c7611a0ffb1"),
                    "CC BY 4.0 (the README's data section; its footer: CC BY-NC-SA 4.0)")
RESEARCH = "research use (CoNLL); the repository states none"
# language, split, what, (repository, commit), path, licence as stated, genre
SETS = [
    ("de", "test", "GermEval 2014, test", ("davidsbatista/NER-datasets", "db7ff3ca4ba1df39907f8bdc036a556fed5ecde7"),
     "GermEval2014/NER-de-test.tsv", "CC BY 4.0 (GermEval's site; the repository states none)", "Wikipedia, news"),
    ("it", "test", "KIND (NERMuD, EVALITA 2023), Wikinews test", KIND, "evalita-2023/WN_test.tsv", "CC BY-NC 4.0",
     "news"),
    ("pt", "test", "LeNER-Br, test", LENER, "leNER-Br/test/test.conll", "MIT", "Brazilian court decisions"),
    ("nl", "test", "CoNLL-2002 Dutch, testb", CONLL02, "ned.testb", RESEARCH, "news (De Morgen, 2000)"),
    ("pl", "test", "BSNLP 2017 Polish, 'trump' topic", BSNLP, "data/bsnlp/pl/test.conllu",
     "CC BY-NC-SA 4.0 (the repository's)", "web news"),
    ("pl", "test", "KPWr (n82), test", POLDEEPNER,
     "poldeepner/data/kpwr-ner-n82-test.iob", "GPL-3.0 (the repository's README); KPWr: CC BY 3.0 (not checked here)",
     "blogs, press, Wikipedia and more"),
    ("de", "test", "Universal NER, German PUD", ("UniversalNER/UNER_German-PUD", "47eb039b6d80079b280ba70efe4136413fb7af9c"),
     "de_pud-ud-test.iob2", "CC BY-SA 3.0", "news, Wikipedia (translated)"),
    ("es", "test", "CoNLL-2002 Spanish, testb", CONLL02, "esp.testb", RESEARCH, "news (EFE, 2000)"),
    ("de", "test", "Legal Entity Recognition, test (persons, judges, lawyers)", LER, "data/ler_test.conll", LER_LICENCE,
     "German federal court decisions"),
    ("de", "dev", "CoNLL-2003 German, testa", ("MaviccPRP/ger_ner_evals", "091199e6d30885f6bba18dfd1ba1c7ea1dd51898"),
     "corpora/conll2003/deuutf.testa", RESEARCH, "news (Frankfurter Rundschau, 1992)"),
    ("it", "dev", "KIND, Wikinews dev", KIND, "evalita-2023/WN_dev.tsv", "CC BY-NC 4.0", "news"),
    ("pt", "dev", "LeNER-Br, dev", LENER, "leNER-Br/dev/dev.conll", "MIT", "Brazilian court decisions"),
    ("nl", "dev", "CoNLL-2002 Dutch, testa", CONLL02, "ned.testa", RESEARCH, "news (De Morgen, 2000)"),
    ("pl", "dev", "BSNLP 2017 Polish, 'ec' topic", BSNLP, "data/bsnlp/pl/val.conllu",
     "CC BY-NC-SA 4.0 (the repository's)", "web news"),
    ("es", "dev", "CoNLL-2002 Spanish, testa", CONLL02, "esp.testa", RESEARCH, "news (EFE, 2000)"),
    ("de", "dev", "Legal Entity Recognition, dev (persons, judges, lawyers)", LER, "data/ler_dev.conll", LER_LICENCE,
     "German federal court decisions"),
    ("pl", "dev", f"NKJP 1M, first {NKJP_DEV} documents", NKJP[:2], NKJP[2],
     "GPL-3.0 (the repository's README); NKJP 1M: CC BY 4.0 (IPI PAN's nkjp1m dataset card)",
     "balanced: press, fiction, speech, web"),
    *[(lang, "test", "Europarl NER evaluation corpus", EUROPARL, f"{lang}-europarl.test.conll02",
       "Europarl's terms: no known copyright restrictions (the README)", "European Parliament proceedings")
      for lang in ("de", "it", "es")],
    ("es", "test", "MEDDOCAN, test (names)", MEDDOCAN, "corpus/test/brat", "CC BY 4.0 (README; LICENSE says MIT)",
     "clinical case reports"),
    ("es", "dev", "MEDDOCAN, dev (names)", MEDDOCAN, "corpus/dev/brat", "CC BY 4.0 (README; LICENSE says MIT)",
     "clinical case reports"),
]
"""Only read, never trained on. `dev`: where settings are chosen; `test`: measured once they are. MEDDOCAN's train
split is ../shared/data/pii/meddocan_es_train.jsonl (es_names trains on four fifths of it); its dev and test splits
are here, in brat (a folder of .txt and .ann), names only (names_es.is_name: kinship words are not counted)."""


def documents(root: Path, repo: str, commit: str, path: str) -> list[tuple[str, list]]:
    """(text, PERSON spans) of a set: texts of 5 sentences of a BIO file (of NKJP its dev documents), or the
    documents of a brat folder."""
    if not path.endswith("brat"):
        return labelled(root, repo, commit, path, dev=True)
    local = root / repo.replace("/", "+") / path
    names = (sorted(p.name for p in local.iterdir()) if local.is_dir() else
             [n.rsplit("/", 1)[-1] for n in _git(root, repo, "ls-tree", "--name-only", commit, path + "/").split()])
    out = []
    for name in (n for n in names if n.endswith(".txt")):
        text, ann = (read_in(root, repo, commit, f"{path}/{name[:-4]}{ext}") for ext in (".txt", ".ann"))
        spans = []
        for line in ann.splitlines():
            if line.startswith("T") and line.count("\t") >= 2:
                label, start, end = line.split("\t")[1].split(" ")[:3]
                if is_name(label, text[int(start):int(end)]):
                    spans.append((int(start), int(end), "PERSON"))
        out.append((text, sorted(spans)))
    return out


def backend(lang: str, candidate: Path | None):
    from commons_pipelines.curate.pii.ner import SpacyNer, _model, load_ner

    status = load_ner([lang], "required")
    if candidate is None or status.backend.backend_of(lang).split()[0] != "xx_names":
        return status.backend
    return SpacyNer({lang: _model(str(candidate))}, lang, {lang: f"{candidate.name} (candidate)"}, [lang])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", type=Path, help="the folder of the sets' repositories (owner+name/)")
    ap.add_argument("--xx", type=Path, help="an xx_names candidate to measure instead of the package's")
    ap.add_argument("--split", choices=("test", "dev"), default="test")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)

    lines = ["# Person names on public labelled text outside the project", "",
             f"Made by `python benchmarks/names_labelled.py DIR{' --xx DIR' if args.xx else ''} --split {args.split}` "
             "(see its docstring for DIR). PERSON precision and recall with the overlap rule of "
             "benchmarks/pii_accuracy.py; target: precision ≥ 0.80 and recall ≥ 0.85. Real text, manually "
             "labelled; texts of 5 sentences; each text to the backend of its set's language. Texts/s on 2 shared "
             "cores.", "",
             "| set | text | backend | precision | recall | names | TP | FP | FN | target met | texts/s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    sources = ["", "| language | set | repository @ commit, path | licence as stated | genre |", "|---|---|---|---|---|"]
    for lang, split, what, (repo, commit), path, licence, genre in SETS:
        if split != args.split:
            continue
        docs = [(t, e, lang) for t, e in documents(args.root, repo, commit, path)]
        ner = backend(lang, args.xx)
        found, seconds = timed(ner, [t for t, _, _ in docs])
        lines.append(row(f"{lang}: {what}", "real", ner.backend_of(lang), docs, found, seconds))
        sources.append(f"| {lang} | {what} | {repo} @ {commit[:7]}, `{path}` | {licence} | {genre} |")
        print(lines[-1], file=sys.stderr, flush=True)
    report = "\n".join(lines + sources) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
