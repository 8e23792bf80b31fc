"""Person names in German, Italian, Portuguese, Dutch and Polish (the shipped xx_names model), each text routed by
the language it is identified as, and which backend ran for each language on the card and in Dagster metadata."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from dagster import AssetKey

from commons_pipelines.curate.pii.ner import NO_MODEL, _polish_names, load_ner

from .conftest import SHARED_DATA
from .test_pipeline import run_nightly

# Sentences written for these tests, not taken from the training templates.
NAMED = {
    "de": ("Nach Angaben der Polizei wurde Jürgen Schulze-Wendland am Freitagabend in seiner Wohnung in Kassel "
           "festgenommen.", ["Jürgen Schulze-Wendland"]),
    "it": ("Durante l'udienza di ieri Giuseppina Scarpellini ha confermato di non conoscere l'imputato.",
           ["Giuseppina Scarpellini"]),
    "pt": ("Na reunião da junta de freguesia, Joaquim Rebelo Sampaio apresentou o orçamento para o próximo ano.",
           ["Joaquim Rebelo Sampaio"]),
    "nl": ("Volgens de politie is Pieter Verhoeven gisteravond in zijn woning in Utrecht aangehouden.",
           ["Pieter Verhoeven"]),
    "pl": ("Podczas rozprawy Grzegorz Wróblewski oświadczył, że nie zna oskarżonego.", ["Grzegorz Wróblewski"]),
}
NOUNS_DE = ["Der Antragsteller wohnt in Berlin.",
            "Die Beschwerdeführerin rügt, dass ihr das rechtliche Gehör verweigert worden sei.",
            "Das Verwaltungsgericht wies die Klage der Gemeinde mit Urteil vom 3. März 2021 ab.",
            "Die Vorinstanz hat den Sachverhalt offensichtlich unrichtig festgestellt.",
            "Gegen diesen Entscheid erhob die Versicherungsgesellschaft Beschwerde beim Bundesgericht."]


def people(text: str, spans) -> list[str]:
    return [text[s:e] for s, e, t in spans if t == "PERSON"]


@pytest.mark.parametrize("lang", sorted(NAMED))
def test_a_name_in_each_language_goes_to_the_shipped_model(lang):
    status = load_ner([lang], "required")
    assert status.backend.backend_of(lang).startswith("xx_names ")
    text, names = NAMED[lang]
    seen = Counter()
    assert people(text, status.backend.find([text], seen)[0]) == names
    assert seen == {lang: 1}


def test_capitalised_german_nouns_are_not_names():
    found = load_ner(["de"], "required").backend.find(NOUNS_DE)
    assert [people(t, s) for t, s in zip(NOUNS_DE, found)] == [[] for _ in NOUNS_DE]


def test_a_lone_german_surname_no_list_holds_is_a_name_inside_a_sentence():
    """xx_names 1.1.0 learnt German nouns from real text, so a lone rare capitalised word it tags is kept in German
    too (news name people by surname alone), though not at a sentence's start."""
    text = "Am Abend bestätigte Brüggemeier, dass er den Vertrag nicht verlängern werde."
    backend = load_ner(["de"], "required").backend
    assert people(text, backend.find([text])[0]) == ["Brüggemeier"]


def test_a_first_name_and_surname_after_a_capitalised_noun_are_found():
    """German capitalises the noun before a name: the noun and the first name are a pair that fails, and the first
    name and surname after it are tried too. The model alone finds nothing here."""
    text = "Das bestätigte die stellvertretende Kreisvorsitzende Hannelore Wettstädt am Montag in Fulda."
    backend = load_ner(["de"], "required").backend
    assert people(text, backend.find([text], langs=["de"])[0]) == ["Hannelore Wettstädt"]


@pytest.mark.parametrize("lang, text, names", [
    ("de", "Den Antrag hatte Bürgermeisterin Hannelore Wettstädt gestellt. Im Stadtrat fand Wettstädt keine Mehrheit, "
           "und Wettstädts Sprecher wollte sich nicht äußern.", ["Hannelore Wettstädt", "Wettstädt", "Wettstädts"]),
    ("es", "Lo confirmó ayer Teodora Villaseñor en Madrid. Según Villaseñor, la obra termina en marzo.",
     ["Teodora Villaseñor", "Villaseñor"]),
])
def test_a_surname_found_once_is_found_wherever_it_stands_alone(lang, text, names):
    backend = load_ner([lang], "required").backend
    assert people(text, backend.find([text], langs=[lang])[0]) == names


