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
