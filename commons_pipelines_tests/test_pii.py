"""PII detectors and the Pii step, on real sentences: Presidio's synthetic English set, MEDDOCAN Spanish clinical
reports, CKAN author e-mails, French medicines codes and dates, textbook ISBNs."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from stdnum import isbn, luhn
from stdnum.es import dni
from stdnum.fr import nir
from stdnum.it import codicefiscale

from commons_pipelines.curate.pii import Match, Pii, contains, default_regions, scan
from commons_pipelines.spec import PATTERN_PII, PiiConfig
from commons_pipelines.stats import PiiCount

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
PRESIDIO = SHARED / "pii" / "presidio_synth_en.json"
MEDDOCAN = SHARED / "pii" / "meddocan_es_train.jsonl"
ENVIDAT = SHARED / "opendata" / "ckan" / "envidat_ch" / "package_search.json"
BDPM = SHARED / "opendata" / "fr_medicines_bdpm" / "CIS_bdpm.txt"
OTL = SHARED / "opendata" / "open_textbook_library" / "OTL.csv"
KEY = b"test-key-not-a-secret"

PRESIDIO_TYPES = {"EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "IBAN_CODE": "IBAN", "CREDIT_CARD": "CARD",
                  "IP_ADDRESS": "IP", "US_SSN": "NATIONAL_ID"}


def presidio() -> list[dict]:
    return json.loads(PRESIDIO.read_text(encoding="utf-8"))


def meddocan(n: int | None = None) -> list[dict]:
    lines = MEDDOCAN.read_text(encoding="utf-8").splitlines()[:n]
    return [json.loads(line) for line in lines]


def bdpm() -> pa.Table:
    names = [f"c{i}" for i in range(12)]
    return pacsv.read_csv(BDPM, read_options=pacsv.ReadOptions(column_names=names),
                          parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
                          convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}))


def found(matches: list[Match], row: int, start: int, end: int, type: str) -> bool:
    return any(m.row == row and m.type == type and m.start < end and start < m.end for m in matches)


# --- detectors on real text ---------------------------------------------------------------------------------

def test_presidio_gold_spans_found_per_type():
    docs = presidio()
    matches = scan(pa.array([d["full_text"] for d in docs]), PATTERN_PII, default_regions(["en"]))
    for label, type in PRESIDIO_TYPES.items():
        gold = [(i, s["start_position"], s["end_position"]) for i, d in enumerate(docs) for s in d["spans"]
                if s["entity_type"] == label]
        hits = sum(found(matches, i, s, e, type) for i, s, e in gold)
        assert hits / len(gold) >= 0.98, f"{type}: {hits} of {len(gold)} gold {label} spans found"
        predicted = [m for m in matches if m.type == type]
        true = sum(any(i == m.row and s < m.end and m.start < e for i, s, e in gold) for m in predicted)
        assert true / len(predicted) >= 0.95, f"{type}: {len(predicted) - true} false alarms"


def test_meddocan_emails_phones_and_social_security_numbers():
    docs = meddocan(150)
    matches = scan(pa.array([d["text"] for d in docs], pa.large_string()), PATTERN_PII, default_regions(["es"]))
    wanted = {"CORREO_ELECTRONICO": "EMAIL", "NUMERO_TELEFONO": "PHONE", "NUMERO_FAX": "PHONE",
              "ID_ASEGURAMIENTO": "NATIONAL_ID"}
    for label, type in wanted.items():
        gold = [(i, s["start"], s["end"]) for i, d in enumerate(docs) for s in d["spans"] if s["label"] == label]
        assert gold, label
        missed = [(i, s) for i, s, e in gold if not found(matches, i, s, e, type)]
        assert len(missed) <= 0.03 * len(gold), f"{label}: {len(missed)} of {len(gold)} missed"


def test_real_ckan_author_emails_found_exactly():
    results = json.loads(ENVIDAT.read_text(encoding="utf-8"))["result"]["results"]
    authors = [r["author"] for r in results]
    emails = [[a["email"] for a in json.loads(text) if a.get("email")] for text in authors]
    assert sum(map(len, emails)) >= 10
    matches = scan(pa.array(authors), ["EMAIL"])
    for row, expected in enumerate(emails):
        same = [authors[row][m.start:m.end] for m in matches if m.row == row] == expected
        assert same, f"package_search result {row}: e-mails differ"  # values not shown: they are personal data


def test_email_canonical_is_lower_case():
    m = scan(pa.array(["Contact: Jane.Doe@Example.ORG."]), ["EMAIL"])
    assert [(x.start, x.end, x.canon) for x in m] == [(9, 29, "jane.doe@example.org")]


def test_checksums_decide_valid_and_invalid_identifiers():
    codes = bdpm().column("c0").to_pylist()[:40]  # real 8-digit codes as DNI numbers
    good = [c + dni.calc_check_digit(c) for c in codes]
    bad = [c + ("A" if dni.calc_check_digit(c) != "A" else "B") for c in codes]
    texts = [f"DNI {g}" for g in good] + [f"DNI {b}" for b in bad]
    hits = {m.row for m in scan(pa.array(texts), ["NATIONAL_ID"])}
    assert hits == set(range(len(good))), "a DNI is PII exactly when its letter is right"

    # FR NIR with its key, and with the key off by one; IT codice fiscale with a wrong control letter
    body = "1850578006084"
    key = nir.calc_check_digits(body)
    wrong_key = f"{(int(key) % 97) + 1:02d}"
    cf = "RSSMRA85T10A562"
    cf_good, cf_bad = cf + codicefiscale.calc_check_digit(cf), cf + ("A" if codicefiscale.calc_check_digit(cf) != "A" else "B")
    texts = [f"NIR {body}{key}", f"NIR {body}{wrong_key}", f"CF {cf_good}", f"CF {cf_bad}"]
    assert {m.row for m in scan(pa.array(texts), ["NATIONAL_ID"])} == {0, 2}


def test_card_and_iban_need_valid_check_digits():
    docs = presidio()
    cards = [d["full_text"][s["start_position"]:s["end_position"]] for d in docs for s in d["spans"]
             if s["entity_type"] == "CREDIT_CARD"][:30]
    ibans = [d["full_text"][s["start_position"]:s["end_position"]] for d in docs for s in d["spans"]
             if s["entity_type"] == "IBAN_CODE"]

    def off_by_one(value: str) -> str:
        i = max(i for i, c in enumerate(value) if c.isdigit())
        return value[:i] + str((int(value[i]) + 1) % 10) + value[i + 1:]

    assert all(luhn.is_valid(re.sub(r"\D", "", c)) for c in cards)
    for values, type in ((cards, "CARD"), (ibans, "IBAN")):
        assert len({m.row for m in scan(pa.array(values), [type])}) == len(values)
        assert scan(pa.array([off_by_one(v) for v in values]), [type]) == []


def test_ip_and_url_credentials():
    texts = ["client 86.121.97.248 blocked", "from 6e40:4041:c617:e898:c11:40d2:c669:2eb4 too",
             "version 1.2.3.4.5 and time 12:30:45", "loopback 127.0.0.1",
             "git clone https://deploy:t0ps3cret@git.example.org/repo.git"]
    matches = scan(pa.array(texts), ["IP", "URL_CREDENTIALS", "EMAIL"])
    assert [(m.row, m.type, texts[m.row][m.start:m.end]) for m in matches] == [
        (0, "IP", "86.121.97.248"), (1, "IP", "6e40:4041:c617:e898:c11:40d2:c669:2eb4"),
        (4, "URL_CREDENTIALS", "deploy:t0ps3cret")]


def test_codes_dates_and_isbns_are_not_pii():
    table = bdpm()
    for name in ("c0", "c1", "c7"):  # CIS codes, denominations (doses like "313 200 000 UI"), dates
        assert scan(table.column(name), PATTERN_PII, ["FR"]) == [], f"BDPM column {name}"
    with OTL.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    raw = [r[k] for r in rows for k in ("ISBN10", "ISBN13") if r[k]]
    assert len(raw) > 400
    # a bare ISBN-10 that starts with 0 is also a well-formed French or German phone number: only with context
    bare = [v for v in raw if len(v) == 13]
    isbns = pa.array(bare + [f"ISBN {isbn.format(v)}" for v in raw if isbn.is_valid(v)]
                     + [f"ISBN: {v}" for v in raw if len(v) == 10])
    for regions in (["GB", "US"], ["FR"], ["DE"]):
        assert scan(isbns, PATTERN_PII, regions) == [], f"ISBNs with regions {regions}"


def test_prefilter_never_changes_results():
    texts = [d["full_text"] for d in presidio()] + [d["text"] for d in meddocan(60)]
    table = bdpm()
    texts += table.column("c1").to_pylist()[:3000] + table.column("c0").to_pylist()[:500]  # doses, codes
    texts += table.column("c7").to_pylist()[:500] + [None, "", "+33 1 23 45 67 89", "0612345678", "06 12"]  # dates
    with OTL.open(encoding="utf-8", newline="") as f:
        texts += [r["ISBN10"] for r in csv.DictReader(f) if r["ISBN10"]]  # a few read as French numbers
    values = pa.array(texts, pa.large_string())
    for regions in (["GB", "US"], ["ES"], ["FR"], []):
        matches = scan(values, PATTERN_PII, regions)
        assert len(matches) > 100
        assert matches == scan(values, PATTERN_PII, regions, prefilter=False)
        rows = {m.row for m in matches}
        assert contains(values, PATTERN_PII, regions).to_pylist() == [i in rows for i in range(len(texts))]


def test_contains_handles_nulls_and_both_string_types():
    for t in (pa.string(), pa.large_string()):
        values = pa.array([None, "write to a.b@uni-bern.ch", "nothing here"], t)
        assert contains(values, PATTERN_PII).to_pylist() == [False, True, False]
    with pytest.raises(TypeError, match="string column"):
        scan(pa.array([1, 2]))


def test_default_regions():
    assert default_regions(["fr", "es", "de", "pt", "en"]) == ["FR", "ES", "DE", "PT", "GB", "US"]
    assert default_regions(["pt-BR", "en-GB", "xx"]) == ["BR", "GB"]


# --- the step -------------------------------------------------------------------------------------------------

def batch_of(n: int = 12) -> pa.RecordBatch:  # n >= 5
    """Real MEDDOCAN reports: text (e-mails, phones, NASS), plus an id and a large_string note column."""
    docs = meddocan()
    with_phone = [d for d in docs if any(s["label"] == "NUMERO_TELEFONO" for s in d["spans"])]
    docs = docs[:n - 4] + with_phone[:4]
    return pa.RecordBatch.from_pydict({
        "id": pa.array([d["id"] for d in docs]),
        "text": pa.array([d["text"] for d in docs]),
        "note": pa.array([None if i % 3 == 0 else d["text"][:400] for i, d in enumerate(docs)], pa.large_string()),
        "n": pa.array(range(n), pa.int64()),
    })


def run(step: Pii, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, list]:
    rejected = []
    out = list(step.run([batch], sink=lambda stage, rows, reason: rejected.append((reason, rows.num_rows))))
    return (out[0] if out else batch.slice(0, 0)), rejected


def test_redact_replaces_spans_with_typed_placeholders():
    batch = batch_of()
    out, rejected = run(Pii(PiiConfig(), "ds", ["ES"]), batch)
    text = out.column("text").to_pylist()
    assert rejected == [] and out.num_rows == batch.num_rows
    assert out.schema == batch.schema
    assert any("[EMAIL]" in t for t in text) and any("[NATIONAL_ID]" in t for t in text)
    assert scan(out.column("text"), PATTERN_PII, ["ES"]) == []
    assert out.column("id").to_pylist() == batch.column("id").to_pylist(), "ids are not PII here"


def test_pseudonymize_is_stable_within_dataset_and_keyed():
    email = "javiertorresgomez@yahoo.es"
    values = pa.array([f"E-mail: {email}", f"escribir a {email.upper()}", "sin datos"])
    batch = pa.RecordBatch.from_pydict({"contact": values})
    cfg = PiiConfig(policy="pseudonymize")
    a = run(Pii(cfg, "ds", ["ES"], key=KEY), batch)[0].column("contact").to_pylist()
    b = run(Pii(cfg, "ds", ["ES"], key=b"another key"), batch)[0].column("contact").to_pylist()
    c = run(Pii(cfg, "other_ds", ["ES"], key=KEY), batch)[0].column("contact").to_pylist()
    token = re.search(r"\[EMAIL:[0-9a-f]{12}\]", a[0]).group()
    assert a[1] == f"escribir a {token}", "same canonical value, same token"
    assert a[2] == "sin datos"
    assert token not in b[0] and token not in c[0], "another key or dataset gives another token"
    leaked = email in "".join(a)
    assert not leaked


def test_placeholders_are_not_found_again():
    """The residual check on published data must not flag the step's own tokens, whatever their hex digits."""
    batch = batch_of()
    out, _ = run(Pii(PiiConfig(policy="pseudonymize"), "ds", ["ES"], key=KEY), batch)
    tokens = [t for t in out.column("text").to_pylist() if re.search(r"\[[A-Z_]+:[0-9a-f]{12}\]", t)]
    assert tokens and not any(contains(pa.array(tokens), PATTERN_PII, ["ES"]).to_pylist())
    digits = pa.array([f"[PHONE:{d}]" for d in ("441234567890", "601234567890", "4111111111111111"[:12])])
    assert scan(digits, PATTERN_PII, ["GB", "US", "ES"]) == []


