"""Frog reading Dutch names next to xx_names (curate/pii/frog.py): the Debian package, run for real, installed by
the tests when missing (as root, as CI runs)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from dagster import AssetKey

from commons_pipelines.curate.pii import frog
from commons_pipelines.curate.pii.ner import _first_name, _load, load_ner

from .apt import apt_install
from .test_names_languages import people
from .test_pipeline import run_nightly

# Sentences written for these tests.
MISSED = [
    ("Volgens minister Wijnants moet de hervorming nog dit jaar door het parlement.", ["Wijnants"]),
    ("Volgens Milosevic is de oorlog voorbij, maar Karadzic denkt daar anders over.", ["Milosevic", "Karadzic"]),
]
FIRMS = ["Solvay en Telindus maakten gisteren hun jaarcijfers bekend.",
         "Racing Santander verloor thuis van Real Madrid."]


@pytest.fixture(scope="module")
def frog_path() -> str:
    if not (shutil.which("frog") and Path("/usr/share/frog/nld/frog.cfg").is_file()):  # the program and its data
        apt_install(["frog", "frogdata"], "the Dutch name tests need Frog: run `sudo apt-get update && sudo apt-get "
                                          "install -y --no-install-recommends frog frogdata` (Debian packages)")
    return shutil.which("frog")


@pytest.fixture
def with_frog(frog_path, monkeypatch):
    monkeypatch.setenv("COMMONS_FROG", frog_path)
    _load.cache_clear()
    yield frog_path
    _load.cache_clear()


def test_frog_s_entities_are_character_spans_of_each_text(frog_path):
    texts = ["„Dit klopt niet”, zei Jan-Pieter de Vries’ zus op https://x.nl/a?b=1 om 12:30u.",
             "",
             "Burgemeester Ingrid ten Have opende de brug in Zwolle.\nDaarna sprak wethouder Ahmed Bouali."]
    found = frog.entities(frog_path, texts)
    assert len(found) == 3 and found[1] == []
    assert ("Ingrid ten Have", "PER") in [(texts[2][s:e], k) for s, e, k in found[2]]
    assert ("Ahmed Bouali", "PER") in [(texts[2][s:e], k) for s, e, k in found[2]]
    for text, spans in zip(texts, found):
        assert all(text[s:e].strip() == text[s:e] and text[s:e] for s, e, _ in spans)


def test_a_word_frog_wrote_otherwise_ends_the_entity_before_it_and_loses_only_its_own_tag():
    text = "Jan Peeters woont in Gent, bij Eva de Wit."
    words = [("Jan", "B-PER"), ("Peeters", "I-PER"), ("wóónt", "O"), ("in", "O"), ("Gent", "B-LOC"), (",", "O"),
             ("bij", "O"), ("Eva", "B-PER"), ("de", "I-PER"), ("Wít", "I-PER"), (".", "O")]
    assert [(text[s:e], k) for s, e, k in frog._aligned(text, words)] == [
        ("Jan Peeters", "PER"), ("Gent", "LOC"), ("Eva de", "PER")]


def test_dutch_names_the_model_misses_are_found_with_frog(with_frog):
    status = load_ner(["nl"], "required")
    assert status.backend.backend_of("nl") == f"xx_names 1.2.0 + frog {frog.version(with_frog)}"
    assert "frog" in status.description
    texts = [t for t, _ in MISSED]
    found = status.backend.find(texts, langs=["nl"] * len(texts))
    assert [people(t, s) for t, s in zip(texts, found)] == [names for _, names in MISSED]
    _load.cache_clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COMMONS_FROG", "off")
        alone = load_ner(["nl"], "required").backend
        assert alone.backend_of("nl") == "xx_names 1.2.0"
        assert all(people(t, s) == [] for t, s in zip(texts, alone.find(texts, langs=["nl"] * len(texts))))


def test_a_firm_the_model_takes_for_a_person_is_dropped_when_frog_reads_an_organisation(with_frog):
    _load.cache_clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COMMONS_FROG", "off")
        alone = load_ner(["nl"], "required").backend.find(FIRMS, langs=["nl"] * len(FIRMS))
    assert [people(t, s) for t, s in zip(FIRMS, alone)] == [["Telindus"], ["Racing Santander"]]
    _load.cache_clear()
    found = load_ner(["nl"], "required").backend.find(FIRMS, langs=["nl"] * len(FIRMS))
    assert [people(t, s) for t, s in zip(FIRMS, found)] == [[], []]


def combine(text: str, ours: list[str], frog_read: list[tuple[str, str]]) -> list[str]:
    """`frog.combined` on spans given as the words they cover (each word's first place in the text)."""
    def span(words, kind):
        return (text.index(words), text.index(words) + len(words), kind)

    found = frog.combined(text, [span(w, "PERSON") for w in ours], [span(w, k) for w, k in frog_read], _first_name)
    return [text[s:e] for s, e, _ in found]


def test_how_frog_s_reading_is_combined_with_the_model_s():
    text = "De ZCTU en minister Wijnants bezochten Brantex."
    # Frog's names are added, but for capitals, and without the lower-case words before them
    assert combine(text, [], [("ZCTU", "PER"), ("minister Wijnants", "PER")]) == ["Wijnants"]
    # a name of the model that Frog reads as an organisation, product or event is dropped; a place is no veto
    for kind in ("ORG", "PRO", "EVE"):
        assert combine(text, ["Brantex"], [("Brantex", kind)]) == []
    assert combine(text, ["Brantex"], [("Brantex", "LOC")]) == ["Brantex"]
    # unless a listed first name opens it, or Frog reads one of its words as a person elsewhere in the text
    text = "Eva Brantex en Kees Oldenhof van Brantex; Oldenhof zei het."
    assert combine(text, ["Eva Brantex"], [("Eva Brantex", "ORG")]) == ["Eva Brantex"]
    assert combine(text, ["Oldenhof van Brantex"], [("Oldenhof van Brantex", "ORG")]) == []
    assert combine(text, ["Oldenhof van Brantex"], [("Oldenhof van Brantex", "ORG"), ("Oldenhof zei", "PER")]) \
        == ["Oldenhof van Brantex", "Oldenhof zei"]


def test_a_failing_frog_is_a_clear_error(tmp_path):
    broken = tmp_path / "frog"
    broken.write_text("#!/bin/sh\necho 'frog: cannot read /usr/share/frog/nld/frog.cfg' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(frog.FrogFailed, match=r"exited with status 3 on 1 texts: frog: cannot read"):
        frog.entities(str(broken), ["Jan Jansen woont in Gent."])


def test_the_card_says_frog_read_the_dutch_texts_and_its_names_are_redacted(with_frog, write_spec, settings,
                                                                             tmp_path):
    records = [{"id": str(i), "text": t} for i, (t, _) in enumerate(MISSED)]
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "docs.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    spec = write_spec("dutch_names", languages=["nl"], text_columns=["text"], primary_key=["id"],
                      files={"path": str(tmp_path / "docs"), "format": "jsonl"}, quality={"min_words": 1},
                      pii={"ner": "auto"})

    def curated(frog_setting: str):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("COMMONS_FROG", frog_setting)
            _load.cache_clear()
            result = run_nightly({spec.id: spec}, settings)
        _load.cache_clear()
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        return [e.materialization.metadata for e in result.get_asset_materialization_events()
                if e.asset_key == AssetKey([spec.id, "curated"])][0]

    assert curated("off")["pii/ner_languages"].value == {"nl": "xx_names 1.2.0"}
    mat = curated(with_frog)  # Frog installed since: the curation is made again, not reused
    backend = f"xx_names 1.2.0 + frog {frog.version(with_frog)}"
    assert mat["reused"].value is False and mat["pii/ner_languages"].value == {"nl": backend}
    assert curated(with_frog)["reused"].value is True
    card = (settings.publish_dir / spec.id / "current" / "README.md").read_text()
    assert f"| `nl` | {backend} |" in card
    import pyarrow.parquet as pq

    text = str([pq.read_table(p).to_pylist() for p in (settings.publish_dir / spec.id / "current" / "data")
                .rglob("*.parquet")])
    assert "Wijnants" not in text and "Karadzic" not in text and "hervorming" in text
