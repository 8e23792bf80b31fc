"""Publish one source's curated data as a new version, or nothing when the data did not change.

Version scheme: versions are numbered v1, v2, ... in publishing order. On the Hub each version is one commit on
`main` tagged `vN`; locally each version is a complete folder `versions/vN/` and `current` points at the newest.
A version's identity is its content sha256: the sha256 over its shard files' sha256s in name order. It covers the
data only, so a card-only difference (dates, stage counts) never makes a new version, and identical data never
does either. Shards are written deterministically, so identical curated input gives identical shards (with the
same pyarrow: a new writer version may change the bytes, and then a new version is published).

A multilingual source (see `per_language`) is published one folder and one Hub config per language; the content
sha256 is then over the shards in path order, data/<lang>/... The curation report goes on the card only.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from ..spec import SourceSpec
from ..stats import CurationReport, StageCount
from .card import render_card
from .croissant import croissant
from .shards import (BATCH_ROWS, LANG_COLUMN, MAX_SHARD_BYTES, ROW_GROUP_BYTES, Shard, ShardSet, count_languages,
                     read_batches, write_language_shards, write_shards)
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


def per_language(spec: SourceSpec, schema: pa.Schema) -> bool:
    """One folder and config per language: the data has `_lang` and the source is multilingual (`language.configs`,
    by default when the source lists several languages)."""
    if LANG_COLUMN not in schema.names:
        return False
    configs = spec.language.configs
    return configs if configs is not None else len(spec.languages) > 1


def publish(
    spec: SourceSpec,
    curated_files: Sequence[Path | str],
    stages: Sequence[StageCount],
    target: Target,
    *,
    report: CurationReport | None = None,
    max_shard_bytes: int = MAX_SHARD_BYTES,
    row_group_bytes: int = ROW_GROUP_BYTES,
    batch_rows: int = BATCH_ROWS,
    work_dir: Path | str | None = None,
) -> PublishResult:
    """Shard, compare with the target's latest version, and commit a new version only if the data changed.

    `work_dir` holds the staging folder (and, for a multilingual source, a temporary copy of the data split by
    language); on the local target's filesystem the version's files are hard links, not copies.
    `report` (what curation found: personal data, the NER backend) goes on the card and never changes the version.
    """
    history = target.history(spec)
    sizes = dict(max_shard_bytes=max_shard_bytes, row_group_bytes=row_group_bytes)
    with tempfile.TemporaryDirectory(prefix=f"publish-{spec.id}-", dir=work_dir) as tmp:
        staged = Path(tmp) / "dataset"
        schema, batches = read_batches(curated_files, batch_rows)
        if per_language(spec, schema):
            shards = write_language_shards(batches, schema, staged, Path(tmp) / "by-language", **sizes)
        else:
            counts: Counter[str] = Counter()
            if LANG_COLUMN in schema.names:
                batches = count_languages(batches, counts)
            shards = write_shards(batches, schema, staged, **sizes)
            shards = replace(shards, lang_rows=tuple(sorted(counts.items())))
        latest = history[-1] if history else None
        if latest is not None and latest.content_sha256 == shards.content_sha256:
            return PublishResult.of(False, latest, shards, target.url(spec))

        version = Version(Version.named(latest.number + 1 if latest else 1), shards.content_sha256, shards.rows,
                          datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        (staged / "README.md").write_text(render_card(spec, shards, stages, [*history, version], report), encoding="utf-8")
        document = croissant(spec, shards, version, target.url(spec))
        (staged / "croissant.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        message = f"Publish {spec.id} {version.name}: {shards.rows} rows in {len(shards.shards)} shard(s)"
        return PublishResult.of(True, target.commit(spec, staged, version, message), shards, target.url(spec))
