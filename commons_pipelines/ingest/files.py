"""The `files` kind: dlt's filesystem listing, incremental by modification date, piped into our readers.

Rows land in `records`, unparseable records in `_quarantine`. Both are merged with the delete-insert
strategy keyed on `_source_file`, so a file that changed replaces its own rows and quarantine entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

import dlt
import fsspec
import pyarrow as pa
from dlt.common.storages.fsspec_filesystem import FileItem, FileItemDict, guess_mime_type
from dlt.sources import DltResource, DltSource
from dlt.sources.filesystem import filesystem

from ..spec import SourceSpec
from .readers import Quarantined, open_stream, read_file

SOURCE_FILE = pa.field("_source_file", pa.string(), nullable=False)  # the merge key: dlt makes it NOT NULL
RETRIEVED_AT = pa.field("_retrieved_at", pa.timestamp("us", tz="UTC"))
RECORDS = "records"
QUARANTINE = "quarantine"
QUARANTINE_SCHEMA = pa.schema([
    SOURCE_FILE, ("position", pa.string()), ("reason", pa.string()),
    ("detail", pa.string()), ("raw", pa.string()), RETRIEVED_AT,
])


def _bucket_and_glob(spec: SourceSpec) -> tuple[str, str]:
    path = Path(spec.files_location())
    if path.is_file():
        return str(path.parent), path.name
    return str(path), spec.files.glob


@dlt.resource(name="http_listing", primary_key="file_url")
def http_file(url: str, incremental=dlt.sources.incremental("modification_date")):
    """One file over http(s), which has no listing: its Last-Modified header is the modification date."""
    fs = fsspec.filesystem("http")
    info = fs.info(url)
    modified = info.get("Last-Modified")
    name = PurePosixPath(urlparse(url).path).name
    item = FileItem(file_name=name, relative_path=name, file_url=url, mime_type=guess_mime_type(name)[0] or "",
                    modification_date=parsedate_to_datetime(modified).astimezone(timezone.utc)
                    if modified else datetime.now(timezone.utc))
    if info.get("size") is not None:
        item["size_in_bytes"] = int(info["size"])
    yield [FileItemDict(item, fs)]


def _quarantine(rows: list[dict]):
    return dlt.mark.with_table_name(pa.Table.from_pylist(rows, QUARANTINE_SCHEMA), QUARANTINE)


def files_source(spec: SourceSpec) -> DltSource:
    cfg = spec.files

    def read(items) -> Iterator:
        for item in items:
            retrieved = datetime.now(timezone.utc)
            name = item["relative_path"]
            bad: list[dict] = []
            with item.open(mode="rb", compression="disable") as raw:
                for part in read_file(open_stream(raw, name, cfg.compression), name, cfg):
                    if isinstance(part, Quarantined):
                        bad.append({SOURCE_FILE.name: name, **part.as_row(), RETRIEVED_AT.name: retrieved})
                        if len(bad) >= 5000:
                            yield _quarantine(bad)
                            bad = []
                    elif isinstance(part, list):
                        yield [{**r, SOURCE_FILE.name: name, RETRIEVED_AT.name: retrieved} for r in part]
                    else:
                        n = part.num_rows
                        yield (part.append_column(SOURCE_FILE, pa.array([name] * n, pa.string()))
                                   .append_column(RETRIEVED_AT, pa.array([retrieved] * n, RETRIEVED_AT.type)))
            if bad:
                yield _quarantine(bad)

    @dlt.source(name=spec.id, max_table_nesting=0)
    def source() -> DltResource:
        if cfg.is_remote:
            listing = http_file(spec.files_location())
        else:
            bucket, glob = _bucket_and_glob(spec)
            listing = filesystem(bucket_url=bucket, file_glob=glob,
                                 incremental=dlt.sources.incremental("modification_date"))
        reader = dlt.transformer(read, name=RECORDS, merge_key=SOURCE_FILE.name,
                                 write_disposition={"disposition": "merge", "strategy": "delete-insert"})
        return listing | reader

    return source()
