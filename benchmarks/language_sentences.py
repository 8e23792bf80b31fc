"""Language identification on real sentences the project does not hold, in all 75 of lingua's languages, read in
place: treebanks, news and blogs (`--corpus sentences`), and web sentences (`--corpus web`).

    python benchmarks/language_sentences.py DIR [--corpus sentences|web] [--split dev|test] [--models step,cld2,...]
        [--out benchmarks/results/language_sentences_dev.md]

DIR holds the repositories of SETS and WEB as `owner+name/`, checkouts or bare git directories (`owner+name/repo`,
read at the commit below), as for benchmarks/names_labelled.py.

`sentences`: the `# text =` lines of Universal Dependencies files (news, web, Wikipedia, fiction, legal text), the
sentences of MasakhaNER 2.0 (news) with their tokens joined by spaces, the Catalan side of Global Voices (blog news),
the Malaysian Malay and Bosnian news sentences of the DSL shared task's gold test sets (DSLCC 1.0 and 2.0, VarDial
2014-2015), and, for Maori, Mongolian, Punjabi, Somali, Sotho and Tsonga, which no treebank covers, lingua's test
sentences. `web`: lingua's test sentences for every language (1,000 a language drawn from the Leipzig Wortschatz
web corpora, from other websites than lingua's training data), except Malay, whose file is mostly Indonesian (a
fifth of its lines hold an Indonesian-only word, one in twenty a Malaysian one): its rows are DSLCC's Malay.

Sentences under MIN_CHARS characters are left out. Each language's sentences, in file order, are cut into blocks of
BLOCK: even blocks are the dev split (where settings are chosen), odd ones the test split (measured after they are),
so that a document's sentences mostly stay on one side; each split keeps up to PER_LANGUAGE sentences, evenly
spaced. Every sentence is identified alone, at the step's default threshold; "und" counts as wrong. Matching:
benchmarks/language_accuracy.matches.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "training")]

from language_accuracy import MODELS, UND, matches, pct  # noqa: E402
from names_multi import read_in  # noqa: E402

MIN_CHARS = 20
BLOCK = 20
PER_LANGUAGE = 200
THRESHOLD = 0.5  # LanguageConfig's default

UD = "UniversalDependencies/UD_"
MASAKHA = ("masakhane-io/masakhane-ner", "ba5843cd08aa491d5f96a5e809e71eb9ec461391")
DSLCC = ("alvations/bayesmax", "2be94921300daeb9a7a78bbb5454ef5001d6cdec")
LINGUA = ("pemistahl/lingua-py", "754ce21122c083a7200763015fdaf7cda8d85453")


def dslcc(label: str) -> list[str]:
    """DSLCC's gold test files (`sentence<TAB>label`), read for one label: "my" is Malaysian Malay."""
    return [f"bayesmax/data/DSLCC-v{v}.0/gold/test-gold.txt#{label}" for v in (1, 2)]


def lingua(lang: str) -> list[str]:
    return [f"language-testdata/sentences/{lang}.txt"]


