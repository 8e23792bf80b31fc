"""Publish: deterministic Parquet shards, a dataset card and croissant.json, one atomic version per data change."""

from .release import PublishResult, publish
from .shards import Shard, ShardSet, read_batches, write_shards
from .hub import HubError, HubTarget
from .local import LocalTarget
from .objects import ObjectTarget, StoreError, is_store
from .targets import PublishConflict, Target, Version

__all__ = ["HubError", "HubTarget", "LocalTarget", "ObjectTarget", "PublishConflict", "PublishResult", "Shard",
           "ShardSet", "StoreError", "Target", "Version", "open_target", "publish", "read_batches", "write_shards"]


def open_target(kind: str, publish_dir: str, hf_endpoint: str, hub_namespace: str | None,
                hub_wait: float = 1.0) -> Target:
    """`local`: a folder (the embedded default), or an object store when `publish_dir` is a URL (`s3://bucket/prefix`);
    `hub`: the Hugging Face Hub (the token comes from HF_TOKEN), its calls retried after `hub_wait` seconds, doubled."""
    if kind == "hub":
        return HubTarget(endpoint=hf_endpoint, namespace=hub_namespace, wait=hub_wait)
    if is_store(publish_dir):
        return ObjectTarget(str(publish_dir))
    return LocalTarget(str(publish_dir).removeprefix("file://"))
