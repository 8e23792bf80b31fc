"""Every curation step in order, through the nightly job, on a multilingual source built from real UDHR paragraphs
with planted personal data, duplicates, mojibake and a placeholder text."""

import json

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey

from commons_pipelines.curate.pii import scan
from commons_pipelines.spec import PATTERN_PII

from .conftest import SHARED_DATA
from .test_pipeline import checks, run_nightly

UDHR = SHARED_DATA / "language" / "udhr_151_languages.jsonl"
LANGUAGES = ["en", "fr", "de", "es", "ar"]
SWITCHBOARD = "+33 1 40 00 00 00"  # an institution's public number, in a column declared `keep`
PLANTED = {  # type -> values planted into the free text; none may be published
    "EMAIL": ["maria.lopez@example.org", "k.weber@example.de"],
    "PHONE": ["+44 20 7946 0321", "06 12 34 56 78"],
    "IBAN": ["DE89 3704 0044 0532 0130 00", "FR76 3000 6000 0112 3456 7890 189"],
    "NATIONAL_ID": ["12345678Z", "2 84 07 75 123 456 07"],
    "IP": ["192.168.10.24", "2001:db8::8a2e:370:7334"],
    "URL_CREDENTIALS": ["https://admin:s3cret-pass@data.example.org/export"],
}
CARD = "4111 1111 1111 1111"
STAGES = ["ingest", "normalize", "normalize_text", "quality", "language", "pii", "provenance", "exact_dedup",
          "near_dedup"]


def udhr(language: str, n: int) -> list[str]:
    rows = [json.loads(line) for line in UDHR.open(encoding="utf-8")]
    texts = [r["text"] for r in rows if r["iso639_1"] == language and len(r["text"].split()) >= 25]
    assert len(texts) >= n, language
    return texts[:n]


def write_source(folder, extra: list[dict] = ()) -> list[dict]:
    records, n = [], 0

    def add(language, text, **more):
        nonlocal n
        n += 1
        records.append({"doc_id": f"D{n:03d}", "language": language, "title": f"Article {n}", "text": text,
                        "contact": SWITCHBOARD, "email": None, **more})

    for language in LANGUAGES:
        for text in udhr(language, 6):
            add(language, text)
    planted = [value for values in PLANTED.values() for value in values]
    for i, value in enumerate(planted):  # one planted value per English/French/German/Spanish record
        target = records[i * 3 % 24]
        target["text"] += f" Contact: {value}."
    records[1]["email"] = records[7]["email"] = "secretariat@example.org"  # same value, same token
    records[2]["text"] += f" Card {CARD}."  # drop_row for cards
    add("fr", records[6]["text"])  # exact duplicate of another record's text under a new id
    near = records[13]["text"].split()
    near[3], near[-4] = near[3].upper(), "???"
    add("de", " ".join(near))  # near duplicate
    fixed = udhr("fr", 7)[6]
    add("fr", fixed.encode("utf-8").decode("cp1252", errors="replace"))  # mojibake
    add("en", "Text coming soon.")  # fails min_words
    for record in extra:
        add(**record)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "docs.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return records


@pytest.fixture
def source(write_spec, tmp_path, monkeypatch):
    monkeypatch.setenv("COMMONS_PII_KEY", "a test key that is not secret")
    records = write_source(tmp_path / "docs")
    spec = write_spec("rights_docs", languages=LANGUAGES, licence="CC-BY-4.0",
                      files={"path": str(tmp_path / "docs"), "format": "jsonl"},
                      text_columns=["title", "text"], primary_key=["doc_id"],
                      pii={"policy": "redact", "types": {"CARD": "drop_row"},
                           "columns": {"contact": "keep", "email": "pseudonymize"}},
                      dedup={"columns": ["text"], "near": {"threshold": 0.7}},
                      quality={"min_words": 8, "max_symbol_ratio": 0.1})
    return spec, records


def metadata(result, stage, source_id):
    [mat] = [e.materialization for e in result.get_asset_materialization_events()
             if e.asset_key == AssetKey([source_id, stage])]
    return {k: v.value for k, v in mat.metadata.items()}


def test_every_step_runs_in_order_and_nothing_planted_is_published(source, settings):
    spec, records = source
    result = run_nightly({spec.id: spec}, settings)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert all(checks(result).values())
    meta = metadata(result, "curated", spec.id)
    stages = [r.data for r in meta["stages"].records]
    assert [s["stage"] for s in stages] == STAGES
    removed = {(s["stage"], reason) for s in stages for reason in s["by_reason"].split(", ") if reason != "-"}
    assert {stage for stage, _ in removed} == {"quality", "pii", "exact_dedup", "near_dedup"}

    current = settings.publish_dir / spec.id / "current"
    rows = pq.read_table(current / "data").to_pylist()
    published_text = "\n".join(str(v) for r in rows for v in r.values())
    for values in PLANTED.values():
        for value in values:
            assert value not in published_text
    assert CARD not in published_text and "secretariat@example.org" not in published_text
    assert all(r["contact"] == SWITCHBOARD for r in rows)  # declared public: kept
    assert not any(m.type in PATTERN_PII for m in scan(pa.array([r["text"] for r in rows])))

    by_id = {r["doc_id"]: r for r in rows}
    assert "D003" not in by_id  # the card row is dropped whole, and quarantined redacted
    quarantine = pq.read_table(settings.curated_dir / spec.id / "current" / "quarantine" / "pii.parquet").to_pylist()
    assert [(r["doc_id"], r["_reason"]) for r in quarantine] == [("D003", "pii:CARD")]
    assert "[CARD]" in quarantine[0]["text"] and CARD not in quarantine[0]["text"]
    assert by_id["D002"]["email"] == by_id["D008"]["email"] and by_id["D002"]["email"].startswith("[EMAIL")
    assert "[EMAIL]" in by_id["D001"]["text"]  # redacted in place, typed
    pii = {(r.data["type"], r.data["column"]): r.data["found"] for r in meta["pii"].records}
    for kind, values in PLANTED.items():
        assert pii[(kind, "text")] >= len(values), kind
    assert pii[("EMAIL", "email")] == 2 and pii[("CARD", "text")] == 1

    languages = {r["doc_id"]: r["_lang"] for r in rows}
    wrong = {d: l for d, l in languages.items() if l != by_id[d]["language"]}
    assert not wrong
    [mojibake] = [r for r in records if "Ã" in r["text"]]
    assert by_id[mojibake["doc_id"]]["text"] == udhr("fr", 7)[6]  # repaired

    cache = str(settings.home / "hf-cache")
    french = datasets.load_dataset(str(current), "fr", cache_dir=cache)["train"]
    assert set(french["_lang"]) == {"fr"} and french.num_rows == sum(1 for r in rows if r["_lang"] == "fr")
    everything = datasets.load_dataset(str(current), cache_dir=cache)["train"]
    assert everything.num_rows == len(rows)
    card = (current / "README.md").read_text()
    assert "config_name: fr" in card and "Personal data" in card
    for values in PLANTED.values():
        assert not any(v in card for v in values)