# language: (repository, commit, paths); a UD path ending in "-ud-" is read as its dev and its test file
SETS = {
    "af": (UD + "Afrikaans-AfriBooms", "a6dd726120c8bf1a0f8fb40f6a9ca15e880a192a", ["af_afribooms-ud-"]),
    "sq": (UD + "Albanian-STAF", "22ae839b1d7c78005e900dd97747f0739b233c42", ["sq_staf-ud-"]),
    "ar": (UD + "Arabic-PUD", "be733f45d21f42d506c62930f806ed2182a5ee3d", ["ar_pud-ud-test.conllu"]),
    "hy": (UD + "Armenian-ArmTDP", "90fe19c2cc3942c4ab53c08e8aa09770c1177ab3", ["hy_armtdp-ud-"]),
    "az": (UD + "Azerbaijani-TueCL", "0f68519f15a22a82e0de9eb899a4f4d50ab4c455", ["az_tuecl-ud-test.conllu"]),
    "eu": (UD + "Basque-BDT", "b103756e7d3dca0130807308c73eb170fdba5394", ["eu_bdt-ud-"]),
    "be": (UD + "Belarusian-HSE", "1233cdd9e512a426e31cdcf95dcb0bd3a4752e54", ["be_hse-ud-"]),
    "bn": (UD + "Bengali-BRU", "07ee0ffb45ab0c20022a20e3888b354be1374b42", ["bn_bru-ud-test.conllu"]),
    "bs": (*DSLCC, dslcc("bs")),
    "bg": (UD + "Bulgarian-BTB", "b5cd6324b2015dbf3cd328ddebefc54dceddd202", ["bg_btb-ud-"]),
    "ca": ("Softcatala/parallel-catalan-corpus", "3d45820dd1f9b9ff3d7c453ce8cb429b6f9a8640",
           ["eng-cat/globalvoices.en-ca.ca"]),
    "zh": (UD + "Chinese-GSDSimp", "eb3aed31ebb170897405ee5cd1db83a1a0b11864", ["zh_gsdsimp-ud-"]),
    "hr": (UD + "Croatian-SET", "54322513ea2a96eae0b974d1702d327d5785078f", ["hr_set-ud-"]),
    "cs": (UD + "Czech-FicTree", "6fce06709b29e4d24f88bc1871bfe2bb3edff0f9", ["cs_fictree-ud-"]),
    "da": (UD + "Danish-DDT", "85faf86dc39f735722925fb1e822070d83649068", ["da_ddt-ud-"]),
    "nl": (UD + "Dutch-Alpino", "95e374a608d114ec6c6b32f0fbd5f324d29ef286", ["nl_alpino-ud-"]),
    "en": (UD + "English-EWT", "15d613d8447b3478787d4c278730a1e48a945efb", ["en_ewt-ud-"]),
    "eo": (UD + "Esperanto-Prago", "c360b587ce258dd1463ee09bc642ea2c27deacac", ["eo_prago-ud-test.conllu"]),
    "et": (UD + "Estonian-EWT", "018e4ff3d004b7da291919d2e31aad65342dcc48", ["et_ewt-ud-"]),
    "fi": (UD + "Finnish-TDT", "5e3a88a671ea673fa330e10cc59f54da587a95a7", ["fi_tdt-ud-"]),
    "fr": (UD + "French-GSD", "830e2782304af08b3cc1c9250475343e04274d81", ["fr_gsd-ud-"]),
    "lg": (*MASAKHA, ["MasakhaNER2.0/data/lug/"]),
    "ka": (UD + "Georgian-GLC", "9b8a459a55307a891f10404a6366428840dcafda", ["ka_glc-ud-"]),
    "de": (UD + "German-GSD", "297fcf350481058d0737a27f0f8fd03b2eadd67a", ["de_gsd-ud-"]),
    "el": (UD + "Greek-GDT", "1485f849d5ac7fcafa092a75804b41dbb1a3f194", ["el_gdt-ud-"]),
    "gu": (UD + "Gujarati-GujTB", "441c3c273c2b80460dd474e51414cf6fb7b986cf", ["gu_gujtb-ud-test.conllu"]),
    "he": (UD + "Hebrew-HTB", "a6d496c877d0d07d97bcfdb2de11d245ef94256a", ["he_htb-ud-"]),
    "hi": (UD + "Hindi-PUD", "8bc630f73e0737ce5ed9eaa97abf11f172ecc9bd", ["hi_pud-ud-test.conllu"]),
    "hu": (UD + "Hungarian-Szeged", "8f08ba648e6f6345212a721b7cb1ad78c5924f0e", ["hu_szeged-ud-"]),
    "is": (UD + "Icelandic-Modern", "1544211214896c757bde3d09beeb06cfc4c5a965", ["is_modern-ud-"]),
    "id": (UD + "Indonesian-GSD", "89491e4d51c15da157175c303213ae5ff6f05f9d", ["id_gsd-ud-"]),
    "ga": (UD + "Irish-IDT", "ecefd4dfddc5da6d56a56429535e64aec060ec4f", ["ga_idt-ud-"]),
    "it": (UD + "Italian-ISDT", "689c1bf3c7d132903d2196ac69b76a0933c90997", ["it_isdt-ud-"]),
    "ja": (UD + "Japanese-GSD", "7bc20119f476b552635e0640644e577b6fd3606b", ["ja_gsd-ud-"]),
    "kk": (UD + "Kazakh-KTB", "e9f3b87a5faa95cf0b4cd97d62f2de8c90ee8153", ["kk_ktb-ud-test.conllu"]),
    "ko": (UD + "Korean-GSD", "925eec22693d37a922eb546c6a9500844d271d51", ["ko_gsd-ud-"]),
    "la": (UD + "Latin-PROIEL", "ae7c7c5bd92e2ab9d2c58cf8184dd72028ca54eb", ["la_proiel-ud-"]),
    "lv": (UD + "Latvian-LVTB", "aaedfc18ee5ff98d93fce737a97f9f9ca272b074", ["lv_lvtb-ud-dev.conllu"]),
    "lt": (UD + "Lithuanian-ALKSNIS", "46ffdba3396a793c3f0f47435ff9b7066c9aefa0", ["lt_alksnis-ud-"]),
    "mk": (UD + "Macedonian-MTB", "bd8a5c0d467d6abbb6c5c7d9031d63dc66d836ef", ["mk_mtb-ud-test.conllu"]),
    "ms": (*DSLCC, dslcc("my")),
    "mi": (*LINGUA, lingua("mi")),
    "mr": (UD + "Marathi-UFAL", "c02a08246fdb6c99257d7c5bc6ef14f736a995bf", ["mr_ufal-ud-"]),
    "mn": (*LINGUA, lingua("mn")),
    "nb": (UD + "Norwegian-Bokmaal", "e83586ff8b324f147e767dccd7ed801b3666ca08", ["no_bokmaal-ud-"]),
    "nn": (UD + "Norwegian-Nynorsk", "d332ca7108148ceb6d38859affdc17462bcd9860", ["no_nynorsk-ud-"]),
    "pa": (*LINGUA, lingua("pa")),
    "fa": (UD + "Persian-Seraji", "e53af38f4adc0edcdc056b8a2378cad791dc322a", ["fa_seraji-ud-"]),
    "pl": (UD + "Polish-PDB", "27235e131faed50feb291faed1ff2fa5389a06be", ["pl_pdb-ud-"]),
    "pt": (UD + "Portuguese-Bosque", "5de7ac34028ff6d1718031a4b0ae895717ed8dbe", ["pt_bosque-ud-"]),
    "ro": (UD + "Romanian-RRT", "cc00bf852bc3c19ac345457eef8b3e5665392a72", ["ro_rrt-ud-"]),
    "ru": (UD + "Russian-GSD", "5400f2fd7264b7699727bb61b09f53841899df26", ["ru_gsd-ud-"]),
    "sr": (UD + "Serbian-SET", "c88193deceecd1c5332f927c1aa0f888085f63f7", ["sr_set-ud-"]),
    "sn": (*MASAKHA, ["MasakhaNER2.0/data/sna/"]),
    "so": (*LINGUA, lingua("so")),
    "st": (*LINGUA, lingua("st")),
    "sk": (UD + "Slovak-SNK", "d1ab58f827508e7c18610b931786f3b4a3a6e1be", ["sk_snk-ud-"]),
    "sl": (UD + "Slovenian-SSJ", "17011b12eae4e522da4d1eeeffd439085466623c", ["sl_ssj-ud-"]),
    "es": (UD + "Spanish-GSD", "57c045644664e5c1e169263cc4e3b95e40c078ba", ["es_gsd-ud-"]),
    "sw": (*MASAKHA, ["MasakhaNER2.0/data/swa/"]),
    "sv": (UD + "Swedish-Talbanken", "30067217d275233ed460d0c0abafeaf22d63a3d2", ["sv_talbanken-ud-"]),
    "tl": (UD + "Tagalog-TRG", "7151bec17280ebbfdb61f82126649f7b95216703", ["tl_trg-ud-test.conllu"]),
    "ta": (UD + "Tamil-TTB", "afe55e0c8ee0e5bfdb2c1cdb287880a22d254b58", ["ta_ttb-ud-"]),
    "te": (UD + "Telugu-MTG", "fea14d143ec43ba42b0b82381b55fd509839a1a0", ["te_mtg-ud-"]),
    "th": (UD + "Thai-PUD", "516638d39adfbc03fa3e7f7b33ce59555055a2d9", ["th_pud-ud-test.conllu"]),
    "ts": (*LINGUA, lingua("ts")),
    "tn": (*MASAKHA, ["MasakhaNER2.0/data/tsn/"]),
    "tr": (UD + "Turkish-IMST", "bcd48daa9957794a9137d85a4e2a115cdcdd4b1a", ["tr_imst-ud-"]),
    "uk": (UD + "Ukrainian-IU", "21f641ba6109044ce9aafd4b2cbfa20a4ac6e479", ["uk_iu-ud-"]),
    "ur": (UD + "Urdu-UDTB", "ed8da673c32352fb78036808349a9546e21fc78a", ["ur_udtb-ud-"]),
    "vi": (UD + "Vietnamese-VTB", "e8fa54835582fb5d0c767f19f0992675726fa084", ["vi_vtb-ud-"]),
    "cy": (UD + "Welsh-CCG", "78e19757e590d92bba26cbd145f56779ce61d2a3", ["cy_ccg-ud-"]),
    "xh": (*MASAKHA, ["MasakhaNER2.0/data/xho/"]),
    "yo": (UD + "Yoruba-YTB", "d07fe63b40512ac904a6519bae1658e9b05109ce", ["yo_ytb-ud-test.conllu"]),
    "zu": (*MASAKHA, ["MasakhaNER2.0/data/zul/"]),
}
WEB = {lang: (*LINGUA, lingua(lang)) for lang in SETS} | {"ms": SETS["ms"]}
"""Licences as the repositories state them: Universal Dependencies treebanks CC BY-SA (most), CC BY or CC BY-NC-SA
(each treebank's LICENSE.txt); MasakhaNER 2.0 CC BY 4.0 (research); Global Voices CC BY 3.0; lingua-py Apache 2.0
(its test sentences come from the Leipzig corpora, whose own terms it does not state); DSLCC: no licence in the
repository (a research shared task's release of news text). All are only read, to measure, never trained on, and
nothing of them is kept in the project."""


