"""Publish one source's curated data as a new version, or nothing when the data did not change.

Version scheme: versions are numbered v1, v2, ... in publishing order. On the Hub each version is one commit on
`main` tagged `vN`; locally each version is a complete folder `versions/vN/` and `current` points at the newest.
A version's identity (`identity`, recorded as its content_sha256) is the sha256 of its schema and its rows'
`_row_sha256` in published order: the data only, so a card-only difference (dates, stage counts), new Parquet bytes
for the same rows (another pyarrow) or a new `_retrieved_at` never make a new version, and identical data never does.

A multilingual source (see `per_language`) is published one folder and one Hub config per language; the content
identity then reads the shards in path order, data/<lang>/... The curation report goes on the card only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from .. import parquet
from ..columns import ROW_SHA256, row_sha256
from ..faults import failpoint
from ..spec import SourceSpec
from ..stats import CurationReport, StageCount
from .card import render_card
from .croissant import croissant
from .shards import (BATCH_ROWS, LANG_COLUMN, MAX_SHARD_BYTES, ROW_GROUP_BYTES, Shard, ShardSet, count_languages,
                     read_batches, write_language_shards, write_shards)
from .targets import PublishConflict, Target, Version


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


def identity(folder: Path, shards: ShardSet) -> str:
    """A version's identity: sha256 over the schema (names and types) and every row's `_row_sha256`, in the order
    the shards (in path order) hold them. File bytes, the card and `_retrieved_at` do not count, so re-reading a
    source, a new Parquet writer or a new date publishes nothing; a changed value, row, order or column does."""
    digest = hashlib.sha256()
    for f in shards.schema:
        digest.update(f"{f.name}\x1f{f.type}\n".encode())
    digest.update(b"\x1e")
    for shard in sorted(shards.shards, key=lambda s: s.path):
        with parquet.open_file(folder / shard.path) as file:
            hashed = ROW_SHA256 in file.schema_arrow.names
            for batch in file.iter_batches(columns=[ROW_SHA256] if hashed else None):
                values = batch.column(0) if hashed else row_sha256(batch)
                digest.update("\n".join(values.to_pylist()).encode() + b"\n")
    return digest.hexdigest()


def changelog(rows: int, report: CurationReport | None) -> str:
    """One line of the card's changelog: rows, added and removed since the previous version, rows erased and why."""
    parts = [f"{rows:,} rows"]
    previous = (report.previous if report else None) or {}
    if "added" in previous:
        parts.append(f"{previous['added']:,} added, {previous['removed']:,} removed")
    if report and report.erased:
        total = sum(report.erased.values())
        reasons = "; ".join(f"{why} ({n:,})" for why, n in sorted(report.erased.items()))
        parts.append(f"{total:,} erased on request: {reasons}")
    return ". ".join(parts).replace("\n", " ")


def remote_staging(spec: SourceSpec) -> Path:
    """Where a publish to a remote target (the Hub, a bucket) stages: a folder of the system's temporary one, per user
    (uid: a container's user may have no name) and per source."""
    return Path(tempfile.gettempdir()) / f"commons-publish-{getattr(os, 'getuid', lambda: 'user')()}" / spec.id


def staging(spec: SourceSpec, target: Target) -> Path:
    """Where this publish stages its version: the target's folder, or `remote_staging`, where what a killed publish
    left (its process gone) is removed first."""
    folder = target.staging(spec)
    if folder is not None:
        return folder
    folder = remote_staging(spec)
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.glob(".publish-*"):
        if not _alive(path.name.split("-")[1]):
            shutil.rmtree(path, ignore_errors=True)
    return folder


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:  # the pid, reused by another user's process: left alone rather than fail the publish
        return True
    return True


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
    attempts: int = 3,
) -> PublishResult:
    """Shard, compare with the target's latest version, and commit a new version only if the data changed.

    The target first repairs what a crashed publish left (`Target.repair`). Staging happens where the target says
    (the local target: next to its versions, so a version is renamed into place, never copied); a multilingual
    source also spills its rows by language there. A conflict (someone published in between) re-reads the history
    and tries again, at most `attempts` times. `report` (what curation found: personal data, the NER backend,
    rows erased) goes on the card and never changes the version.
    """
    sizes = dict(max_shard_bytes=max_shard_bytes, row_group_bytes=row_group_bytes)
    target.repair(spec)
    with tempfile.TemporaryDirectory(prefix=f".publish-{os.getpid()}-", dir=staging(spec, target)) as tmp:
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
        content = identity(staged, shards)
        for attempt in range(1, attempts + 1):
            history = target.history(spec)
            latest = history[-1] if history else None
            if latest is not None and latest.content_sha256 == content:
                return PublishResult.of(False, latest, shards, target.url(spec))
            version = Version(Version.named(latest.number + 1 if latest else 1), content, shards.rows,
                              datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                              changelog=changelog(shards.rows, report))
            (staged / "README.md").write_text(render_card(spec, shards, stages, [*history, version], report),
                                              encoding="utf-8")
            document = croissant(spec, shards, version, target.url(spec))
            (staged / "croissant.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                                                   encoding="utf-8")
            message = f"Publish {spec.id} {version.name}: {shards.rows} rows in {len(shards.shards)} shard(s)"
            failpoint("publish.staged")
            try:
                committed = target.commit(spec, staged, version, message)
            except PublishConflict:
                if attempt == attempts:
                    raise
                continue
            failpoint("publish.done")
            return PublishResult.of(True, committed, shards, target.url(spec))