def test_pseudonymize_without_key_names_the_variable():
    with pytest.raises(ValueError, match="COMMONS_PII_KEY"):
        Pii(PiiConfig(types={"EMAIL": "pseudonymize"}), "ds", ["ES"])


def test_drop_row_rejects_with_type_reason():
    batch = batch_of()
    step = Pii(PiiConfig(policy="keep", types={"EMAIL": "drop_row"}), "ds", ["ES"])
    out, rejected = run(step, batch)
    has_email = contains(batch.column("text"), ["EMAIL"]).to_pylist()
    assert 0 < sum(has_email) < batch.num_rows
    assert rejected == [("pii:EMAIL", sum(has_email))]
    assert step.count.removed == {"pii:EMAIL": sum(has_email)}
    assert out.column("id").to_pylist() == [i for i, h in zip(batch.column("id").to_pylist(), has_email) if not h]
    assert out.column("text").to_pylist() == [t for t, h in zip(batch.column("text").to_pylist(), has_email) if not h]


def test_drop_column_and_keep_column_are_not_scanned():
    batch = batch_of()
    step = Pii(PiiConfig(columns={"text": "drop_column", "note": "keep"}), "ds", ["ES"])
    out, _ = run(step, batch)
    assert out.schema.names == ["id", "note", "n"]
    assert out.column("note").equals(batch.column("note"))
    assert step.report() == []