def sentences(content: str, path: str) -> list[str]:
    """The sentences of one file: CoNLL-U `# text =` lines, BIO token columns joined by spaces (MasakhaNER's dev and
    test files), the lines of a label (`file#label`: `sentence<TAB>label` lines), or plain lines."""
    if "#" in path:
        label = path.rsplit("#", 1)[1]
        return [cols[0].strip() for cols in (line.split("\t") for line in content.splitlines()) if cols[-1] == label]
    if path.endswith(".conllu"):
        return [line[len("# text = "):].strip() for line in content.splitlines() if line.startswith("# text = ")]
    if path.endswith(("/dev.txt", "/test.txt")):
        out, tokens = [], []
        for line in content.splitlines() + [""]:
            if line.strip():
                tokens.append(line.split(" ")[0])
            elif tokens:
                out.append(" ".join(tokens))
                tokens = []
        return out
    return [line.strip() for line in content.splitlines() if line.strip()]


def read_set(root: Path, lang: str, sets: dict = SETS) -> list[str]:
    repo, commit, paths = sets[lang]
    files = [f"{p}{s}" for p in paths for s in (("dev.conllu", "test.conllu") if p.endswith("-ud-") else
                                                  ("dev.txt", "test.txt") if p.endswith("/") else ("",))]
    out = []
    for path in files:
        out += sentences(read_in(root, repo, commit, path.split("#")[0]), path)
    return [s for s in out if len(s) >= MIN_CHARS]


