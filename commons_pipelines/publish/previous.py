"""The rows of a source's latest published version, read back for curation (dedup against what is already out).

Only the requested columns are read. Local: the `current` folder. Hub: the version's shards at its tag, through the
huggingface_hub download cache, so a later run downloads only shards it has not seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..spec import SourceSpec
from .shards import DATA_DIR
from .hub import REPO_TYPE, HubTarget
from .local import LocalTarget
from .targets import Target


def _files(target: Target, spec: SourceSpec) -> list[Path]:
    if isinstance(target, LocalTarget):
        return sorted((target.current(spec) / DATA_DIR).rglob("*.parquet"))
    if isinstance(target, HubTarget):
        history = target.history(spec)
        if not history:
            return []
        repo, tag = target.repo_id(spec), history[-1].name
        names = target._call(f"{repo}: list files of {tag}", "list_repo_files", repo, repo_type=REPO_TYPE,
                             revision=tag)
        return [Path(target._call(f"{repo}: download {name}", "hf_hub_download", repo, name, repo_type=REPO_TYPE,
                                  revision=tag))
                for name in sorted(names) if name.startswith(f"{DATA_DIR}/") and name.endswith(".parquet")]
    return []


def previous_rows(target: Target, spec: SourceSpec, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """Batches of `columns` from the latest version; nothing when there is none or it lacks one of the columns."""
    for path in _files(target, spec):
        file = pq.ParquetFile(path)
        if not set(columns) <= set(file.schema_arrow.names):
            return
        yield from file.iter_batches(columns=columns)
