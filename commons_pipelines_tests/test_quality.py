import csv
import json
import re

import pyarrow as pa
import pytest

from commons_pipelines.curate.quality import GOPHER, QualityFilter
from commons_pipelines.curate.step import run_steps
from commons_pipelines.spec import QualityConfig

from .conftest import OTL, SHARED_DATA

BOOKS = SHARED_DATA / "dedup" / "gutenberg" / "documents"
UDHR = SHARED_DATA / "language" / "udhr_151_languages.jsonl"


def paragraphs(name: str) -> list[str]:
    text = (BOOKS / name).read_text(encoding="utf-8")
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if len(p.split()) >= 50]


def judge(texts: list[str], config: QualityConfig, columns=("text",)) -> tuple[list[str], list[tuple[str, str]]]:
    """Kept texts, and (text, reason) of each rejected one."""
    step, rejected = QualityFilter(list(columns), config), []
    batch = pa.RecordBatch.from_pydict({"text": pa.array(texts, pa.large_string()), "n": list(range(len(texts)))})
    out = list(run_steps([step], [batch], lambda name, rows, reason: rejected.extend(
        (t, reason) for t in rows.column("text").to_pylist())))
    return [t for b in out for t in b.column("text").to_pylist()], rejected


@pytest.fixture(scope="module")
def prose() -> list[str]:
    return paragraphs("pgrepo__105-0.txt")[:300]


def test_gopher_rules_keep_real_prose(prose):
    config = QualityConfig(**GOPHER)
    for name in ("pgrepo__105-0.txt", "clocasto__pg1661.txt", "clocasto__pg98.txt"):
        texts = paragraphs(name)
        kept, rejected = judge(texts, config)
        assert len(texts) > 500 and len(kept) >= 0.97 * len(texts), (name, len(kept), len(texts))
    descriptions = [r["Description"] for r in csv.DictReader(OTL.open(encoding="utf-8"))]
    kept, _ = judge(descriptions, QualityConfig(**{**GOPHER, "min_words": None}))
    assert len(kept) >= 0.97 * len(descriptions)
    english = [json.loads(line)["text"] for line in UDHR.open(encoding="utf-8") if '"iso639_1": "en"' in line]
    kept, rejected = judge(["\n".join(english)], QualityConfig(**GOPHER))  # the declaration as one document
    assert len(english) > 50 and rejected == []


def test_each_rule_rejects_a_failing_text_with_its_reason(prose):
    good = prose[0]
    words = good.split()
    cases = {
        "min_words": " ".join(words[:20]),
        "max_words": " ".join(words * 3),
        "min_mean_word_length": " ".join(["a", "to", "be", "or", "not", "I", "am", "so"] * 10),
        "max_mean_word_length": " ".join(w * 4 for w in words),
        "max_symbol_ratio": " ".join(f"#{w}" if i % 5 == 0 else w for i, w in enumerate(words)),
        "max_digit_ratio": good + " " + " ".join(["4815162342"] * 12),
        "min_alpha_words": " ".join(w if i % 4 else "--" for i, w in enumerate(words)),
        "max_duplicate_lines": "\n".join([good[:80]] * 3 + [p[:300] for p in prose[1:4]]),
        "max_top_ngram": " ".join(words[:40]) + " " + " ".join(["cookie jar"] * 40),
        "max_duplicate_ngrams": " ".join(words[:30] * 3),
        "boilerplate": good + "\nLorem ipsum dolor sit amet.",
    }
    limits = {**GOPHER, "max_words": len(words) * 2, "max_digit_ratio": 0.1, "boilerplate": True}
    for rule, text in cases.items():
        kept, rejected = judge([good, text], QualityConfig(**limits))
        assert kept == [good] and rejected == [(text, f"quality:{rule}")], rule
        off = QualityConfig(**{**limits, rule: False if rule == "boilerplate" else None})
        assert [r for _, r in judge([text], off)[1]] != [f"quality:{rule}"], rule


def test_first_failing_rule_in_documented_order_names_the_reason():
    _, rejected = judge(["# 1 2"], QualityConfig(**GOPHER, max_digit_ratio=0.1))
    assert rejected == [("# 1 2", "quality:min_words")]
    _, rejected = judge(["# 1 2"], QualityConfig(max_symbol_ratio=0.1, max_digit_ratio=0.1))
    assert rejected == [("# 1 2", "quality:max_symbol_ratio")]


def test_boilerplate_lines_are_removed_and_columns_are_joined(prose):
    page = f"{prose[0]}\nThis site uses cookies to improve your experience.\nPlease enable JavaScript.\n{prose[1]}"
    kept, _ = judge([page], QualityConfig(boilerplate=True))
    assert kept == [f"{prose[0]}\n{prose[1]}"]
    _, rejected = judge(["Please enable JavaScript to view this page."], QualityConfig(boilerplate=True))
    assert [r for _, r in rejected] == ["quality:boilerplate"]
    batch = pa.RecordBatch.from_pydict({"title": ["Persuasion", None], "body": [prose[0], " ".join(prose[0].split()[:40])]})
    step = QualityFilter(["title", "body"], QualityConfig(min_words=42))
    assert step.process(batch).column("title").to_pylist() == ["Persuasion"]


def test_missing_column_is_named():
    batch = pa.RecordBatch.from_pydict({"title": ["x"], "body": ["y"]})
    with pytest.raises(ValueError, match=r"'description'.*columns present: title, body"):
        QualityFilter(["title", "description"], QualityConfig()).process(batch)
