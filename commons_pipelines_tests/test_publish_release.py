"""publish() to the local target, and the card and croissant.json it writes."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard

from commons_pipelines.publish import LocalTarget, PublishConflict, Version, publish
from commons_pipelines.publish.card import size_category
from commons_pipelines.publish.croissant import croissant
from commons_pipelines.publish.shards import ShardSet
from commons_pipelines.spec import SourceSpec
from commons_pipelines.stats import StageCount
from commons_pipelines_tests.test_publish_shards import otl_table

SMALL = dict(max_shard_bytes=500_000, row_group_bytes=100_000)


def make_spec(**changes) -> SourceSpec:
    fields = dict(
        id="open_textbook_library", title="Open Textbook Library",
        description="Catalogue of open textbooks: titles, authors, descriptions, subjects and formats.",
        homepage="https://open.umn.edu/opentextbooks", licence="CC-BY-4.0", languages=["en"], domain="education",
        kind="files", files={"path": "data/OTL.csv", "format": "csv"}, publish={"repo_id": "commons/open_textbook_library"},
        attribution={"creator": "Open Textbook Library", "citation": "Open Textbook Library, Center for Open Education, University of Minnesota."},
    )
    return SourceSpec.model_validate(fields | changes)


STAGES = [
    StageCount("ingest", 1115, 1112, Counter(malformed_csv_row=3)),
    StageCount("normalize", 1112, 1112),
    StageCount("provenance", 1112, 1112),
    StageCount("quality", 1112, 1109, Counter(too_short=2, boilerplate=1)),
    StageCount("exact_dedup", 1109, 1104, Counter(exact_duplicate=5)),
]


def write_curated(folder: Path, table: pa.Table) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    half = table.num_rows // 2
    paths = [folder / "part-0.parquet", folder / "part-1.parquet"]
    pq.write_table(table.slice(0, half), paths[0])
    pq.write_table(table.slice(half), paths[1])
    return paths


def card_of(folder: Path) -> DatasetCard:
    return DatasetCard((folder / "README.md").read_text(encoding="utf-8"))


def test_v1_then_v2_then_unchanged(tmp_path):
    spec, target = make_spec(), LocalTarget(tmp_path / "published")
    home, table = tmp_path / "published" / spec.id, otl_table()
    v1_input, v2_input = write_curated(tmp_path / "c1", table.slice(0, 800)), write_curated(tmp_path / "c2", table)

    first = publish(spec, v1_input, STAGES, target, **SMALL)
    assert (first.changed, first.version, first.rows) == (True, "v1", 800)
    assert first.ref == first.location == str(home / "versions" / "v1")

    second = publish(spec, v2_input, STAGES, target, **SMALL)
    assert (second.changed, second.version, second.rows) == (True, "v2", table.num_rows)
    assert second.content_sha256 != first.content_sha256
    assert len(second.shards) > len(first.shards) > 1

    again = publish(spec, v2_input, STAGES, target, **SMALL)
    assert (again.changed, again.version, again.content_sha256) == (False, "v2", second.content_sha256)
    assert sorted(p.name for p in (home / "versions").iterdir()) == ["v1", "v2"]
    assert os.readlink(home / "current") == os.path.join("versions", "v2")
    assert [(v.name, v.rows, v.content_sha256) for v in target.history(spec)] == [
        ("v1", 800, first.content_sha256), ("v2", table.num_rows, second.content_sha256)]
    assert sorted(p.name for p in home.iterdir()) == ["current", "versions"]  # no temporary leftovers

    v1 = home / "versions" / "v1"
    assert pq.read_table(v1 / "data").equals(table.slice(0, 800))
    assert [row[0] for row in _version_rows(card_of(v1))] == ["v1"]
    assert [row[0] for row in _version_rows(card_of(home / "current"))] == ["v2", "v1"]


def _version_rows(card: DatasetCard) -> list[list[str]]:
    section = card.text.split("## Versions", 1)[1]
    return [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| v")]


def test_current_loads_with_datasets_pyarrow_and_duckdb(tmp_path):
    import datasets

    spec, table = make_spec(), otl_table()
    result = publish(spec, write_curated(tmp_path / "c", table), STAGES, LocalTarget(tmp_path / "out"), **SMALL)
    current = tmp_path / "out" / spec.id / "current"

    loaded = datasets.load_dataset(str(current), cache_dir=str(tmp_path / "hf-cache"))
    assert list(loaded) == ["train"]
    assert loaded["train"].num_rows == result.rows == table.num_rows
    assert loaded["train"].column_names == table.column_names
    assert pq.read_table(current / "data").equals(table)
    count, titles = duckdb.sql(f"SELECT count(*), count(DISTINCT \"Title\") FROM read_parquet('{current}/data/*.parquet')").fetchall()[0]
    assert count == table.num_rows and titles == len(set(table["Title"].to_pylist()))

    # `datasets` caches a local folder by its name and card metadata: the card's dataset_info (sizes, row
    # counts) must change with the version, or `current` would keep serving v1 from the cache.
    changed = table.slice(0, 400).set_column(1, "Title", pa.array(["x"] * 400))
    publish(spec, write_curated(tmp_path / "c2", changed), STAGES, LocalTarget(tmp_path / "out"), **SMALL)
    again = datasets.load_dataset(str(current), cache_dir=str(tmp_path / "hf-cache"))
    assert again["train"].num_rows == 400 and set(again["train"]["Title"]) == {"x"}


def test_card_metadata_and_body(tmp_path):
    spec, table = make_spec(), otl_table()
    publish(spec, write_curated(tmp_path / "c", table), STAGES, LocalTarget(tmp_path / "out"), **SMALL)
    card = card_of(tmp_path / "out" / spec.id / "current")

    data = card.data
    assert data.license == "cc-by-4.0"
    assert data.language == ["en"]
    assert data.pretty_name == "Open Textbook Library"
    assert data.size_categories == ["1K<n<10K"]
    assert data.tags == ["education"]
    assert data.source_datasets == ["https://open.umn.edu/opentextbooks"]
    assert data.configs == [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}]

    processing = card.text.split("## Processing", 1)[1].split("##", 1)[0]
    for stage in STAGES:
        line = next(line for line in processing.splitlines() if line.startswith(f"| {stage.stage} |"))
        assert f"| {stage.rows_in:,} | {stage.rows_out:,} | {sum(stage.removed.values()):,} |" in line
        for reason, n in stage.removed.items():
            assert f"`{reason}`: {n}" in line
    for field in table.schema:
        assert f"| `{field.name}` | `{field.type}` |" in card.text
    assert "https://creativecommons.org/licenses/by/4.0/" in card.text


def test_card_for_a_licence_the_hub_calls_other(tmp_path):
    spec = make_spec(licence="OGL-UK-3.0", languages=["en-GB", "cy"])
    publish(spec, write_curated(tmp_path / "c", otl_table().slice(0, 50)), STAGES, LocalTarget(tmp_path / "out"))
    data = card_of(tmp_path / "out" / spec.id / "current").data

    assert (data.license, data.license_name) == ("other", "ogl-uk-3.0")
    assert data.license_link == "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
    assert data.language == ["en", "cy"] and data.size_categories == ["n<1K"]


def test_no_credentials_from_urls_reach_the_card_or_croissant(tmp_path):
    spec = make_spec(homepage="https://reader:pa55word@example.org/catalogue?api_key=s3cr3t&page=2",
                     files={"path": "https://example.org/export.csv?access_token=t0ken", "format": "csv"})
    result = publish(spec, write_curated(tmp_path / "c", otl_table().slice(0, 50)), STAGES, LocalTarget(tmp_path / "out"))
    published = Path(result.ref)

    for name in ("README.md", "croissant.json"):
        text = (published / name).read_text(encoding="utf-8")
        assert "example.org" in text
        assert not any(secret in text for secret in ("pa55word", "s3cr3t", "t0ken", "reader:"))


def test_size_categories():
    assert [size_category(n) for n in (0, 999, 1000, 99_999, 100_000, 5_000_000, 10**13)] == [
        "n<1K", "n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "n>1T"]


def test_croissant_describes_every_shard_and_column(tmp_path):
    spec, table = make_spec(), otl_table()
    result = publish(spec, write_curated(tmp_path / "c", table), STAGES, LocalTarget(tmp_path / "out"), **SMALL)
    folder = Path(result.ref)
    doc = json.loads((folder / "croissant.json").read_text(encoding="utf-8"))

    assert doc["@type"] == "sc:Dataset" and doc["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    assert doc["@context"]["@vocab"] == "https://schema.org/" and doc["@context"]["cr"] == "http://mlcommons.org/croissant/"
    assert doc["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert doc["version"] == "1.0.0" and doc["url"] == "https://open.umn.edu/opentextbooks"
    objects = [d for d in doc["distribution"] if d["@type"] == "cr:FileObject"]
    assert [o["contentUrl"] for o in objects] == [s.path for s in result.shards]
    for o in objects:
        data = (folder / o["contentUrl"]).read_bytes()
        assert o["sha256"] == hashlib.sha256(data).hexdigest() and o["contentSize"] == f"{len(data)} B"
        assert o["encodingFormat"] == "application/x-parquet"
    (file_set,) = [d for d in doc["distribution"] if d["@type"] == "cr:FileSet"]
    assert file_set["includes"] == "data/*.parquet"

    (records,) = doc["recordSet"]
    fields = {f["name"]: f for f in records["field"]}
    assert list(fields) == table.column_names
    assert fields["OTL ID"]["dataType"] == "sc:Integer" and fields["Title"]["dataType"] == "sc:Text"
    assert fields["Title"]["source"] == {"fileSet": {"@id": file_set["@id"]}, "extract": {"column": "Title"}}


def test_croissant_nested_and_typed_columns():
    schema = pa.schema([("tags", pa.list_(pa.string())), ("when", pa.timestamp("us", "UTC")), ("day", pa.date32()),
                        ("ok", pa.bool_()), ("score", pa.float32()),
                        ("author", pa.struct([("name", pa.string()), ("born", pa.int16())]))])
    doc = croissant(make_spec(), ShardSet((), schema), Version("v3", "0" * 64, 0, "2025-01-01T00:00:00Z"))
    fields = {f["name"]: f for f in doc["recordSet"][0]["field"]}

    assert doc["version"] == "3.0.0"
    assert fields["tags"]["dataType"] == "sc:Text" and fields["tags"]["repeated"] is True
    assert [fields[n]["dataType"] for n in ("when", "day", "ok", "score")] == ["sc:DateTime", "sc:Date", "sc:Boolean", "sc:Float"]
    assert [(s["name"], s["dataType"]) for s in fields["author"]["subField"]] == [("name", "sc:Text"), ("born", "sc:Integer")]


def test_an_existing_version_is_never_overwritten(tmp_path):
    spec, target = make_spec(), LocalTarget(tmp_path / "out")
    result = publish(spec, write_curated(tmp_path / "c", otl_table().slice(0, 100)), STAGES, target)
    before = (Path(result.ref) / "README.md").read_bytes()

    with pytest.raises(PublishConflict):
        target.commit(spec, Path(result.ref), Version("v1", "f" * 64, 1, "2030-01-01T00:00:00Z"), "again")
    assert (Path(result.ref) / "README.md").read_bytes() == before


def test_a_half_written_version_left_by_a_crash_is_ignored(tmp_path):
    spec, target = make_spec(), LocalTarget(tmp_path / "out")
    publish(spec, write_curated(tmp_path / "c1", otl_table().slice(0, 100)), STAGES, target)
    crashed = tmp_path / "out" / spec.id / "versions" / ".v2.0123abcd.tmp"
    (crashed / "data").mkdir(parents=True)

    assert [v.name for v in target.history(spec)] == ["v1"]
    result = publish(spec, write_curated(tmp_path / "c2", otl_table().slice(0, 200)), STAGES, target)
    assert result.version == "v2" and pq.read_table(Path(result.ref) / "data").num_rows == 200


def test_identity_is_the_rows_not_the_file_bytes(tmp_path):
    """Same rows written by another writer (other shard and row-group sizes, another compression: what a pyarrow
    upgrade may do) publish nothing; one changed value does."""
    from commons_pipelines.columns import row_sha256

    table = otl_table().slice(0, 400)
    table = table.append_column("_row_sha256", row_sha256(table.combine_chunks().to_batches()[0]))
    spec, target = make_spec(), LocalTarget(tmp_path / "out")
    first = publish(spec, write_curated(tmp_path / "c1", table), STAGES, target, **SMALL)
    other = tmp_path / "c2"
    other.mkdir()
    pq.write_table(table, other / "part-0.parquet", compression="gzip", row_group_size=7)
    again = publish(spec, [other / "part-0.parquet"], STAGES, target, max_shard_bytes=200_000, row_group_bytes=30_000)
    assert (again.changed, again.version, again.content_sha256) == (False, "v1", first.content_sha256)
    assert [s.sha256 for s in again.shards] != [s.sha256 for s in first.shards]  # other bytes, same identity

    titles = table.column("Title").to_pylist()
    edited = table.set_column(table.schema.get_field_index("Title"), "Title", pa.array(["x"] + titles[1:]))
    edited = edited.set_column(edited.schema.get_field_index("_row_sha256"), "_row_sha256",
                               row_sha256(edited.drop_columns(["_row_sha256"]).combine_chunks().to_batches()[0]))
    changed = publish(spec, write_curated(tmp_path / "c3", edited), STAGES, target, **SMALL)
    assert (changed.changed, changed.version) == (True, "v2")


def test_a_crash_between_the_version_and_current_is_repaired_by_the_next_publish(tmp_path):
    spec, target, table = make_spec(), LocalTarget(tmp_path / "out"), otl_table()
    publish(spec, write_curated(tmp_path / "c1", table.slice(0, 300)), STAGES, target, **SMALL)
    second = publish(spec, write_curated(tmp_path / "c2", table.slice(0, 600)), STAGES, target, **SMALL)
    current = target.current(spec)
    current.unlink()
    current.symlink_to(Path("versions") / "v1", target_is_directory=True)  # as if killed before the link moved
    (current.parent / ".current.dead").symlink_to("versions/v2")
    (current.parent / "versions" / ".publish-open_textbook_library-dead").mkdir()
    again = publish(spec, write_curated(tmp_path / "c3", table.slice(0, 600)), STAGES, target, **SMALL)
    assert (again.changed, again.version) == (False, "v2") and current.resolve().name == "v2"
    assert sorted(p.name for p in current.parent.rglob(".*")) == [] and second.version == "v2"