def test_a_common_word_of_a_name_does_not_spread():
    """A model's PERSON "Theo Jung" does not make every "Jung" of the text a name: "jung" is a common German word."""
    from commons_pipelines.curate.pii.ner import _repeated

    text = "Theo Jung kam 1950 nach Kassel. Jung und Alt feierten das Fest, Berger blieb zu Hause."
    assert _repeated(text, [(0, 9, "PERSON")], "de") == [(0, 9, "PERSON")]
    assert _repeated(text, [(0, 9, "PERSON"), (64, 70, "PERSON")], "de") == [(0, 9, "PERSON"), (64, 70, "PERSON")]
    text = "Theo Brüggemeier kam 1950 nach Kassel. Dort traf Brüggemeier seine Frau."
    assert _repeated(text, [(0, 16, "PERSON")], "de") == [(0, 16, "PERSON"), (49, 60, "PERSON")]


@pytest.mark.parametrize("text", [
    "Ingresó en el Hospital Universitario Miguel Servet de Zaragoza.",
    "Vive en la C/ Juan Canalejo desde 2010.",
    "Estudió en el Instituto Lázaro Cárdenas de Morelia.",
    "La procesión llega a Santa María del Mar.",
])
def test_a_hospital_street_or_school_named_after_a_person_is_no_name_pair(text):
    from commons_pipelines.curate.pii.ner import _paired_names

    assert _paired_names(text, "es") == []
    assert _paired_names("Lo dijo ayer Miguel Servet en Zaragoza.", "es") == [(13, 26, "PERSON")]


@pytest.mark.parametrize("lang, text, names", [
    ("pl", "Matka długo rozmawiała z Teofilem o pracy.", ["Teofilem"]),  # Teofil, in the instrumental
    ("pl", "Wieczorem przyszła Anieli siostra.", ["Anieli"]),  # Aniela, in the genitive
    ("it", "Alla fine della serata Ludovica ringraziò tutti.", ["Ludovica"]),
])
def test_a_first_name_alone_is_a_name_in_a_polish_case_too(lang, text, names):
    from commons_pipelines.curate.pii.ner import _lone_first_names

    assert [text[s:e] for s, e, _ in _lone_first_names(text, lang)] == names


@pytest.mark.parametrize("lang, text", [
    ("pl", "Mieszka przy ulicy Teofila w Krakowie."),
    ("it", "Fu ricoverata all'Ospedale Ludovica di Roma."),
    ("pl", "WIECZOREM TEOFIL WRÓCIŁ."),  # capitals: a heading, no evidence
    ("de", "Mit großem Ernst sprach er über die Lage."),  # a listed first name, and a common German noun
])
def test_no_lone_first_name_after_a_street_or_hospital_word_in_capitals_or_in_a_common_word(lang, text):
    from commons_pipelines.curate.pii.ner import _lone_first_names

    assert _lone_first_names(text, lang) == []


def test_a_polish_surname_found_once_is_found_again_in_another_case():
    text = ("Wiceprzewodniczący Komisji Frans Timmermans przyjechał do Warszawy. Premier podziękował Timmermansowi "
            "za wizytę.")
    backend = load_ner(["pl"], "required").backend
    assert people(text, backend.find([text], langs=["pl"])[0]) == ["Frans Timmermans", "Timmermansowi"]


@pytest.mark.parametrize("text, names", [
    ("Posłowie czekali na odpowiedź Kaczyńskiego przez cały dzień.", ["Kaczyńskiego"]),
    ("List do Jerzego Buzka trafił w piątek.", ["Jerzego Buzka"]),
    ("Wypowiedź Tuska zaskoczyła posłów opozycji.", ["Tuska"]),
])
def test_a_polish_name_no_list_holds_is_found_in_any_case_without_the_noun_before_it(text, names):
    backend = load_ner(["pl"], "required").backend
    assert people(text, backend.find([text], langs=["pl"])[0]) == names


@pytest.mark.parametrize("lang, text, names", [
    ("de", "Frau Präsidentin, meine Damen und Herren, Herr Kommissar! Ich danke Herrn Barnier und Frau Schreyer.",
     ["Barnier", "Schreyer"]),
    ("de", "Herr Abgeordneter, Frau Berichterstatterin, Frau Ministerin, Herr Bundeskanzler, danke.", []),
    ("fr", "Monsieur le Président, Madame la Commissaire, chers collègues, je remercie le rapporteur.", []),
    ("es", "Señora Presidenta, señorías, señor Comisario, agradezco al ponente su trabajo.", []),
])
def test_an_office_after_a_salutation_is_no_name(lang, text, names):
    backend = load_ner([lang], "required").backend
    assert people(text, backend.find([text], langs=[lang])[0]) == names


