"""Train the word and character n-gram counts that decide between Bosnian, Croatian and Serbian (Latin script), and
between Malay and Indonesian, when no marker word leads (commons_pipelines/curate/variants.py): a naive Bayes model
per group, written to commons_pipelines/curate/variants.json.gz.

    python training/variants.py DIR [--out PATH]

DIR holds the repositories of SOURCES as `owner+name/` (checkouts or bare git directories, read at the commit
below, as for training/names_multi.py --real-from). The text is parallel, so the members differ in their words and
spelling, not in what they talk about:
- NTREX-128 (CC BY-SA 4.0): the 1,997 sentences of the WMT 2019 news test set translated into each language;
- FLORES-200 devtest (CC BY-SA 4.0), as kept in OPUS-MT-testsets: 1,012 Wikipedia sentences a language; its
  Serbian is Cyrillic, transliterated to Latin one to one;
- TICO-19 test (CC0), as kept in OPUS-MT-testsets: 2,100 COVID-19 sentences in Malay and Indonesian.
The model is a derivative of CC BY-SA 4.0 text and carries that licence and these attributions (its `about`).
Features: lower-cased words (both groups) and, for bs/hr/sr, the character 3- to 5-grams of each word with its
boundaries; a feature seen fewer than MIN_COUNT times over a group's text is dropped. Chosen on the dev splits of
benchmarks/language_sentences.py (treebank and web sentences), never on their test splits.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).parent)]

from commons_pipelines.curate.variants import GRAMS, LATIN, features  # noqa: E402
from names_multi import read_in  # noqa: E402

OUT = ROOT / "commons_pipelines" / "curate" / "variants.json.gz"
NTREX = ("MicrosoftTranslator/NTREX", "8561f6a622db9edad1217683e5c83daefd8bb2bf")
OPUS = ("Helsinki-NLP/OPUS-MT-testsets", "ac0f19c0be3cb4e0d9450fcb2d7a9847c4bdd180")
FLORES = "datasets/facebook/flores/flores200_dataset/devtest/"
TICO = "datasets/tico19/testsets/"
SOURCES = {
    "bs": [(*NTREX, "NTREX-128/newstest2019-ref.bos.txt"), (*OPUS, FLORES + "bos_Latn.devtest")],
    "hr": [(*NTREX, "NTREX-128/newstest2019-ref.hrv.txt"), (*OPUS, FLORES + "hrv_Latn.devtest")],
    "sr": [(*NTREX, "NTREX-128/newstest2019-ref.srp-Latn.txt"), (*OPUS, FLORES + "srp_Cyrl.devtest")],
    "ms": [(*NTREX, "NTREX-128/newstest2019-ref.msa.txt"), (*OPUS, FLORES + "zsm_Latn.devtest"),
           (*OPUS, TICO + "en-ms/tico19-test.ms")],
    "id": [(*NTREX, "NTREX-128/newstest2019-ref.ind.txt"), (*OPUS, FLORES + "ind_Latn.devtest"),
           (*OPUS, TICO + "en-id/tico19-test.id")],
}
GROUPS = {"bs hr sr": ("bs", "hr", "sr"), "ms id": ("ms", "id")}
MIN_COUNT = 3
ALPHA = 0.1


def sentences(root: Path, lang: str) -> list[str]:
    out = []
    for repo, commit, path in SOURCES[lang]:
        lines = [x.strip() for x in read_in(root, repo, commit, path).splitlines() if x.strip()]
        out += ["".join(LATIN.get(c, c) for c in x) for x in lines] if "Cyrl" in path else lines
    return out


def train(root: Path) -> dict:
    model = {"about": "Naive Bayes counts of training/variants.py, from NTREX-128 (Microsoft, CC BY-SA 4.0), "
                      "FLORES-200 devtest (Meta, CC BY-SA 4.0) and TICO-19 (CC0); this file: CC BY-SA 4.0",
             "alpha": ALPHA, "min_count": MIN_COUNT, "groups": {}}
    for name, members in GROUPS.items():
        grams = name in GRAMS
        counts = {m: Counter(f for t in sentences(root, m) for f in features(t, grams)) for m in members}
        total = Counter()
        for c in counts.values():
            total.update(c)
        kept = sorted(f for f, n in total.items() if n >= MIN_COUNT)
        logp = {}
        for m in members:
            denominator = sum(counts[m][f] for f in kept) + ALPHA * len(kept)
            logp[m] = [round(math.log((counts[m][f] + ALPHA) / denominator), 3) for f in kept]
        model["groups"][name] = {"features": kept, "logp": logp}
        print(f"{name}: {len(kept):,} features from {', '.join(f'{m} {sum(counts[m].values()):,}' for m in members)}")
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    data = json.dumps(train(args.root), ensure_ascii=False, separators=(",", ":")).encode()
    args.out.write_bytes(gzip.compress(data, mtime=0))
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
