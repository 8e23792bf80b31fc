"""Resources: where the warehouse and curated data live, and where datasets are published.

The Hub token is never a resource field (so it never shows in Dagster's config or UI): the Hub target reads
HF_TOKEN from the environment when it publishes.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import dlt
from dagster import ConfigurableResource, Failure

from ..ingest import warehouse
from ..publish import StoreError, Target, open_target
from ..settings import BATCH_ROWS, Settings
from ..spec import SourceSpec
from .mirror import Mirror


class Warehouse(ConfigurableResource):
    """The embedded DuckDB warehouse (one file per source), dlt's working folder and the curated datasets."""

    warehouse_dir: str
    dlt_dir: str
    curated_dir: str
    takedown_dir: str = ".commons/takedown"
    workers: int = 1  # processes for the curation steps before dedup
    engine: str = "local"  # or "ray": those steps run on the Ray cluster at ray_address
    ray_address: str | None = None
    batch_rows: int = BATCH_ROWS
    store_url: str | None = None  # COMMONS_STORE_URL: the warehouse files and curated folders are kept there too

    def mirror(self) -> Mirror | None:
        return Mirror(self.store_url) if self.store_url else None

    def fetch(self, source_id: str, database: bool = True, curated: bool = True, partition: str | None = None) -> None:
        """Before a step reads them: the store's warehouse file and curation (or one partition's), where this
        machine's are older (orchestration/mirror.py). A store that cannot be read fails the step in one line
        (s3fs has retried the request already)."""
        if mirror := self.mirror():
            with _one_line():
                if database:
                    mirror.fetch_database(self.database(source_id), source_id)
                if curated:
                    mirror.fetch_curated(self.curated(source_id), source_id, partition)

    def keep(self, source_id: str, database: bool = False, curated: bool = False, partition: str | None = None,
             written: list[Path] | None = None) -> None:
        """After a step wrote them: the warehouse file or the curation (one partition's, or only the files
        `written`), into the store. A step keeps the curation only after it fetched it: what the folder lacks is
        removed from the store."""
        if mirror := self.mirror():
            with _one_line():
                if database:
                    mirror.keep_database(self.database(source_id), source_id)
                if curated:
                    mirror.keep_curated(self.curated(source_id), source_id, partition, written)

    def database(self, source_id: str) -> Path:
        return warehouse.database(Path(self.warehouse_dir), source_id)

    def pipeline(self, spec: SourceSpec) -> dlt.Pipeline:
        return warehouse.pipeline(spec, Path(self.warehouse_dir), Path(self.dlt_dir))

    def curated(self, source_id: str) -> Path:
        return Path(self.curated_dir) / source_id

    def downloads(self, source_id: str) -> Path:
        """Where ingest downloads a remote source's files before reading them (emptied after each ingest)."""
        return Path(self.dlt_dir) / "downloads" / source_id


@contextmanager
def _one_line():
    try:
        yield
    except StoreError as err:
        raise Failure(description=f"{err}; the store keeps its last complete state") from None


class Publisher(ConfigurableResource):
    """Where published datasets go: `local` (a folder, the embedded default) or `hub` (the Hugging Face Hub)."""

    target: str = "local"
    publish_dir: str = ".commons/published"
    hf_endpoint: str = "https://huggingface.co"
    hub_namespace: str | None = None
    hub_wait: float = 1.0
    max_shard_bytes: int = 500_000_000

    def make_target(self) -> Target:
        return open_target(self.target, self.publish_dir, self.hf_endpoint, self.hub_namespace, self.hub_wait)


def resources(settings: Settings) -> dict:
    from dagster_dlt import DagsterDltResource

    return {
        "dlt": DagsterDltResource(),
        "warehouse": Warehouse(warehouse_dir=str(settings.warehouse_dir), dlt_dir=str(settings.dlt_dir),
                               curated_dir=str(settings.curated_dir), takedown_dir=str(settings.takedown_dir),
                               workers=settings.workers, engine=settings.engine, ray_address=settings.ray_address,
                               batch_rows=settings.batch_rows, store_url=settings.store_url),
        "publisher": Publisher(target=settings.target, publish_dir=str(settings.publish_dir),
                               hf_endpoint=settings.hf_endpoint, hub_namespace=settings.hub_namespace,
                               hub_wait=settings.hub_retry_wait, max_shard_bytes=settings.max_shard_bytes),
    }
