"""One Hub config per language, and the curation report on the card: local folder and Hub emulator, real rows.

The curated input is made of UDHR paragraphs (one reviewed translation per language), with `_lang` set from the
row's BCP-47 tag as the language step would set it, a few rows left null ("und"), and the languages interleaved so
that keeping each language's curated order is visible.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from functools import cache
from pathlib import Path

os.environ["HF_HUB_DISABLE_XET"] = "1"  # before huggingface_hub is imported, see hub_emulator's docstring

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard

from commons_pipelines.publish import HubTarget, LocalTarget, publish
from commons_pipelines.spec import SourceSpec
from commons_pipelines.stats import CurationReport, PiiCount, StageCount
from commons_pipelines_tests.hub_emulator import serve
from commons_pipelines_tests.test_publish_shards import curated

UDHR = Path(__file__).resolve().parents[2] / "shared" / "data" / "language" / "udhr_151_languages.jsonl"
LANGS = ["en", "fr", "pt-PT", "zh-Hans"]
UNKNOWN = 3  # rows of another language whose `_lang` is left null: published under "und"
SMALL = dict(max_shard_bytes=6_000, row_group_bytes=2_000)  # several shards per language
STAGES = [StageCount("language", 235, 235)]
TOKEN = "hf_commons_publisher_token"
REPO = "commons/udhr_sample"
REPORT = CurationReport(
    pii=[PiiCount("EMAIL", "text", "redact", 4), PiiCount("PHONE", "text", "redact", 2),
         PiiCount("IBAN", "notes", "drop_row", 1), PiiCount("CARD", "text", "redact", 0)],
    ner="spaCy 3.8.7 en_core_web_sm 3.8.0 (en) + street-address patterns")


@pytest.fixture
def hub():
    yield from serve(tokens={TOKEN: "commons"})  # also the default endpoint, for load_dataset


def make_spec(**changes) -> SourceSpec:
    fields = dict(
        id="udhr_sample", title="UDHR sample", description="Paragraphs of the Universal Declaration of Human Rights.",
        licence="CC0-1.0", languages=["en", "fr", "pt-PT", "zh-Hans"], domain="culture", kind="files",
        files={"path": "udhr.jsonl", "format": "jsonl"}, publish={"repo_id": REPO},
    )
    return SourceSpec.model_validate(fields | changes)


@cache
def udhr_table() -> pa.Table:
    """The first paragraphs of each language, interleaved (en, fr, pt-PT, zh-Hans, en, ...), then the unknown rows."""
    by_lang: dict[str, list[dict]] = {lang: [] for lang in LANGS}
    other = []
    with UDHR.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["bcp47"] in by_lang:
                by_lang[row["bcp47"]].append(row)
            elif row["bcp47"] == "sw" and len(other) < UNKNOWN:
                other.append(row)
    rows = [r for group in zip(*by_lang.values()) for r in group] + other
    return pa.table({
        "id": pa.array([r["id"] for r in rows], pa.string()),
        "text": pa.array([r["text"] for r in rows], pa.large_string()),
        "_lang": pa.array([r["bcp47"] for r in rows[:-UNKNOWN]] + [None] * UNKNOWN, pa.large_string()),
    })


def rows_of(table: pa.Table, lang: str) -> pa.Table:
    mask = pc.is_null(table["_lang"]) if lang == "und" else pc.equal(table["_lang"], lang)
    return table.filter(mask)


def expected_counts(table: pa.Table) -> dict[str, int]:
    return dict(sorted(Counter(v or "und" for v in table["_lang"].to_pylist()).items()))


def card_of(folder: Path) -> DatasetCard:
    return DatasetCard((folder / "README.md").read_text(encoding="utf-8"))


def section(card: DatasetCard, title: str) -> str:
    return card.text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def table_rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("|---")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[1:]]


def test_multilingual_local_layout_card_and_croissant(tmp_path):
    spec, table = make_spec(), udhr_table()
    result = publish(spec, curated(tmp_path / "c", table), STAGES, LocalTarget(tmp_path / "out"),
                     report=REPORT, **SMALL)
    folder = Path(result.ref)
    counts = expected_counts(table)
    assert list(counts) == ["en", "fr", "pt-PT", "und", "zh-Hans"]

    paths = [s.path for s in result.shards]
    assert paths == sorted(paths) and result.rows == table.num_rows
    assert sorted(p.relative_to(folder).as_posix() for p in (folder / "data").rglob("*") if p.is_file()) == paths
    for lang, n in counts.items():
        mine = [s for s in result.shards if s.path.startswith(f"data/{lang}/")]
        assert len(mine) >= (2 if n > 10 else 1)
        n_files = len(mine)
        assert [s.path for s in mine] == [f"data/{lang}/train-{i:05d}-of-{n_files:05d}.parquet" for i in range(n_files)]
        read = pa.concat_tables(pq.read_table(folder / s.path) for s in mine)
        assert read.num_rows == n
        assert read["id"].to_pylist() == rows_of(table, lang)["id"].to_pylist()  # the curated order
        assert read.schema.equals(table.schema)

    card = card_of(folder)
    every = {"config_name": "all", "data_files": [{"split": "train", "path": "data/*/train-*"}], "default": True}
    assert card.data.configs == [every] + [{"config_name": lang, "data_dir": f"data/{lang}"} for lang in counts]
    infos = {i["config_name"]: i for i in card.data.dataset_info}
    assert list(infos) == ["all", *counts]
    assert infos["all"]["splits"][0]["num_examples"] == table.num_rows
    for lang, n in counts.items():
        assert infos[lang]["splits"] == [{"name": "train", "num_bytes": infos[lang]["dataset_size"], "num_examples": n}]
        assert infos[lang]["download_size"] == sum(s.bytes for s in result.shards if s.lang == lang)
    assert [f["name"] for f in infos["fr"]["features"]] == ["id", "text", "_lang"]
    assert card.data.multilinguality == "multilingual"

    languages = table_rows(section(card, "Languages"))
    assert [(row[0], row[1], row[2]) for row in languages] == [(f"`{lang}`", f"`{lang}`", f"{n:,}")
                                                               for lang, n in counts.items()]

    doc = json.loads((folder / "croissant.json").read_text(encoding="utf-8"))
    (file_set,) = [d for d in doc["distribution"] if d["@type"] == "cr:FileSet"]
    assert file_set["includes"] == "data/*/*.parquet"
    assert [d["contentUrl"] for d in doc["distribution"] if d["@type"] == "cr:FileObject"] == paths
    assert {f["name"] for f in doc["recordSet"][0]["field"]} == {"id", "text", "_lang"}


def test_load_dataset_per_config_and_all_from_the_local_folder(tmp_path):
    import datasets

    spec, table = make_spec(), udhr_table()
    publish(spec, curated(tmp_path / "c", table), STAGES, LocalTarget(tmp_path / "out"), **SMALL)
    current, cache_dir = str(tmp_path / "out" / spec.id / "current"), str(tmp_path / "hf-cache")

    french = datasets.load_dataset(current, "fr", cache_dir=cache_dir)
    assert list(french) == ["train"]
    assert french["train"]["id"] == rows_of(table, "fr")["id"].to_pylist()
    assert set(french["train"]["_lang"]) == {"fr"}
    unknown = datasets.load_dataset(current, "und", cache_dir=cache_dir)
    assert unknown["train"].num_rows == UNKNOWN
    every = datasets.load_dataset(current, cache_dir=cache_dir)  # the default config: all
    assert every["train"].num_rows == table.num_rows
    assert sorted(every["train"]["id"]) == sorted(table["id"].to_pylist())

    # a new version under the same path, with fewer French rows: the per-config dataset_info changes with it,
    # so `datasets` does not serve the old version from its cache
    fewer = table.filter(pc.invert(pc.and_(pc.equal(table["_lang"], "fr"), pc.greater(table["id"], "udhr-fra-010"))))
    publish(spec, curated(tmp_path / "c2", fewer), STAGES, LocalTarget(tmp_path / "out"), **SMALL)
    again = datasets.load_dataset(current, "fr", cache_dir=cache_dir)
    assert again["train"]["id"] == rows_of(fewer, "fr")["id"].to_pylist() and 0 < again["train"].num_rows < 59


def test_a_language_removed_in_the_next_version_is_absent_locally(tmp_path):
    spec, table, target = make_spec(), udhr_table(), LocalTarget(tmp_path / "out")
    first = publish(spec, curated(tmp_path / "c1", table), STAGES, target, **SMALL)
    without = table.filter(pc.fill_null(pc.not_equal(table["_lang"], "pt-PT"), True))
    second = publish(spec, curated(tmp_path / "c2", without), STAGES, target, **SMALL)

    assert (first.version, second.version) == ("v1", "v2")
    v1, v2 = Path(first.ref), Path(second.ref)
    assert (v1 / "data" / "pt-PT").is_dir() and not (v2 / "data" / "pt-PT").exists()
    assert sorted(p.name for p in (v2 / "data").iterdir()) == ["en", "fr", "und", "zh-Hans"]
    assert "pt-PT" not in [c["config_name"] for c in card_of(v2).data.configs]


def test_hub_configs_load_and_a_removed_language_is_deleted_in_the_commit(hub, tmp_path):
    import datasets

    spec, table = make_spec(), udhr_table()
    without = table.filter(pc.fill_null(pc.not_equal(table["_lang"], "pt-PT"), True))
    target = HubTarget(hub.url, token=TOKEN)
    first = publish(spec, curated(tmp_path / "c1", table), STAGES, target, report=REPORT, **SMALL)
    second = publish(spec, curated(tmp_path / "c2", without), STAGES, target, report=REPORT, **SMALL)

    v1, v2 = hub.files(REPO, revision="v1"), hub.files(REPO, revision="v2")
    assert sorted(f for f in v1 if f.startswith("data/")) == [s.path for s in first.shards]
    assert sorted(f for f in v2 if f.startswith("data/")) == [s.path for s in second.shards]
    assert any(f.startswith("data/pt-PT/") for f in v1) and not any(f.startswith("data/pt-PT/") for f in v2)

    cache_dir = str(tmp_path / "datasets")
    french = datasets.load_dataset(REPO, "fr", revision="v2", token=TOKEN, cache_dir=cache_dir)
    assert french["train"]["id"] == rows_of(table, "fr")["id"].to_pylist()
    every = datasets.load_dataset(REPO, revision="v2", token=TOKEN, cache_dir=cache_dir)
    assert every["train"].num_rows == without.num_rows
    portuguese = datasets.load_dataset(REPO, "pt-PT", revision="v1", token=TOKEN, cache_dir=cache_dir)
    assert portuguese["train"]["id"] == rows_of(table, "pt-PT")["id"].to_pylist()
    with pytest.raises(ValueError, match="pt-PT"):
        datasets.load_dataset(REPO, "pt-PT", revision="v2", token=TOKEN, cache_dir=cache_dir)


def test_personal_data_table_and_ner_sentence_on_the_card(tmp_path):
    spec, table = make_spec(), udhr_table()
    result = publish(spec, curated(tmp_path / "c", table), STAGES, LocalTarget(tmp_path / "out"), report=REPORT)
    card = card_of(Path(result.ref))

    personal = section(card, "Personal data")
    assert table_rows(personal) == [["EMAIL", "`text`", "redact", "4"], ["IBAN", "`notes`", "drop_row", "1"],
                                    ["PHONE", "`text`", "redact", "2"]]
    assert "looked for by the NER backend spaCy 3.8.7 en_core_web_sm 3.8.0 (en) + street-address patterns" in personal


@pytest.mark.parametrize(("ner", "spec_ner", "says"), [
    ("not installed: pip install 'commons-pipelines[ner]'", "auto", "No NER backend looked for person names"),
    ("no model for languages: zh", "auto", "No NER backend looked for person names"),
    ("off", "off", "NER is off for this source"),
])
def test_the_card_says_when_no_ner_backend_looked(tmp_path, ner, spec_ner, says):
    spec = make_spec(pii={"ner": spec_ner})
    report = CurationReport([PiiCount("EMAIL", "text", "redact", 1)], ner)
    result = publish(spec, curated(tmp_path / "c", udhr_table()), STAGES, LocalTarget(tmp_path / "out"),
                     report=report)
    personal = section(card_of(Path(result.ref)), "Personal data")
    assert says in personal and "were looked for by the NER backend" not in personal
    if spec_ner == "auto":
        assert ner in personal


def test_the_report_changes_the_card_not_the_content_hash(tmp_path):
    spec, files = make_spec(), curated(tmp_path / "c", udhr_table())
    plain = publish(spec, files, STAGES, LocalTarget(tmp_path / "a"), **SMALL)
    reported = publish(spec, files, STAGES, LocalTarget(tmp_path / "b"), report=REPORT, **SMALL)

    assert plain.content_sha256 == reported.content_sha256 and plain.shards == reported.shards
    assert "| EMAIL |" in card_of(Path(reported.ref)).text and "| EMAIL |" not in card_of(Path(plain.ref)).text
    again = publish(spec, files, STAGES, LocalTarget(tmp_path / "b"), report=CurationReport(ner="off"), **SMALL)
    assert (again.changed, again.version) == (False, "v1")


@pytest.mark.parametrize("changes", [{"languages": ["fr"]}, {"language": {"configs": False}}])
def test_single_language_layout_is_unchanged_with_a_lang_column(tmp_path, changes):
    spec, table = make_spec(**changes), udhr_table()
    result = publish(spec, curated(tmp_path / "c", table), STAGES, LocalTarget(tmp_path / "out"))
    folder = Path(result.ref)

    assert [s.path for s in result.shards] == ["data/train-00000-of-00001.parquet"]
    assert pq.read_table(folder / "data").equals(table)
    card = card_of(folder)
    assert card.data.configs == [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}]
    assert card.data.dataset_info["splits"][0]["num_examples"] == table.num_rows
    assert [(r[0], r[1]) for r in table_rows(section(card, "Languages"))] == [
        (f"`{lang}`", f"{n:,}") for lang, n in expected_counts(table).items()]
    doc = json.loads((folder / "croissant.json").read_text(encoding="utf-8"))
    assert [d["includes"] for d in doc["distribution"] if d["@type"] == "cr:FileSet"] == ["data/*.parquet"]


def test_configs_true_splits_even_a_one_language_source(tmp_path):
    spec = make_spec(languages=["en"], language={"configs": True})
    table = rows_of(udhr_table(), "en")
    result = publish(spec, curated(tmp_path / "c", table), STAGES, LocalTarget(tmp_path / "out"))

    assert [s.path for s in result.shards] == ["data/en/train-00000-of-00001.parquet"]
    assert [c["config_name"] for c in card_of(Path(result.ref)).data.configs] == ["all", "en"]


def test_a_lang_value_that_cannot_name_a_folder_is_refused_naming_column_and_row(tmp_path):
    table = udhr_table()
    bad = table.set_column(2, "_lang", pa.array(table["_lang"].to_pylist()[:7] + ["../fr"]
                                                + table["_lang"].to_pylist()[8:], pa.large_string()))
    with pytest.raises(ValueError, match=r"column '_lang', row 7: not a BCP-47 tag") as caught:
        publish(make_spec(), curated(tmp_path / "c", bad, parts=1), STAGES, LocalTarget(tmp_path / "out"))
    assert "../fr" not in str(caught.value)
    out = tmp_path / "out" / "udhr_sample"
    assert not (out / "current").exists() and [p.name for p in (out / "versions").iterdir()] == []


def test_the_hub_emulator_refuses_a_card_whose_configs_the_hub_would_refuse(hub):
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(endpoint=hub.url, token=TOKEN)
    api.create_repo(REPO, repo_type="dataset")
    twice = b"---\nconfigs:\n- config_name: fr\n  data_dir: data/fr\n- config_name: fr\n  data_dir: data/fr\n---\n"
    head = hub.commits(REPO)[0].id
    with pytest.raises(ValueError, match=r"(?s)Invalid metadata in README.md.*same config_name"):
        api.create_commit(REPO, [CommitOperationAdd("README.md", twice)], commit_message="x", repo_type="dataset")
    assert hub.commits(REPO)[0].id == head
