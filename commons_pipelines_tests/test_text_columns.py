"""Which columns are text: detected on real tables when a source declares none, and what curation does with them."""

import csv
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from commons_pipelines.curate.runner import curate
from commons_pipelines.curate.text import detect, is_text
from commons_pipelines.ingest.readers import read_file
from commons_pipelines.orchestration.factory import curation_metadata
from commons_pipelines.publish.card import text_sentence

from .conftest import BDPM, BDPM_COLUMNS, OTL, SHARED_DATA


def _otl() -> pa.RecordBatch:
    with OTL.open(encoding="utf-8", newline="") as f:
        return pa.RecordBatch.from_pylist(list(csv.DictReader(f)))


def test_the_textbook_descriptions_and_titles_are_text_and_codes_urls_labels_and_name_lists_are_not():
    assert detect(_otl()) == ["Title", "Description"]  # not Contributors: "Jane Roe, Boston Public Schools"


def test_no_column_of_the_medicines_database_is_text():
    """Medicine names are labels in capitals ("DOLIPRANE 1000 mg, comprimé"), the rest codes, dates and statuses."""
    rows = [line.split("\t") for line in BDPM.read_text(encoding="utf-8").splitlines()]
    batch = pa.RecordBatch.from_pydict({c: [r[i] if i < len(r) else None for r in rows]
                                        for i, c in enumerate(BDPM_COLUMNS)})
    assert detect(batch) == []


@pytest.mark.parametrize("lang", ["zh", "ja", "th", "hi", "my", "ar", "ru", "en"])
def test_prose_in_scripts_with_and_without_spaces_or_case_is_text(lang):
    rows = [json.loads(line) for line in (SHARED_DATA / "language" / "udhr_151_languages.jsonl").open()]
    texts = [r["text"] for r in rows if r["iso639_1"] == lang]
    assert len(texts) > 40 and is_text(pa.array(texts))


def test_short_values_numbers_and_the_projects_own_columns_are_not_text():
    long = "A sentence long enough to read as prose, in words."
    batch = pa.RecordBatch.from_pydict({"short": ["Oui", "Non"], "n": [1, 2], "_source_file": [long, long],
                                        "empty": pa.array([None, None], pa.string()), "body": [long, long]})
    assert detect(batch) == ["body"]


def _landed(spec) -> pa.Table:
    with OTL.open("rb") as f:
        table = pa.Table.from_batches(list(read_file(f, "OTL.csv", spec.files)))
    return table.append_column("_source_file", pa.array(["OTL.csv"] * table.num_rows)).slice(0, 400)


def test_a_source_without_text_columns_gets_language_and_names_on_the_detected_ones(write_spec, tmp_path):
    spec = write_spec("otl_text", files={"path": str(OTL), "format": "csv"}, pii={"ner": "auto"})
    landed = _landed(spec)
    result = curate(spec, [*landed.slice(0, 300).to_batches(), *landed.slice(300).to_batches()], tmp_path / "curated")
    assert result.report.text_columns == ["title", "description"] and result.report.text_detected
    assert [s.stage for s in result.stages][:6] == [
        "normalize", "normalize_text", "quality", "language", "pii", "provenance"]
    langs = result.languages()
    assert max(langs, key=langs.get) == "en" and sum(langs.values()) == 400
    assert result.report.ner_languages.get("en", "").startswith("en_names")
    sentence = text_sentence(result.report)
    assert "`title`, `description`" in sentence and "found in the data" in sentence
    assert curation_metadata(result)["text_columns"] == "title, description (detected)"


def test_text_columns_declared_empty_means_none(write_spec, tmp_path):
    spec = write_spec("otl_none", files={"path": str(OTL), "format": "csv"}, text_columns=[], pii={"ner": "auto"})
    result = curate(spec, _landed(spec).to_batches(max_chunksize=100), tmp_path / "curated")
    assert result.report.text_columns == [] and not result.report.text_detected
    assert "language" not in [s.stage for s in result.stages] and result.report.ner.startswith("off")
    assert "_lang" not in pq.read_schema(result.files[0]).names and text_sentence(result.report) == ""
    assert "text_columns" not in curation_metadata(result)
