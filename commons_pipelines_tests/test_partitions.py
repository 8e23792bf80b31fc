"""A source curated in partitions (`partitions: N`): the same rows published as without, only changed partitions
staged again, a partition run alone through its Dagster job, and the source-wide dedup over all partitions."""

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from dagster import AssetKey

from commons_pipelines.ingest.warehouse import partition_of
from commons_pipelines.orchestration import build_definitions
from commons_pipelines.settings import Settings
from commons_pipelines.spec import SpecError

from .test_pipeline import run_nightly

WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa".split()
SHARED = "This notice is sent to every family of the school whatever their class on the same day."


def sentence(seed: int) -> str:
    words = [WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(9)]
    return f"Notice {seed} tells the families that the {' '.join(words)} club meets on Tuesday."


def write_files(folder: Path, files: int = 8, rows: int = 5) -> None:
    """CSV files whose rows are all different but one, which every file holds (a duplicate across partitions)."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        lines = ["id,text", f"0,{SHARED}"] + [f"{f * 100 + r},{sentence(f * 100 + r)}" for r in range(1, rows)]
        (folder / f"notices-{f}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def home(tmp_path: Path, name: str) -> Settings:
    return Settings.from_env({"COMMONS_HOME": str(tmp_path / name), "COMMONS_ALLOW_LOCAL_URLS": "1"})


def published_rows(settings: Settings, source_id: str) -> list[dict]:
    table = pq.read_table(settings.publish_dir / source_id / "current" / "data")
    return table.select(["id", "text", "_row_sha256"]).to_pylist()


def staged_runs(settings: Settings, source_id: str, count: int) -> list[str]:
    """The curation id each partition holds now."""
    folder = settings.curated_dir / source_id / "partitions"
    return [(folder / f"{k:03d}" / "current").resolve().name for k in range(count)]


@pytest.fixture
def sources(write_spec, tmp_path):
    src = tmp_path / "src"
    write_files(src)
    files = {"path": str(src), "glob": "*.csv", "format": "csv"}
    plain = write_spec("notices_plain", files=files)
    split = write_spec("notices_split", files=files, partitions=3)
    return plain, split, src


def test_partitions_publish_the_rows_an_unpartitioned_curation_publishes(sources, tmp_path):
    plain, split, src = sources
    assert len({partition_of(f"notices-{f}.csv", 3) for f in range(8)}) == 3, "the files fill every partition"
    a, b = home(tmp_path, "a"), home(tmp_path, "b")
    assert run_nightly({plain.id: plain}, a).success
    result = run_nightly({split.id: split}, b)
    assert result.success
    ours, theirs = published_rows(b, split.id), published_rows(a, plain.id)
    assert sorted(r["_row_sha256"] for r in ours) == sorted(r["_row_sha256"] for r in theirs)
    assert len(ours) == 8 * 4 + 1, "the row every file holds is published once: dedup ran over all partitions"
    staged = [e for e in result.get_asset_materialization_events() if e.asset_key == AssetKey([split.id, "staged"])]
    assert sorted(e.partition for e in staged) == ["000", "001", "002"]
    curated = [e.materialization for e in result.get_asset_materialization_events()
               if e.asset_key == AssetKey([split.id, "curated"])][0].metadata
    stages = {r.data["stage"]: r.data for r in curated["stages"].value.records}
    assert stages["ingest"]["rows_out"] == 8 * 5 and stages["exact_dedup"]["removed"] == 7
    assert stages["pii"]["rows_in"] == 8 * 5, "the row steps' counts of the partitions are added up"


def test_one_partition_runs_alone_and_a_changed_file_stages_its_partition_only(sources, tmp_path):
    _, split, src = sources
    settings = home(tmp_path, "h")
    defs = build_definitions({split.id: split}, settings)
    assert defs.resolve_job_def("nightly").execute_in_process(raise_on_error=False).success
    first = staged_runs(settings, split.id, 3)

    (settings.curated_dir / split.id / "partitions" / "001").rename(settings.curated_dir / "gone")
    run = defs.resolve_job_def(f"partitions_{split.id}").execute_in_process(partition_key="001", raise_on_error=False)
    assert run.success
    [event] = run.get_asset_materialization_events()
    assert event.asset_key == AssetKey([split.id, "staged"]) and event.partition == "001"
    again = staged_runs(settings, split.id, 3)
    assert again[0] == first[0] and again[2] == first[2] and again[1] != first[1]
    assert run_nightly({split.id: split}, settings).success
    assert staged_runs(settings, split.id, 3) == again, "the nightly reuses the partition the job staged"

    changed = src / "notices-5.csv"
    changed.write_text(changed.read_text(encoding="utf-8") + f"999,{sentence(999)}\n", encoding="utf-8")
    assert run_nightly({split.id: split}, settings).success
    after = staged_runs(settings, split.id, 3)
    k = partition_of(changed.name, 3)
    assert after[k] != again[k]
    assert [a for i, a in enumerate(after) if i != k] == [b for i, b in enumerate(again) if i != k]
    assert "999" in {str(r["id"]) for r in published_rows(settings, split.id)}


def test_partitions_must_be_two_or_more(write_spec, tmp_path):
    with pytest.raises(SpecError, match="partitions"):
        write_spec("one_part", files={"path": str(tmp_path), "format": "csv"}, partitions=1)