def test_policy_precedence_column_over_type_over_default():
    batch = batch_of()
    step = Pii(PiiConfig(policy="redact", types={"PHONE": "keep"}, columns={"note": "pseudonymize"}), "ds", ["ES"],
               key=KEY)
    out, _ = run(step, batch)
    text, note = out.column("text").to_pylist(), out.column("note").to_pylist()
    assert any("[EMAIL]" in t for t in text) and not any("[PHONE]" in t for t in text)
    assert all(n is None or "[EMAIL]" not in n for n in note)
    assert any(n and re.search(r"\[NATIONAL_ID:[0-9a-f]{12}\]", n) for n in note)
    assert out.column("note").type == pa.large_string()
    policies = {(c.type, c.column): c.policy for c in step.report()}
    assert policies[("PHONE", "text")] == "keep" and policies[("EMAIL", "text")] == "redact"
    assert {p for (t, c), p in policies.items() if c == "note"} == {"pseudonymize"}


def test_report_counts_every_finding_sorted():
    batch = batch_of()
    step = Pii(PiiConfig(), "ds", ["ES"])
    run(step, batch)
    run(step, batch)  # counts add up over batches
    expected = {}
    for m in scan(batch.column("text"), PATTERN_PII, ["ES"]):
        expected[(m.type, "text")] = expected.get((m.type, "text"), 0) + 2
    for m in scan(batch.column("note"), PATTERN_PII, ["ES"]):
        expected[(m.type, "note")] = expected.get((m.type, "note"), 0) + 2
    report = step.report()
    assert report == sorted(report, key=lambda c: (c.type, c.column, c.policy))
    assert {(c.type, c.column): c.count for c in report} == expected
    assert all(isinstance(c, PiiCount) and c.policy == "redact" for c in report)


