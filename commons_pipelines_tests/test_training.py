"""training/person_names.py, which builds the English name model the package ships: its generated sentences label
exactly the names, real passages are labelled only where it is sure, and a small run trains a model that loads
where the NER backend loads the shipped one."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOKS = ROOT.parent / "shared" / "data" / "dedup" / "gutenberg" / "documents"
sys.path.insert(0, str(ROOT / "training"))

import person_names as P  # noqa: E402


@pytest.fixture(scope="module")
def gen():
    return P.Generator(7)


@pytest.fixture(scope="module")
def lex(gen):
    return P.lexicon(gen, BOOKS)


def test_name_lists_cover_many_locales_and_scripts(gen):
    firsts = {f for pool in gen.firsts for f in pool}
    assert len(gen.firsts) > 60 and len(firsts) > 15_000
    assert {"Olga", "Hiroshi", "Chinedu", "Zeynep", "Siobhán"} & firsts, "Latin, romanised and accented names"
    lasts = {w for pool in gen.lasts for w in pool}
    assert "Maciej" in firsts and "Kowalski" in lasts, "locales whose lists are split by gender (pl_PL)"
    assert any(w.endswith("dóttir") for w in lasts), "surnames built by rule (is_IS patronymics)"
    assert all(re.fullmatch(r"[^\W\d_]+(?:['’ -][^\W\d_]+)*", f) for f in firsts)


def test_generated_texts_label_the_names_and_nothing_else(gen):
    firsts = {f.lower() for pool in gen.firsts for f in pool}
    lasts = {w.lower() for pool in gen.lasts for name in pool for w in name.split("-")}
    data = gen.corpus(400)
    labelled = [text[s:e] for text, ents in data for s, e, _ in ents]
    assert len(labelled) > 300 and any(not ents for _, ents in data), "texts with names and texts without"
    for name in labelled:
        words = [w.strip(".").lower() for w in name.replace("-", " ").split()]
        first = name.split()[0].strip(".").lower()  # a first name may hold a hyphen: "Tsung-ming"
        assert first in firsts or words[-1] in lasts or len(first) == 1, name
    assert any(n.islower() for n in labelled) and any(n.isupper() for n in labelled)


def test_ambiguous_names_are_the_ones_that_are_also_words(lex):
    assert {"WILL", "GRACE", "BROWN", "LAW", "ENGLISH", "LATIN", "MAY", "ED"} <= lex.ambiguous
    assert not {"JAMES", "DAVID", "MICHAEL", "JACKSON", "KOWALSKI"} & lex.ambiguous
    assert {"WILL", "GRACE", "THE"} <= lex.words and not {"JAMES", "KOWALSKI"} & lex.words


def test_real_passages_label_only_what_is_sure(gen, lex):
    import spacy

    nlp = spacy.blank("en")
    texts = ["Mr. Knightley walked to Hartfield with Emma Woodhouse and James.",
             "She said that the rain would stop before the evening.",
             "Will you come in May?"]
    first, second, third = P.partial_examples(nlp, texts, lex, set(gen.words))
    tags = {t.text: t.ent_iob_ or "-" for t in first.reference}
    assert [e.text for e in first.reference.ents] == ["Knightley"]  # after a cue
    assert tags["Hartfield"] == "-" and tags["Emma"] == "-", "unknown capitalised words are left unlabelled"
    assert tags["James"] == "-", "a frequent first name is not taught as an ordinary word"
    assert tags["walked"] == "O" and tags["with"] == "O"
    assert all(t.ent_iob_ == "O" for t in second.reference), "ordinary prose is all O"
    assert all(t.ent_iob_ == "O" for t in third.reference), "names that are also words, capitalised, are O"


def test_real_passages_from_books():
    passages = P.real_texts(BOOKS, 200, seed=1)
    assert len(passages) == 200 and all(15 < len(p) and "\n" not in p for p in passages)


def test_a_small_run_trains_a_model_the_backend_can_load(tmp_path, gen, lex):
    import spacy

    from commons_pipelines.curate.pii.ner import _known_name, _name_lists

    P.train(sentences=400, epochs=2, seed=7, out=tmp_path / "en_names", gen=gen, lex=lex)
    nlp = spacy.load(tmp_path / "en_names")
    assert nlp.pipe_names == ["ner"] and nlp.get_pipe("ner").labels == ("PERSON",)
    assert nlp.meta["finds_lowercase_names"] is True and nlp.meta["name"] == "en_names"
    lists = _name_lists(tmp_path / "en_names")
    assert _known_name("Maria Gonzalez", lists) and not _known_name("Contract Doctrine", lists)
    assert {p.name for p in (tmp_path / "en_names").glob("*.txt")} == {"names.txt", "first_names.txt", "ambiguous.txt",
                                                                       "words.txt"}
