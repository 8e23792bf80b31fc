"""Publish: deterministic Parquet shards, a dataset card and croissant.json, one atomic version per data change."""

from .release import PublishResult, publish
from .shards import Shard, ShardSet, read_batches, write_shards
from .hub import HubError, HubTarget
from .local import LocalTarget
from .targets import PublishConflict, Target, Version

__all__ = ["HubError", "HubTarget", "LocalTarget", "PublishConflict", "PublishResult", "Shard", "ShardSet", "Target",
           "Version", "publish", "read_batches", "write_shards"]