def test_unknown_column_in_config_names_it():
    step = Pii(PiiConfig(columns={"email_adress": "drop_column"}), "ds", ["ES"])
    with pytest.raises(ValueError, match="email_adress.*columns present: id, text, note, n"):
        step.process(batch_of())


class GoldNames:
    """Test double for the external NER model: returns MEDDOCAN's gold person spans, and one span that overlaps
    an e-mail (the pattern finding must win)."""

    def __init__(self, docs: list[dict]):
        self.spans = {d["text"]: [(s["start"], s["end"], "PERSON") for s in d["spans"]
                                  if s["label"] == "NOMBRE_SUJETO_ASISTENCIA"]
                      + [(s["start"] - 2, s["end"], "PERSON") for s in d["spans"] if s["label"] == "CORREO_ELECTRONICO"]
                      for d in docs}
        self.calls = []

    def find(self, texts: list[str]) -> list[list[tuple[int, int, str]]]:
        self.calls.append(len(texts))
        return [self.spans.get(t, []) for t in texts]


def test_ner_spans_merge_with_patterns_and_follow_policies():
    docs = meddocan(12)
    batch = pa.RecordBatch.from_pydict({"text": [d["text"] for d in docs]})
    ner = GoldNames(docs)
    step = Pii(PiiConfig(types={"PERSON": "pseudonymize"}), "ds", ["ES"], key=KEY, ner=ner)
    out, _ = run(step, batch)
    assert ner.calls[0] == len(docs) and len(ner.calls) == 2, "one batched call per column and round"
    text = out.column("text").to_pylist()
    names = [d["text"][s["start"]:s["end"]] for d in docs for s in d["spans"] if s["label"] == "NOMBRE_SUJETO_ASISTENCIA"]
    assert names and sum(len(re.findall(r"\[PERSON:[0-9a-f]{12}\]", t)) for t in text) == len(names)
    counts = {c.type: c.count for c in step.report()}
    emails = sum(s["label"] == "CORREO_ELECTRONICO" for d in docs for s in d["spans"])
    assert counts["EMAIL"] == emails, "e-mails stay e-mails where the NER span overlaps"
    assert counts["PERSON"] == len(names)


