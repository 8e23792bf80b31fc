"""The English name backend's checks of its spans (curate/pii/ner.py): names in street addresses and firms made of
surnames are no persons, the people beside them still are; initials join a name. Sentences written for this test."""

from __future__ import annotations

import pytest

from commons_pipelines.curate.pii.ner import load_ner


@pytest.fixture(scope="module")
def find():
    backend = load_ner(["en"], "required").backend

    def names(text: str) -> list[str]:
        return [text[s:e] for s, e, t in backend.find([text])[0] if t == "PERSON"]

    return names


@pytest.mark.parametrize("text, names", [
    ("Please ship the parcel to 412 Monika Union\n Apt. 7\n Springfield", []),
    ("Our office moved to 88 Pinto Hill\n Suite 300\n Leeds", []),
    ("Vera Lindqvist lives at 17 Piroska u. 5, Szeged.", ["Vera Lindqvist"]),
    ("He lives on the south side of Joaquin Suarez 1187.", []),
    ("The new clinic is on Rua Diadema 940 in Recife.", []),
    ("Barnett, Melton and Garcia\n22 Kings Road\nLondon", []),
    ("The Jones, Smith and Davis Orchestra played on Sunday.", []),
    ("She joined Kroll Bond Ratings Agency in 2019.", []),
    ("My IBAN is on the invoice.", []),
])
def test_streets_and_firms_are_no_persons(find, text, names):
    assert find(text) == names


@pytest.mark.parametrize("text, names", [
    ("The company was started by three founders: Morrison, Rogers and Torres.", ["Morrison", "Rogers", "Torres"]),
    ("I met Mary Hill at the station.", ["Mary Hill"]),
    ("Anna Kowalska, research assistant, wrote the report.", ["Anna Kowalska"]),
    ("The report was signed by Kate M Begum yesterday.", ["Kate M Begum"]),
    ("Send the forms to Szabina J Gelencsér before Monday.", ["Szabina J Gelencsér"]),
])
def test_people_beside_those_rules_are_still_found(find, text, names):
    assert find(text) == names
