"""Publish: deterministic Parquet shards, a dataset card and croissant.json, one atomic version per data change."""

from .release import PublishResult, publish
from .shards import Shard, ShardSet, read_batches, write_shards
from .targets import HubError, HubTarget, LocalTarget, PublishConflict, Target, Version

__all__ = ["HubError", "HubTarget", "LocalTarget", "PublishConflict", "PublishResult", "Shard", "ShardSet", "Target",
           "Version", "publish", "read_batches", "write_shards"]
