"""training/names_multi.py, which builds xx_names: the templates the benchmark holds out are never trained on, and the
generated texts label exactly the names, German genitives included."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))

import names_multi as M  # noqa: E402
import templates_multi as T  # noqa: E402


@pytest.fixture(scope="module")
def gen():
    return M.Generator(5)


@pytest.mark.parametrize("kind", ["WITH", "WITHOUT", "SUBJECT", "BEFORE"])
def test_held_out_templates_are_never_trained_on(kind):
    for lang, templates in getattr(T, kind).items():
        train, test = T.split(templates, "train"), T.split(templates, "test")
        assert test and not set(train) & set(test) and sorted(train + test) == sorted(templates), lang


@pytest.mark.parametrize("kind", ["WITH", "WITHOUT", "MORE", "MORE_WITHOUT"])
def test_settings_are_chosen_on_a_dev_part_of_the_training_templates(kind):
    for lang, templates in getattr(T, kind).items():
        test = kind.startswith("WITH")  # MORE is for training only: no benchmark reads it
        fit, dev, train = (T.split(templates, part, test) for part in ("fit", "dev", "train"))
        assert fit and dev and not set(fit) & set(dev) and sorted(fit + dev) == sorted(train), lang
        assert test or not T.split(templates, "test", test), lang


def test_the_generator_trains_on_no_held_out_template(gen):
    for lang in M.LANGS:
        test = set(T.split(T.WITH[lang], "test")) | {f"{{name}} {x}" for x in T.split(T.SUBJECT[lang], "test")}
        assert test and not test & set(gen.with_names[lang]), lang
        assert not set(T.split(T.WITHOUT[lang], "test")) & set(gen.without[lang]), lang


def test_a_german_genitive_is_labelled_with_its_s_but_not_its_apostrophe(gen):
    seen = set()
    for _ in range(300):
        text, ents = gen.sentence("Das ist {gen} Fahrrad.", "de")
        (s, e, kind), = ents
        assert kind == "PERSON" and s == len("Das ist ") and text[e:] in (" Fahrrad.", "’ Fahrrad."), text
        assert text[e - 1] in "sS" if text[e] == " " else text[e - 1] in "sxzßSXZ", text
        seen.add(text[e])
    assert seen == {" ", "’"}


def test_labelled_files_are_read_as_texts_of_sentences_with_their_person_spans():
    # GermEval: index, token, outer tag, nested tag; a comment opens each sentence
    germeval = ("#\thttp://example.org\t[2009]\n1\tMuck\tB-PER\tO\n2\tsagte\tO\tO\n3\tes\tO\tO\n\n"
                "#\thttp://example.org\n1\tKarl\tB-PER\tO\n2\tMay\tI-PER\tO\n3\tschrieb\tO\tO\n4\tBerlin\tB-LOC\tB-PER\n\n")
    assert M.bio_texts(germeval) == [("Muck sagte es\nKarl May schrieb Berlin", [(0, 4, "PERSON"), (14, 22, "PERSON")])]
    assert [len(t.split("\n")) for t, _ in M.bio_texts(germeval, per_text=1)] == [1, 1]
    # CoNLL-2002: token, part of speech, tag; a number opens some token lines (not an index); documents
    conll = ("-DOCSTART- -DOCSTART- O\n24 Num O\njaar N O\n\nKim N B-PER\nClijsters N I-PER\nwon V O\n. Punc O\n\n"
             "-DOCSTART- -DOCSTART- O\nVan Prep B-PER\nRoost N I-PER\nverloor V O\n\n")
    assert M.bio_texts(conll) == [("24 jaar\nKim Clijsters won.", [(8, 21, "PERSON")]),
                                  ("Van Roost verloor", [(0, 9, "PERSON")])]
    # LeNER-Br: token and tag, PESSOA; KPWr: token, lemma, morphology, tag, nam_liv_person, "-DOCSTART FILE" lines
    assert M.bio_texts("Relator O\nAUGUSTO B-PESSOA\nNARDES I-PESSOA\n") == [("Relator AUGUSTO NARDES", [(8, 22, "PERSON")])]
    kpwr = "-DOCSTART FILE blogi/1\nPisze\tpisać\tfin\tO\nJan\tJan\tsubst\tB-nam_liv_person\n"
    assert M.bio_texts(kpwr) == [("Pisze Jan", [(6, 9, "PERSON")])]
    # Europeana Newspapers: no blank line at all; a sentence ends on . ! ? or, past 60 tokens, on an untagged one
    europeana = "Herr O\nEgger B-PER\nkam O\n. O\nDann O\nging O\ner O\n. O\n" + "und O\n" * 130
    texts = M.bio_texts(europeana, per_text=1)
    assert [t for t, _ in texts[:2]] == ["Herr Egger kam.", "Dann ging er."] and texts[0][1] == [(5, 10, "PERSON")]
    assert [len(t.split()) for t, _ in texts[2:]] == [60, 60, 10]


def test_nkjp_dev_documents_are_never_trained_on():
    # NKJP's nested IOB: token, lemma, tag, labels joined by "#" (the outer one first); a CONFIG line, then documents
    doc = "-DOCSTART FILE {n}\nPisze\tpisać\tfin\tO\n{name}\t{name}\tsubst\t{tag}\nw\tw\tprep\tO\n{place}\n\n"
    content = "-DOCSTART CONFIG FEATURES orth base ctag\n" + "".join(
        doc.format(n=n, name=name, tag=tag, place="Krakowie\tKraków\tsubst\tB-placeName-settlement#B-persName")
        for n, name, tag in [(1, "Jan", "B-persName#B-persName-forename"), (2, "Kowalski", "B-persName-surname"),
                             (3, "Orlen", "B-orgName")])
    dev, train = (M.bio_texts(M.nkjp(content, 2, first)) for first in (True, False))
    assert dev == [("Pisze Jan w Krakowie", [(6, 9, "PERSON")]), ("Pisze Kowalski w Krakowie", [(6, 14, "PERSON")])]
    assert train == [("Pisze Orlen w Krakowie", [])]