@pytest.mark.parametrize("lang, text, names", [
    ("it", "Vorrei ringraziare l'onorevole Napolitano per la sua relazione.", ["Napolitano"]),
    ("es", "Quiero dar las gracias a la señora Schreyer por su respuesta.", ["Schreyer"]),
    ("nl", "Ik dank de rapporteur, de heer Barnier.", ["Barnier"]),
    ("de", "Wir haben gestern mit Herrn Wunderlich gesprochen.", ["Wunderlich"]),
    ("pt", "O Senhor Desembargador SILVA LEMOS acompanhou o voto.", ["SILVA LEMOS"]),
])
def test_a_name_after_a_salutation_and_an_office_is_found_without_them(lang, text, names):
    backend = load_ner([lang], "required").backend
    assert people(text, backend.find([text], langs=[lang])[0]) == names


def test_polish_nouns_and_places_are_no_names_but_initials_and_words_the_dictionary_lacks_are():
    text = "Komisja Europejska i Bruksela czekają, Galerii Grafiki też; Timmermans i J. T. nie."
    spans = [(text.index(w), text.index(w) + len(w), "PERSON")
             for w in ("Komisja Europejska", "Bruksela", "Galerii Grafiki", "Timmermans", "J. T.")]
    assert [text[s:e] for s, e, _ in _polish_names(text, spans + [(0, 7, "ORG")])] == ["Timmermans", "J. T.", "Komisja"]


@pytest.mark.parametrize("text, names", [
    ("Die Zeugin S. hat ausgesagt, dass der Angeklagte H. das Geld von Herrn Dr. A erhalten habe.", ["S", "H", "A"]),
    ("Die Bearbeitung der durch P eingereichten Schriftsätze oblag dem Sozialarbeiter Z und der Arbeitnehmerin N.",
     ["P", "Z", "N"]),
    ("Der Senat hat durch die Vorsitzende Richterin Klante, den Richter Dr. Himmelmann und die Richterin "
     "Lachenmayr-Nikolaou beschlossen:", ["Klante", "Himmelmann", "Lachenmayr-Nikolaou"]),
    ("Beschlossen unter Mitwirkung des Vorsitzenden Richters Knoll, der Richterin Kriener und des Richters Dr. "
     "Nielsen.", ["Knoll", "Kriener", "Nielsen"]),
    ("Die Revision wird zurückgewiesen.\nTreber\nFischer\nNaumann", ["Treber", "Fischer", "Naumann"]),
    ("Nach dem Gutachten von J. Deubener ist der Anspruch begründet.", ["J. Deubener"]),
])
def test_the_parties_and_judges_of_a_german_court_decision_are_names(text, names):
    backend = load_ner(["de"], "required").backend
    assert people(text, backend.find([text], langs=["de"])[0]) == names


@pytest.mark.parametrize("text", [
    "Nach § 12 Abs. 1 Nr. 3 SGB V gilt Anlage K 3 für die Flurstücke in Teil B (vgl. z. B. die Anlage A zum Vertrag).",
    "Der Streitwert wird festgesetzt (BGH, Urteil vom 21. 8. 2017 - 9 AZR 117/17 - Juris RdNr 13; GRUR 2012, 930).",
    "Die Revisionsklägerin rügt einen Verfahrensmangel.\nEntscheidungsgründe\nRechtsmittelbelehrung",
    "Bitte senden Sie die Unterlagen an das Amt:\nKrammerweg 12\nWolmirstedt",
    "Das Amtsgericht P. hat den Hilfsanträgen A, B und C nicht entsprochen.",
    "Geschützt für Kopfhörer und Ohrhörer, Lautsprecher, Mikrophone und Headsets (Hörsprechgarnituren), Behälter.",
    "Die Bestattungskosten erkannte das FA nicht an. Farben, Lacke und Baumaterialien würden zum Schutz verwendet.",
    "Der Senat kann dies nicht beurteilen. Daher können die Beitragsschuldner eine umfassende Prüfung verlangen.",
    "Reise- und Handkoffer; Regenschirme und Sonnenschirme; Peitschen, Pferdegeschirre und Sattlerwaren;",
])
def test_legal_citations_part_letters_and_common_nouns_of_german_decisions_are_no_names(text):
    backend = load_ner(["de"], "required").backend
    assert people(text, backend.find([text], langs=["de"])[0]) == []


def test_a_german_text_in_a_source_declared_english_goes_to_the_german_model():
    """No cue and no census name: only the model finds it, and cues and patterns alone do not."""
    text, names = NAMED["de"]
    status = load_ner(["en"], "required")
    seen = Counter()
    assert people(text, status.backend.find([text], seen)[0]) == names
    assert seen == {"de": 1} and status.backend.backend_of("de").startswith("xx_names ")
    assert "xx_names 1.2.0 (de, it, pt, nl, pl)" in status.description
    no_models = load_ner(["sw"]).backend
    assert people(text, no_models.find([text])[0]) == names  # sw declared, but this text is identified as German
    cues_only = type(no_models)({}, default="")
    assert people(text, cues_only.find([text])[0]) == []


