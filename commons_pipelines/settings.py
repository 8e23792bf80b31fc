"""Where things go, read from the environment once; every path has an embedded default under `.commons/`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DUCKDB_MEMORY = "128MB"
"""DuckDB's memory for a connection that reads a source's landed rows or groups dedup's keys: past it DuckDB works
on disk, so memory does not grow with the source."""
SCAN_MEMORY = "32MB"
"""DuckDB's memory for reading the landed rows in order, which needs no cache: reading 300 MB of records took 270 MB
of RSS with it, 366 MB with DUCKDB_MEMORY, in the same time."""
BATCH_ROWS = 4096
"""Rows per batch read from the warehouse, the unit a worker or actor curates. A worker's memory grows with it
(at 300 MB, curation's process tree by PSS: 1.72-1.79 GiB at 16,384 rows; 1.47-1.52 GiB at 8,192 once the workers
also made dedup's signatures; 1.20-1.23 GiB at 4,096), for the same CPU seconds within the machine's noise. At 1 GB,
on an idle machine, 2,048 rows took the tree from 1,610 to 1,426 MiB of summed RSS (PSS 1,387 to 1,203) for 16% more
CPU seconds (327 to 381): COMMONS_BATCH_ROWS=2048 is for machines short of memory."""


@dataclass(frozen=True)
class Settings:
    home: Path
    target: str
    publish_dir: Path | str  # a folder, or the URL of an object store (s3://bucket/prefix): see publish/objects.py
    hf_endpoint: str
    hub_namespace: str | None
    timezone: str
    max_shard_bytes: int
    workers: int = 1
    allow_local_urls: bool = False
    data_roots: tuple[Path, ...] = ()
    takedown_dir: Path | None = None  # None: COMMONS_HOME/takedown
    retries: int = 2  # Dagster retries of an ingest or publish that failed on the network
    retry_delay: float = 10.0  # seconds before the first retry, doubled for each next one
    hub_retry_wait: float = 1.0  # seconds before a Hub call is tried again (HubTarget), doubled up to 60
    offline: bool = False  # COMMONS_OFFLINE=1 (`make run`): sources that need the network are left out
    engine: str = "local"  # where the curation steps before dedup run: local processes or a Ray cluster
    ray_address: str | None = None  # RAY_ADDRESS, with engine ray; None: the cluster started on this machine
    batch_rows: int = BATCH_ROWS
    store_url: str | None = None  # COMMONS_STORE_URL: an object store that keeps the warehouse and curated data too
    partition_runs: bool = False  # COMMONS_PARTITION_RUNS=1: the nightly stages changed partitions in runs of their own

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def curated_dir(self) -> Path:
        return self.home / "curated"

    @property
    def dlt_dir(self) -> Path:
        return self.home / "dlt"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("COMMONS_HOME", ".commons")).absolute()
        target = env.get("COMMONS_TARGET", "local")
        if target not in ("local", "hub"):
            raise ValueError(f"COMMONS_TARGET={target!r}: allowed values are 'local' and 'hub'")
        engine = env.get("COMMONS_ENGINE", "local")
        if engine not in ("local", "ray"):
            raise ValueError(f"COMMONS_ENGINE={engine!r}: allowed values are 'local' and 'ray'")
        return cls(
            home=home,
            target=target,
            publish_dir=publish_location(env.get("COMMONS_PUBLISH_DIR") or str(home / "published")),
            hf_endpoint=env.get("HF_ENDPOINT", "https://huggingface.co"),
            hub_namespace=env.get("COMMONS_HUB_NAMESPACE") or None,
            timezone=env.get("COMMONS_TIMEZONE", "UTC"),
            max_shard_bytes=int(float(env.get("COMMONS_MAX_SHARD_MB", "500")) * 1_000_000),
            workers=_whole(env, "COMMONS_WORKERS", os.cpu_count() or 1, least=1),
            allow_local_urls=allow_local_urls(env),
            data_roots=data_roots(env),
            takedown_dir=Path(env.get("COMMONS_TAKEDOWN_DIR", home / "takedown")).absolute(),
            retries=_whole(env, "COMMONS_RETRIES", 2, least=0),
            retry_delay=_seconds(env, "COMMONS_RETRY_DELAY", 10.0),
            hub_retry_wait=_seconds(env, "COMMONS_HUB_RETRY_WAIT", 1.0),
            offline=_flag(env, "COMMONS_OFFLINE"),
            engine=engine,
            ray_address=env.get("RAY_ADDRESS") or None,
            batch_rows=_whole(env, "COMMONS_BATCH_ROWS", BATCH_ROWS, least=1),
            store_url=_store_url(env.get("COMMONS_STORE_URL") or None),
            partition_runs=_flag(env, "COMMONS_PARTITION_RUNS"),
        )

    def __post_init__(self) -> None:
        if self.takedown_dir is None:
            object.__setattr__(self, "takedown_dir", self.home / "takedown")


def is_store(location: str | Path) -> bool:
    """Whether a publish location is an object store URL (`file://` and plain paths are local folders)."""
    text = str(location)
    return "://" in text and not text.startswith("file://")


def publish_location(value: str) -> Path | str:
    """An object store URL stays a URL (without a trailing slash); a path or a file:// URL is an absolute folder."""
    if is_store(value):
        return value.rstrip("/")
    return Path(value.removeprefix("file://")).absolute()


def _store_url(value: str | None) -> str | None:
    if value is not None and not is_store(value):
        raise ValueError(f"COMMONS_STORE_URL={value!r}: the URL of an object store (s3://bucket/prefix); "
                         "a folder needs no copy: point COMMONS_HOME at it")
    return value.rstrip("/") if value else None


def _whole(env, name: str, default: int, least: int) -> int:
    value = env.get(name)
    if value is None:
        return default
    if not value.isdigit() or int(value) < least:
        raise ValueError(f"{name}={value!r}: a whole number, {least} or more")
    return int(value)


def _seconds(env, name: str, default: float) -> float:
    value = env.get(name)
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"{name}={value!r}: seconds, 0 or more")
    return seconds


def _flag(env, name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value not in ("", "0", "1", "false", "true", "no", "yes"):
        raise ValueError(f"{name}={value!r}: 1 to turn it on, 0 or unset to leave it off")
    return value in ("1", "true", "yes")


def allow_local_urls(env: dict[str, str] | None = None) -> bool:
    """Whether sources may read http(s) URLs on loopback, link-local and other local addresses."""
    return _flag(os.environ if env is None else env, "COMMONS_ALLOW_LOCAL_URLS")


def data_roots(env: dict[str, str] | None = None) -> tuple[Path, ...]:
    """Folders, besides the one holding the catalog folder, where sources' local files may be (os.pathsep-separated)."""
    value = (os.environ if env is None else env).get("COMMONS_DATA_ROOTS", "")
    return tuple(Path(p).expanduser().resolve() for p in value.split(os.pathsep) if p.strip())


PII_KEY_ENV = "COMMONS_PII_KEY"


def pii_key(env: dict[str, str] | None = None) -> bytes | None:
    """The secret that keys pseudonymisation (HMAC). Read when curation runs, never stored in settings or metadata."""
    value = (os.environ if env is None else env).get(PII_KEY_ENV)
    return value.encode("utf-8") if value else None
