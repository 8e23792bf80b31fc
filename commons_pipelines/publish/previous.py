"""The rows of a source's published versions, read back: for curation (dedup against the live version), erasure
(which older versions hold erased rows) and `commons versions --diff`.

Only the requested columns are read. Local: the version's folder (`current` for the live one). Object store: the
shards read in place through fsspec, the live version being the one `current.json` names. Hub: the version's shards at
its tag, through the huggingface_hub download cache, so a later run downloads only shards it has not seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .. import parquet
from ..spec import SourceSpec
from .shards import DATA_DIR
from .hub import REPO_TYPE, HubTarget
from .local import LocalTarget
from .objects import ObjectTarget
from .targets import Target


def shard_files(target: Target, spec: SourceSpec, name: str | None = None) -> list[Path | str]:
    """The Parquet shards of version `name` (None: the live one), as paths `open_shard` opens."""
    if isinstance(target, LocalTarget):
        folder = target.current(spec) if name is None else target.folder(spec) / "versions" / name
        return sorted((folder / DATA_DIR).rglob("*.parquet"))
    if isinstance(target, ObjectTarget):
        name = name or target.live(spec)
        return target.shards(spec, name) if name else []
    if isinstance(target, HubTarget):
        if name is None:
            history = target.history(spec)
            if not history:
                return []
            name = history[-1].name
        repo = target.repo_id(spec)
        names = target._call(f"{repo}: list files of {name}", "list_repo_files", repo, repo_type=REPO_TYPE,
                             revision=name)
        return [Path(target._call(f"{repo}: download {file}", "hf_hub_download", repo, file, repo_type=REPO_TYPE,
                                  revision=name))
                for file in sorted(names) if file.startswith(f"{DATA_DIR}/") and file.endswith(".parquet")]
    return []


def open_shard(target: Target, path: Path | str) -> pq.ParquetFile:
    return parquet.open_file(path, target.fs if isinstance(target, ObjectTarget) else None)


def previous_rows(target: Target, spec: SourceSpec, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
    """Batches of `columns` (None: all) from the live version; nothing when there is none or it lacks one of the
    columns."""
    for path in shard_files(target, spec):
        file = open_shard(target, path)
        if columns is not None and not set(columns) <= set(file.schema_arrow.names):
            return
        yield from file.iter_batches(columns=columns)


def live_table(target: Target, spec: SourceSpec) -> pa.Table | None:
    """The whole live version in memory (small sources, tests); None before the first publish."""
    tables = [open_shard(target, path).read() for path in shard_files(target, spec)]
    return pa.concat_tables(tables, promote_options="default") if tables else None
