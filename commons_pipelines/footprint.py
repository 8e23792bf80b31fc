"""What a stage cost to run: wall and CPU seconds, peak memory, and the energy and emissions codecarbon estimates.

codecarbon runs offline (nothing is sent anywhere): it estimates the CPU's and the memory's power (RAPL counters when
the machine exposes them, else the CPU model's TDP) over the stage, and turns energy into emissions with the carbon
intensity of the grid of COMMONS_CARBON_COUNTRY (ISO 3166 alpha-3, e.g. FRA, DEU, USA). Without that setting the
energy is still measured and the emissions are not estimated: a grid is not guessed.

CPU seconds count the stage's process and the worker processes it waited for. Peak memory is the largest resident
set of the process or of one of its workers so far: where each step runs in a process of its own (the nightly under
Dagster's daemon) it is the step's; in one process (`commons run`, a job of one source) it is the run's peak up to that
stage.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

COUNTRY_ENV = "COMMONS_CARBON_COUNTRY"


@dataclass
class Footprint:
    stage: str
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    energy_wh: float | None = None
    emissions_g: float | None = None  # CO2 equivalent; None when no grid was given
    country: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def metadata(self) -> dict:
        """As Dagster metadata (floats; what was not estimated is left out)."""
        keys = ("seconds", "cpu_seconds", "peak_rss_mb", "energy_wh", "emissions_g")
        return {f"compute/{k}": round(v, 6) for k in keys if (v := getattr(self, k)) is not None}


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_mb() -> float:
    kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return kb / 1024


def _tracker(country: str | None):
    try:
        from codecarbon import OfflineEmissionsTracker
    except ImportError:
        return None
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    return OfflineEmissionsTracker(country_iso_code=country or "USA", save_to_file=False, log_level="error",
                                   measure_power_secs=5, tracking_mode="process", project_name="commons-pipelines")


@contextmanager
def measured(stage: str, country: str | None = None) -> Iterator[Footprint]:
    """Measure the block; the Footprint it yields is filled in when the block ends (also when it raises)."""
    country = (country if country is not None else os.environ.get(COUNTRY_ENV, "")).strip().upper() or None
    found = Footprint(stage, country=country)
    tracker = _tracker(country)
    if tracker is not None:
        tracker.start()
    start, cpu = time.perf_counter(), _cpu()
    try:
        yield found
    finally:
        found.seconds = time.perf_counter() - start
        found.cpu_seconds = _cpu() - cpu
        found.peak_rss_mb = _peak_mb()
        if tracker is not None:
            emissions_kg = tracker.stop()
            data = tracker.final_emissions_data
            found.energy_wh = data.energy_consumed * 1000 if data else None
            found.emissions_g = emissions_kg * 1000 if country and emissions_kg is not None else None


ORDER = ("ingest", "curate", "check", "publish")
FOLDER = "compute"


def write(folder, found: Footprint | dict) -> Path:
    """Keep a stage's footprint with what it made (a curation's folder), atomically; the same stage replaces it.
    Returns the file."""
    data = found.as_dict() if isinstance(found, Footprint) else dict(found)
    target = Path(folder) / FOLDER
    target.mkdir(parents=True, exist_ok=True)
    name = "".join(c if c.isalnum() else "_" for c in data["stage"])
    tmp = target / f".{name}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data))
    os.replace(tmp, target / f"{name}.json")
    return target / f"{name}.json"


def read(folder) -> list[dict]:
    """The footprints kept in `folder`, in stage order."""
    found = [json.loads(p.read_text()) for p in (Path(folder) / FOLDER).glob("*.json")]
    rank = {s: i for i, s in enumerate(ORDER)}
    return sorted(found, key=lambda f: (rank.get(f["stage"].split()[0], len(ORDER)), f["stage"]))