def split(texts: list[str], which: str) -> list[str]:
    part = [t for i, t in enumerate(texts) if (i // BLOCK) % 2 == (which == "test")]
    if len(part) <= PER_LANGUAGE:
        return part
    return [part[round(k * (len(part) - 1) / (PER_LANGUAGE - 1))] for k in range(PER_LANGUAGE)]


def length_band(n: int) -> str:
    return "20-59" if n < 60 else "60-119" if n < 120 else "120+"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--corpus", choices=("sentences", "web"), default="sentences")
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--models", default="step,chain,cld2,fasttext,lingua")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    sets = SETS if args.corpus == "sentences" else WEB
    rows = [(lang, text) for lang in sets for text in split(read_set(args.root, lang, sets), args.split)]
    texts = [t for _, t in rows]
    models = args.models.split(",")
    sources = ("Universal Dependencies, MasakhaNER 2.0 (lg, sn, sw, tn, xh, zu), Global Voices (ca), DSLCC's news "
               "(bs, ms) and lingua's test sentences (mi, mn, pa, so, st, ts)" if args.corpus == "sentences" else
               "lingua's test sentences (Leipzig web corpora), DSLCC's news for ms")
    lines = [f"# Language identification on real {'web ' if args.corpus == 'web' else ''}sentences: {args.split} "
             "split", "",
             f"`python benchmarks/language_sentences.py DIR --corpus {args.corpus} --split {args.split}` (DIR: the "
             f"repositories of {'SETS' if args.corpus == 'sentences' else 'WEB'}). {len(rows):,} sentences of "
             f"{MIN_CHARS}+ characters in {len(sets)} languages (up to {PER_LANGUAGE} each; mean "
             f"{sum(map(len, texts)) / len(texts):.0f} characters), threshold {THRESHOLD}, \"und\" counted wrong. "
             f"Sources: {sources}. None is in ../shared/data or the project and no model of the step was trained on "
             "them (lingua's own models were made from other websites of the same corpora); the settings added for "
             "them (the xh/zu group, marker words of Croatian, Serbian, Malay and Indonesian, ...) were chosen on "
             "the dev split, then the test split was measured after them. lingua knows Serbian in Cyrillic only. "
             "`s`: seconds for all sentences, one process.",
             "", "| model | accuracy | macro | `und` | 20-59 chars | 60-119 | 120+ | s |",
             "|---|---|---|---|---|---|---|---|"]
    results = {}
    for name in models:
        build, about = MODELS[name]
        _, run = build()
        t = time.perf_counter()
        langs, scores = run(texts)
        took = time.perf_counter() - t
        preds = [lang if score >= THRESHOLD else UND for lang, score in zip(langs, scores)]
        results[name] = preds
        right = [matches(gold, pred) for (gold, _), pred in zip(rows, preds)]
        by_lang, by_band = defaultdict(list), defaultdict(list)
        for (gold, text), ok in zip(rows, right):
            by_lang[gold].append(ok)
            by_band[length_band(len(text))].append(ok)
        macro = sum(sum(v) / len(v) for v in by_lang.values()) / len(by_lang)
        und = sum(p == UND for p in preds) / len(preds)
        bands = [pct(sum(by_band[b]) / len(by_band[b])) if by_band[b] else "-" for b in ("20-59", "60-119", "120+")]
        lines.append(f"| {name}: {about} | {pct(sum(right) / len(right))} | {pct(macro)} | {pct(und)} | "
                     + " | ".join(bands) + f" | {took:.1f} |")
        print(lines[-1], flush=True)
    first = models[0]
    lines += ["", f"## Per language, `{first}` (worst first)", "",
              "| language | source | sentences | accuracy | " + " | ".join(models[1:])
              + " | most frequent wrong answers |",
              "|---|---|---|---|" + "---|" * len(models[1:]) + "---|"]
    per = []
    for lang in sets:
        idx = [i for i, (g, _) in enumerate(rows) if g == lang]
        acc = {m: sum(matches(lang, results[m][i]) for i in idx) / len(idx) for m in models}
        wrong = Counter(results[first][i] for i in idx if not matches(lang, results[first][i]))
        per.append((acc[first], lang, len(idx), acc, wrong))
    for a, lang, n, acc, wrong in sorted(per, key=lambda x: (x[0], x[1])):
        source = sets[lang][0].split("/")[-1]
        lines.append(f"| {lang} | {source} | {n} | {pct(a)} | " + " | ".join(pct(acc[m]) for m in models[1:])
                     + f" | {', '.join(f'{k} ({v})' for k, v in wrong.most_common(3))} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
