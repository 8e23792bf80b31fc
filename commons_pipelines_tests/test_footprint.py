"""What each stage costs: measured, kept with the curation, on the card of the version it made and in the metadata."""

import json
import os

from huggingface_hub import DatasetCard

from commons_pipelines.footprint import Footprint, measured, read, write


def burn(seconds: float) -> None:
    import time

    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_a_stage_is_measured_in_cpu_time_memory_and_energy_and_emissions_follow_the_grid():
    codecarbon = os.path.dirname(__import__("codecarbon").__file__)
    mix = json.load(open(os.path.join(codecarbon, "data", "private_infra", "global_energy_mix.json")))
    for country in ("FRA", "POL"):
        with measured("curate", country) as cost:
            burn(0.3)
        assert cost.cpu_seconds >= 0.3 and cost.seconds >= cost.cpu_seconds * 0.5 and cost.peak_rss_mb > 10
        assert cost.energy_wh > 0 and cost.country == country
        grams_per_kwh = cost.emissions_g / cost.energy_wh * 1000
        assert abs(grams_per_kwh - mix[country]["carbon_intensity"]) < 0.01 * mix[country]["carbon_intensity"]


def test_without_a_grid_the_energy_is_measured_and_no_emissions_are_guessed(monkeypatch):
    monkeypatch.delenv("COMMONS_CARBON_COUNTRY", raising=False)
    with measured("ingest") as cost:
        burn(0.1)
    assert cost.energy_wh > 0 and cost.emissions_g is None and cost.country is None
    assert "compute/emissions_g" not in cost.metadata() and cost.metadata()["compute/cpu_seconds"] > 0


def test_a_failing_stage_is_still_measured():
    try:
        with measured("check generic", "FRA") as cost:
            burn(0.05)
            raise ValueError("the stage failed")
    except ValueError:
        pass
    assert cost.cpu_seconds > 0 and cost.energy_wh is not None


def test_footprints_are_kept_per_stage_and_read_in_stage_order(tmp_path):
    for stage in ("publish", "check generic", "curate", "check declared", "ingest"):
        write(tmp_path, Footprint(stage, cpu_seconds=1.0))
    write(tmp_path, Footprint("curate", cpu_seconds=2.0))  # the same stage again replaces it
    found = read(tmp_path)
    assert [f["stage"] for f in found] == ["ingest", "curate", "check declared", "check generic", "publish"]
    assert found[1]["cpu_seconds"] == 2.0


def test_the_card_of_a_version_says_what_making_it_took(settings, monkeypatch, tmp_path):
    import shutil

    import yaml

    from commons_pipelines.spec import CATALOG_DIR, load_spec

    from .test_pipeline import published, run_nightly

    monkeypatch.setenv("COMMONS_CARBON_COUNTRY", "FRA")
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    spec = yaml.safe_load((CATALOG_DIR / "school_notices.yaml").read_text(encoding="utf-8"))
    spec["pii"]["ner"] = "off"
    (catalog / "school_notices.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    shutil.copytree(CATALOG_DIR.parent / "samples" / "school_notices", tmp_path / "samples" / "school_notices")
    spec = load_spec(catalog / "school_notices.yaml")
    result = run_nightly({spec.id: spec}, settings)
    meta = published(result, spec.id)
    assert meta["compute/cpu_seconds"] > 0 and meta["compute/energy_wh"] > 0
    assert [r.data["stage"] for r in meta["compute"].records] == ["ingest", "curate", "check declared",
                                                                    "check generic"]
    for mat in result.get_asset_materialization_events():
        assert mat.materialization.metadata["compute/cpu_seconds"].value > 0, mat.asset_key
    card = DatasetCard.load(settings.publish_dir / spec.id / "current" / "README.md").text
    section = card.split("## Compute", 1)[1].split("\n## ", 1)[0]
    assert "What making v1 took" in section and "the grid of FRA" in section
    assert all(f"| {stage} |" in section for stage in ("ingest", "curate", "check declared", "check generic"))
