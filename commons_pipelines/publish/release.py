"""Publish one source's curated data as a new version, or nothing when the data did not change.

Version scheme: versions are numbered v1, v2, ... in publishing order. On the Hub each version is one commit on
`main` tagged `vN`; locally each version is a complete folder `versions/vN/` and `current` points at the newest.
A version's identity is its content sha256: the sha256 over its shard files' sha256s in name order. It covers the
data only, so a card-only difference (dates, stage counts) never makes a new version, and identical data never
does either. Shards are written deterministically, so identical curated input gives identical shards (with the
same pyarrow: a new writer version may change the bytes, and then a new version is published).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..spec import SourceSpec
from ..stats import StageCount
from .card import render_card
from .croissant import croissant
from .shards import BATCH_ROWS, MAX_SHARD_BYTES, ROW_GROUP_BYTES, Shard, ShardSet, read_batches, write_shards
from .targets import Target, Version


@dataclass(frozen=True)
class PublishResult:
    changed: bool
    version: str  # "v3": the new version, or the current one when nothing changed
    content_sha256: str
    rows: int
    shards: tuple[Shard, ...]
    ref: str  # the Hub commit oid, or the local version folder
    location: str  # where to see it: the Hub page at the version's tag, or the local version folder

    @classmethod
    def of(cls, changed: bool, version: Version, shards: ShardSet, url: str | None) -> PublishResult:
        location = f"{url}/tree/{version.name}" if url else version.ref
        return cls(changed, version.name, version.content_sha256, version.rows, shards.shards, version.ref, location)


def publish(
    spec: SourceSpec,
    curated_files: Sequence[Path | str],
    stages: Sequence[StageCount],
    target: Target,
    *,
    max_shard_bytes: int = MAX_SHARD_BYTES,
    row_group_bytes: int = ROW_GROUP_BYTES,
    batch_rows: int = BATCH_ROWS,
    work_dir: Path | str | None = None,
) -> PublishResult:
    """Shard, compare with the target's latest version, and commit a new version only if the data changed.

    `work_dir` holds the staging folder; on the local target's filesystem the version's files are hard links, not copies.
    """
    history = target.history(spec)
    with tempfile.TemporaryDirectory(prefix=f"publish-{spec.id}-", dir=work_dir) as tmp:
        staged = Path(tmp) / "dataset"
        schema, batches = read_batches(curated_files, batch_rows)
        shards = write_shards(batches, schema, staged, max_shard_bytes=max_shard_bytes, row_group_bytes=row_group_bytes)
        latest = history[-1] if history else None
        if latest is not None and latest.content_sha256 == shards.content_sha256:
            return PublishResult.of(False, latest, shards, target.url(spec))

        version = Version(Version.named(latest.number + 1 if latest else 1), shards.content_sha256, shards.rows,
                          datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        (staged / "README.md").write_text(render_card(spec, shards, stages, [*history, version]), encoding="utf-8")
        document = croissant(spec, shards, version, target.url(spec))
        (staged / "croissant.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        message = f"Publish {spec.id} {version.name}: {shards.rows} rows in {len(shards.shards)} shard(s)"
        return PublishResult.of(True, target.commit(spec, staged, version, message), shards, target.url(spec))
