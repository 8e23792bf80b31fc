"""The `files` kind: local files under a folder and glob, or one http(s) file; CSV, TSV, JSONL, JSON or Parquet,
optionally gzip or zstd. Listing and change detection are in listing.py, parsing in readers.py."""

from __future__ import annotations

from collections.abc import Iterator

from ..spec import SourceSpec
from ..urls import public_url
from .listing import Listed, plan_files as plan
from .readers import UNREADABLE, Quarantined, compression_of, open_stream, read_file

__all__ = ["location", "plan", "read"]


def location(spec: SourceSpec) -> str:
    return public_url(spec.files_location())


def read(spec: SourceSpec, unit: Listed, notes: dict) -> Iterator:
    cfg = spec.files
    if unit.size == 0 and compression_of(unit.path, cfg.compression):  # pyarrow reads it as empty, no error
        yield Quarantined(unit.path, "byte 0", UNREADABLE, "an empty compressed file", "")
        return
    with open(unit.open_path, "rb") as raw:
        yield from read_file(open_stream(raw, unit.path, cfg.compression), unit.path, cfg, notes)
