import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from commons_pipelines.curate.normalize import NormalizeColumns
from commons_pipelines.curate.provenance import PROVENANCE_COLUMNS, Provenance, row_sha256
from commons_pipelines.curate.runner import curate, load_curated
from commons_pipelines.ingest.readers import read_file
from commons_pipelines.naming import column_name, column_names

from .conftest import OTL, readable


def batch(**cols) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(cols)


def test_column_names_follow_the_warehouse_convention():
    assert [column_name(n) for n in ["OTL ID", "Copyright Year", "Dénomination du médicament", "camelCase"]] == [
        "otl_id", "copyright_year", "denomination_du_medicament", "camel_case"]
    assert column_names(["A b", "a_b", "A-B"]) == ["a_b", "a_b_2", "a_b_3"]
    out = NormalizeColumns().process(batch(**{"Nom Établissement": ["x"], "_source_file": ["f"]}))
    assert out.schema.names == ["nom_etablissement", "_source_file"]


def test_row_hash_is_deterministic_and_tells_null_from_empty():
    a = row_sha256(batch(x=["1", "", None, "1"], y=[2, 2, 2, 3]))
    assert len(set(a.to_pylist()[:3])) == 3 and a[0] != a[3]
    assert row_sha256(batch(x=["1"], y=[2])).to_pylist() == a.to_pylist()[:1]
    nested = batch(x=pa.array([{"k": [1, 2]}, {"k": [1, 3]}]))
    assert len(set(row_sha256(nested).to_pylist())) == 2


def test_provenance_columns(write_spec):
    spec = write_spec("prov", licence="CC-BY-4.0", files={"path": "../data", "format": "csv"})
    when = pa.array([0, 0], pa.timestamp("us", tz="UTC"))
    out = Provenance(spec).process(pa.RecordBatch.from_pydict(
        {"title": ["a", "b"], "_source_file": ["x.csv", "y.csv"], "_ingest_run": ["r1", "r1"],
         "_source_url": ["file:///data/x.csv", "https://example.org/y.csv"], "_retrieved_at": when}))
    assert out.schema.names == ["title", *PROVENANCE_COLUMNS]  # the warehouse's bookkeeping stops here
    rows = out.to_pylist()
    assert rows[0]["_source"] == "prov" and rows[0]["_licence"] == "CC-BY-4.0"
    assert [r["_source_url"] for r in rows] == ["file:///data/x.csv", "https://example.org/y.csv"]
    assert rows[0]["_row_sha256"] == row_sha256(batch(title=["a"]))[0].as_py()  # the data columns only


def test_runner_writes_data_quarantine_and_counts_then_replaces_atomically(write_spec, tmp_path):
    spec = write_spec("otl_curate", files={"path": str(OTL), "format": "csv"}, text_columns=[])
    with OTL.open("rb") as f:
        table = pa.Table.from_batches(list(read_file(f, "OTL.csv", spec.files)))  # ragged rows: our reader pads them
    table = pa.concat_tables([table, table.slice(0, 10)])  # ten exact duplicates
    table = table.append_column("_source_file", pa.array(["OTL.csv"] * table.num_rows))
    folder = tmp_path / "curated" / spec.id
    result = curate(spec, table.to_batches(max_chunksize=300), folder)
    assert result.rows == 1112 and [s.stage for s in result.stages] == [
        "normalize", "normalize_text", "pii", "provenance", "exact_dedup"]  # no text columns: no language, no near dedup
    assert result.stages[-1].removed == {"exact_duplicate": 10}
    assert result.folder == (folder / "current").resolve()
    quarantined = pq.read_table(result.folder / "quarantine" / "exact_dedup.parquet")
    assert quarantined.num_rows == 10 and set(quarantined["_reason"].to_pylist()) == {"exact_duplicate"}
    ids = [v.strip() for v in table.column("otl_id").to_pylist()[:1112]]  # "  4": whitespace is normalised
    assert pq.read_table(result.files).column("otl_id").to_pylist() == ids
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert manifest["rows"] == 1112 and manifest["id"] == result.id

    again = curate(spec, table.slice(0, 5).to_batches(), folder)
    assert again.id != result.id and load_curated(folder).rows == 5
    assert not result.folder.exists()  # the old curation's files are gone with it
    assert sorted(p.name for p in folder.iterdir()) == ["current", "runs"]
    assert [p.name for p in (folder / "runs").iterdir()] == [again.id]