def test_a_declared_language_without_a_model_gets_cues_and_patterns_only():
    status = load_ner(["sw"])
    swahili = "Bwana Juma alisema kwamba mkutano utafanyika kesho asubuhi katika ukumbi wa kijiji."
    seen = Counter()
    status.backend.find([swahili], seen)
    assert seen == {"sw": 1} and status.backend.backend_of("sw") == NO_MODEL
    assert "no model for languages: sw" in status.description


def test_the_pii_step_reads_each_row_with_the_model_of_the_row_s_lang():
    """The language step runs before PII: the backend takes each row's `_lang`, and identifies nothing itself. A row
    not identified goes to the declared language's model."""
    import pyarrow as pa

    from commons_pipelines.curate.pii import Pii
    from commons_pipelines.spec import PiiConfig
    from commons_pipelines.stats import NER_LANGUAGE

    text, names = NAMED["de"]
    step = Pii(PiiConfig(), "t", ["DE"], None, load_ner(["en"], "required").backend, ["text"])
    out = step.process(pa.RecordBatch.from_pydict({"text": [text, text, text], "_lang": ["de", "und", "it"]}))
    routed = {p.column: p.count for p in step.report() if p.type == NER_LANGUAGE}
    assert routed == {"de": 1, "en": 1, "it": 1}
    assert out.column("text")[0].as_py() == text.replace(names[0], "[PERSON]")
    assert out.column("_lang").to_pylist() == ["de", "und", "it"]  # the step's own columns are not scanned


@pytest.mark.parametrize("text, lang, routed", [
    ("Deutsch im Blick - 2nd Edition", "de", "en"),  # short and undeclared: the declaration decides
    ("La lingüística hispánica: Una introducción", "gl", "en"),
    (NAMED["de"][0], "de", "de"),  # long enough to go by its own language
    (NAMED["de"][0], "und", "en"),
])
def test_thin_evidence_goes_to_the_declared_language(text, lang, routed):
    seen = Counter()
    load_ner(["en"], "required").backend.find([text], seen, langs=[lang])
    assert seen == {routed: 1}


def udhr(lang: str, n: int) -> list[str]:
    rows = [json.loads(line) for line in (SHARED_DATA / "language" / "udhr_151_languages.jsonl").open(encoding="utf-8")]
    return [r["text"] for r in rows if r["bcp47"] == lang and len(r["text"].split()) >= 25][:n]


def test_the_card_and_metadata_say_which_backend_ran_for_each_language(write_spec, settings, tmp_path):
    texts = {
        "en": ["Our volunteer coordinator, Tom Barker, answers the helpline on weekdays from nine to five."],
        "fr": ["Pour joindre l'infirmière coordinatrice, appelez Claire Dubois au centre de soins du quartier."],
        "de": [NAMED["de"][0], NOUNS_DE[2]],
        "sw": udhr("sw", 2),
    }
    records = [{"id": f"{lang}{i}", "text": t} for lang, ts in texts.items() for i, t in enumerate(ts)]
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "docs.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    spec = write_spec("names_by_language", languages=["en", "fr", "de", "sw"], text_columns=["text"],
                      primary_key=["id"], files={"path": str(tmp_path / "docs"), "format": "jsonl"},
                      quality={"min_words": 1}, pii={"ner": "auto"})
    result = run_nightly({spec.id: spec}, settings)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    [mat] = [e.materialization for e in result.get_asset_materialization_events()
             if e.asset_key == AssetKey([spec.id, "curated"])]
    ran = mat.metadata["pii/ner_languages"].value
    assert set(ran) == {"en", "fr", "de", "sw"}
    assert ran["en"].startswith("en_names ") and ran["fr"].startswith("fr_core_news_sm ")
    assert ran["de"].startswith("xx_names ") and ran["sw"] == NO_MODEL
    card = (settings.publish_dir / spec.id / "current" / "README.md").read_text()
    assert "### Name detection by language" in card
    for lang, backend in ran.items():
        assert f"| `{lang}` | {backend} |" in card
    published = (settings.publish_dir / spec.id / "current" / "data").rglob("*.parquet")
    import pyarrow.parquet as pq

    text = str([pq.read_table(p).to_pylist() for p in published])
    assert "Schulze-Wendland" not in text and "Tom Barker" not in text and "Claire Dubois" not in text
