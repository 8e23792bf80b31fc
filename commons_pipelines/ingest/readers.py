"""Parse one file into Arrow record batches; records that cannot be parsed come out as quarantine entries.

Plain functions over a binary stream, so they are tested without dlt. CSV is read with every column as text:
the raw layer keeps what the file says; typing is a curation decision.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from ..naming import fold_name
from ..spec import FilesConfig

CSV_BATCH_ROWS = 20_000
JSONL_BATCH_ROWS = 5000


@dataclass
class Quarantined:
    file: str
    position: str
    reason: str
    detail: str
    raw: str

    def as_row(self) -> dict:
        return {"position": self.position, "reason": self.reason, "detail": self.detail, "raw": self.raw[:2000]}


Item = pa.RecordBatch | list[dict] | Quarantined


def compression_of(name: str, setting: str) -> str | None:
    if setting == "none":
        return None
    if setting != "auto":
        return setting
    if name.endswith(".gz"):
        return "gzip"
    if name.endswith((".zst", ".zstd")):
        return "zstd"
    return None


def open_stream(raw: BinaryIO, name: str, setting: str) -> BinaryIO:
    codec = compression_of(name, setting)
    return pa.CompressedInputStream(pa.PythonFile(raw, mode="r"), codec) if codec else raw


def read_file(stream: BinaryIO, name: str, cfg: FilesConfig) -> Iterator[Item]:
    if cfg.format in ("csv", "tsv"):
        yield from read_csv(stream, name, cfg)
    elif cfg.format == "jsonl":
        yield from read_jsonl(stream, name)
    else:
        yield from read_parquet(stream, name)


def read_csv(stream: BinaryIO, name: str, cfg: FilesConfig) -> Iterator[Item]:
    """Rows shorter than the header are padded with nulls (trailing empty fields are often left out);
    rows longer than the header, unterminated quotes and undecodable bytes are quarantined."""
    opts = cfg.csv
    delimiter = "\t" if cfg.format == "tsv" and opts.delimiter == "," else opts.delimiter
    quoting = {"quotechar": opts.quote_char, "strict": True} if opts.quote_char else {"quoting": csv.QUOTE_NONE}
    text = io.TextIOWrapper(stream, encoding=opts.encoding, errors="surrogateescape", newline="")
    reader = csv.reader(text, delimiter=delimiter, **quoting)
    header = list(opts.columns or [])
    if opts.header:
        names = next(reader, [])
        header = header or _clean_names(names)
    width = len(header)
    schema = pa.schema([(c, pa.string()) for c in header])
    rows: list[list[str | None]] = []
    record = 0
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            yield Quarantined(name, f"line {start}", "malformed_csv_row", str(err), "")
            continue
        record += 1
        raw = delimiter.join(row)
        if _SURROGATE.search(raw):
            yield Quarantined(name, f"line {start}", "invalid_encoding", f"bytes that are not {opts.encoding}",
                              raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
        elif len(row) > width:
            yield Quarantined(name, f"line {start}", "malformed_csv_row",
                              f"expected {width} fields, found {len(row)}", raw)
        elif row:
            rows.append(row + [None] * (width - len(row)))
            if len(rows) >= CSV_BATCH_ROWS:
                yield _batch(rows, schema)
                rows = []
    if rows:
        yield _batch(rows, schema)


_SURROGATE = re.compile("[\udc80-\udcff]")


def _clean_names(names: list[str]) -> list[str]:
    names = [fold_name(n.strip().lstrip("\ufeff")) or f"column_{i + 1}" for i, n in enumerate(names)]
    return [n if names.index(n) == i else f"{n}_{i + 1}" for i, n in enumerate(names)]


def _batch(rows: list[list[str | None]], schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array(col, pa.string()) for col in zip(*rows)], schema=schema)


def read_jsonl(stream: BinaryIO, name: str) -> Iterator[Item]:
    rows: list[dict] = []
    for number, raw in enumerate(iter(stream.readline, b""), start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            yield Quarantined(name, f"line {number}", "invalid_encoding", f"{err.reason} at byte {err.start}", repr(raw))
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            yield Quarantined(name, f"line {number}", "malformed_json", f"{err.msg} at column {err.colno}", line.rstrip())
            continue
        if not isinstance(value, dict):
            yield Quarantined(name, f"line {number}", "not_an_object", f"a JSON {type(value).__name__}", line.rstrip())
            continue
        rows.append({fold_name(k): v for k, v in value.items()})
        if len(rows) >= JSONL_BATCH_ROWS:
            yield rows
            rows = []
    if rows:
        yield rows


def read_parquet(stream: BinaryIO, name: str) -> Iterator[Item]:
    try:
        pf = pq.ParquetFile(stream)
        yield from pf.iter_batches(batch_size=64_000)
    except (pa.ArrowInvalid, OSError) as err:
        yield Quarantined(name, "file", "unreadable_parquet", str(err), "")