def test_numbers_inside_urls_handles_and_course_codes_are_not_phones():
    """Every string of the Open Textbook Library: its URLs hold handles ("1840.20/36776"), year ranges and UUIDs,
    its titles verse ranges ("3.511-733"), its descriptions course codes ("HORT 1001/6001"); none is a phone."""
    with (SHARED / "opendata" / "open_textbook_library" / "OTL.csv").open(encoding="utf-8", newline="") as f:
        values = [v for row in csv.reader(f) for v in row if v]
    assert sum("1840.20/" in v for v in values) > 5 and any("1001/6001" in v for v in values)
    found = scan(pa.array(values), ("PHONE",), default_regions(["en"]))
    assert found == []
    assert contains(pa.array(["Ring the office on 020 7946 0321 before noon."]), ("PHONE",), ["GB"]).to_pylist() == [True]


def _with_check(body: str, valid, alphabet: str = "0123456789", at: int | None = None) -> tuple[str, str]:
    """`body` with the check character that `valid` accepts (inserted at `at`, else appended), and with one it refuses."""
    def put(c: str) -> str:
        return body + c if at is None else body[:at] + c + body[at:]

    good = [put(c) for c in alphabet if valid(put(c))]
    bad = [put(c) for c in alphabet if not valid(put(c))]
    assert good and bad, body
    return good[0], bad[0]