def test_load_curated_says_what_to_do_when_nothing_was_curated(tmp_path):
    with pytest.raises(FileNotFoundError, match="materialise the curated asset first"):
        load_curated(tmp_path / "nothing")


def test_worker_processes_give_the_same_curation_as_one_process(write_spec, tmp_path):
    """UDHR paragraphs in 151 languages and MEDDOCAN clinical reports full of personal data, in batches of 400 rows:
    with two worker processes the rows, their order, the counts, the PII report and the quarantine are the same."""
    import json as _json

    from .conftest import SHARED_DATA

    texts = [_json.loads(line)["text"] for line in (SHARED_DATA / "language" / "udhr_151_languages.jsonl").open()]
    texts += [_json.loads(line)["text"] for line in (SHARED_DATA / "pii" / "meddocan_es_train.jsonl").open()]
    texts += texts[:300]  # exact duplicates (those the quality filter keeps), removed after the workers
    table = pa.table({"doc_id": [f"d{i}" for i in range(len(texts))], "text": texts,
                      "_source_file": ["docs.jsonl"] * len(texts)})
    spec = write_spec("parallel", languages=["en", "es", "fr"], files={"path": ".", "format": "jsonl"},
                      text_columns=["text"], pii={"policy": "redact", "types": {"NATIONAL_ID": "drop_row"}, "ner": "off"},
                      quality={"min_words": 12}, dedup={"columns": ["text"]})
    one = curate(spec, table.to_batches(max_chunksize=400), tmp_path / "one")
    two = curate(spec, table.to_batches(max_chunksize=400), tmp_path / "two", workers=2, parallel_after=1)
    assert one.rows == two.rows and pq.read_table(one.files).equals(pq.read_table(two.files))
    assert [s.as_dict() for s in one.stages] == [s.as_dict() for s in two.stages]
    removed = {s.stage: dict(s.removed) for s in two.stages if s.removed}
    assert {"quality", "pii", "exact_dedup"} <= set(removed) and removed["exact_dedup"]["exact_duplicate"] >= 200
    assert one.report == two.report and any(p.type == "EMAIL" and p.count > 400 for p in two.report.pii)
    for name in removed:
        assert pq.read_table(one.folder / "quarantine" / f"{name}.parquet").equals(
            pq.read_table(two.folder / "quarantine" / f"{name}.parquet"))
        assert not {"_dedup_key", "_minhash"} & set(pq.read_schema(two.folder / "quarantine" / f"{name}.parquet").names)
    assert not {"_dedup_key", "_minhash"} & set(two.schema.names)  # dedup's keys, made by the workers, stay behind


def test_rows_a_step_before_pii_removes_reach_quarantine_redacted(write_spec, tmp_path):
    """Quality runs before PII (it is cheap and removes rows early): what it removes is treated on its way to the
    quarantine, so no file the curation writes holds personal data the published rows do not."""
    spec = write_spec("short_notes", files={"path": ".", "format": "jsonl"}, text_columns=["text"],
                      quality={"min_words": 8}, pii={"ner": "off"})
    table = pa.table({"id": ["1", "2", "3"],
                      "text": ["Write to maria.lopez@example.org today.",  # too short: quality removes it
                               "Ring 06 12 34 56 78.",  # too short too
                               "The library opens at nine every morning from Monday to Friday this term."]})
    result = curate(spec, table.to_batches(), tmp_path / "curated")
    assert result.rows == 1
    written = "".join(readable(p) for p in result.folder.rglob("*") if p.is_file())
    assert "maria.lopez" not in written and "06 12 34 56 78" not in written
    quarantined = pq.read_table(result.folder / "quarantine" / "quality.parquet").to_pylist()
    assert [r["text"] for r in quarantined] == ["Write to [EMAIL] today.", "Ring [PHONE]."]
    assert not result.report.pii  # counted only in the rows that are published


def test_a_parquet_file_is_read_in_the_memory_of_a_batch_not_of_the_file(tmp_path):
    from commons_pipelines import parquet

    path = tmp_path / "many-groups.parquet"
    group = pa.table({"text": [f"{i:08d}" + "x" * 992 for i in range(1_000)]})  # about 1 MB a row group
    with pq.ParquetWriter(path, group.schema, compression="none") as writer:
        for _ in range(60):
            writer.write_table(group)
    held, rows = [], 0
    for b in parquet.batches(path, 1_000):
        rows += b.num_rows
        held.append(pa.total_allocated_bytes())
        del b
    assert rows == 60_000
    assert max(held) < 8 * 2**20  # pyarrow's default (pre-buffering) holds every row group read: 60 MB at the end