def test_european_national_ids_are_found_by_their_checksums_and_labels():
    from stdnum.at import vnr
    from stdnum.ch import ssn
    from stdnum.fi import hetu
    from stdnum.pl import pesel
    from stdnum.se import personnummer

    codes = bdpm().column("c0").to_pylist()[:12]  # real 8-digit codes as the varying part of each number
    cases = []  # (text with a valid number, text with a wrong check, text without the label it needs or None)
    for k, code in enumerate(codes):
        day, month, year = f"{k + 10:02d}", f"{k % 12 + 1:02d}", f"{code[:2]}"
        avs = _with_check("756" + code + code[0], lambda n: ssn.is_valid(n))
        dotted = [f"{n[:3]}.{n[3:7]}.{n[7:11]}.{n[11:]}" for n in avs]
        cases.append((f"Numéro AVS : {dotted[0]}.", f"Numéro AVS : {dotted[1]}.", f"AHV {avs[0]} bitte angeben"))
        sv = _with_check(code[:3] + day + month + year, vnr.is_valid, at=3)
        cases.append((f"SVNR {sv[0][:4]} {sv[0][4:]}", f"SVNR {sv[1][:4]} {sv[1][4:]}", f"Nummer {sv[0]}"))
        pe = _with_check(f"{year}{month}{day}{code[:4]}", pesel.is_valid)
        cases.append((f"PESEL: {pe[0]}", f"PESEL: {pe[1]}", f"numer {pe[0]}"))
        se = _with_check(f"{year}{month}{day}-{code[:3]}", lambda n: personnummer.is_valid(n))
        cases.append((f"personnummer {se[0]}", f"personnummer {se[1]}", None))
        fi = _with_check(f"{day}{month}{year}-{code[:3]}", hetu.is_valid, "0123456789ABCDEFHJKLMNPRSTUVWXY")
        cases.append((f"henkilötunnus {fi[0]}", f"henkilötunnus {fi[1]}", None))
    found = lambda texts: {m.row for m in scan(pa.array(texts), ["NATIONAL_ID"])}  # noqa: E731
    good, bad = [c[0] for c in cases], [c[1] for c in cases]
    unlabelled = [c[2] for c in cases if c[2]]
    assert found(good) == set(range(len(good)))
    assert found(bad) == set(), [bad[i] for i in found(bad)]
    # the AVS needs no label (756 and an EAN-13 check digit); the others' checksums are too weak to go without one
    assert {unlabelled[i].split()[0] for i in found(unlabelled)} == {"AHV"}


def test_danish_cpr_needs_its_label_and_a_real_date():
    texts = ["CPR-nr. 211062-5629", "CPR-nr. 321362-5629", "Ordrenummer 211062-5629"]
    assert {m.row for m in scan(pa.array(texts), ["NATIONAL_ID"])} == {0}


@pytest.mark.parametrize("regions", [["DE"], ["FR"], ["ES"], ["GB"], ["DE", "CH", "AT"]])
def test_dates_are_never_phone_numbers(regions):
    texts = ["Urteil vom 04.12.2017, Az. 3 K 12/17", "audience du 04/12/2017", "sentencia de 4-12-2017",
             "published 2017-12-04", "Rufnummer seit 04.12.2017 gültig"]
    assert scan(pa.array(texts), ["PHONE"], regions) == []
    assert len(scan(pa.array(["Tel. 030 1234567", "Tél. : 01 42 68 53 07"]), ["PHONE"], ["DE", "FR"])) == 2
