"""Parse one file into Arrow record batches (CSV, TSV, Parquet, clean JSONL) or lists of dicts (JSONL, JSON); what
cannot be parsed comes out as quarantine entries, never as an exception.

Plain functions over a binary stream, so they are tested without dlt. CSV is read with every column as text: the raw
layer keeps what the file says; typing is a curation decision.

Column names are final warehouse names (`columns.input_names`: the CSV header or `csv.columns`, the Parquet schema,
each JSONL key): none starts with '_', and the renames that prefix forces go to `notes["renamed"]`. A JSONL key is
named the first time the file shows it (the keys new in a record are named source names first, then the renamed
ones) and keeps that name for the rest of the file, so two keys that fold to one name get 'name_2'. Keys inside JSON
values stay as they are (the value lands as JSON).

A record is a CSV record (a blank line is none), a non-blank JSONL line, an item of a JSON document's record array
("record N"; `records` reads API pages the same way) or a Parquet row. Unless the last item is an
`unreadable_file` entry, every record comes out once: as a row or as one `Quarantined` entry, whose `position` is
"line N" (where the record starts) or, for Parquet, "row N"; an `unreadable_file` entry has the line or the Parquet
"row group N" reached. All count from 1. Reasons:

  invalid_encoding     bytes that are not the declared encoding (JSONL: UTF-8), a lone surrogate escape in JSON
                       ("\\ud800"), text in Parquet that is not UTF-8
  nul_byte             a NUL in a CSV record or a JSONL line, as a byte or as "\\u0000": dlt drops NULs from
                       JSON values without a word, and a NUL in text is corruption far more often than data
  malformed_csv_row    what the csv module cannot parse (quotes are strict), or more fields than the header;
                       fewer fields are padded with nulls (trailing empty fields are often left out)
  malformed_json       not JSON; NaN and Infinity included, which JSON does not have
  not_an_object        JSON that is not an object
  too_deeply_nested    JSON with more than MAX_DEPTH levels of objects and arrays (dlt's serialiser stops at 255)
  number_out_of_range  an integer outside int64 or a number beyond float64 (1e400) in JSON, a Parquet uint64
                       above int64
  unsupported_value    a Parquet timestamp with nanoseconds (the warehouse keeps microseconds)
  too_many_columns     a JSONL record whose new keys would give the file more than MAX_COLUMNS columns
  record_too_large     a CSV record of more than MAX_RECORD characters or a JSONL line of more than MAX_RECORD
                       bytes; it is skipped without being held (a CSV record past the cap is reduced to its quotes
                       and delimiters, so that its end is still found)
  unreadable_file      the file as a whole, always the last item, at the position reached: a stream that fails
                       (truncated or corrupt gzip/zstd, a read error), a CSV/JSONL file whose first HEAD_BYTES
                       are binary (see _check_text), a CSV header that is not text in the declared
                       encoding, is not valid CSV or has more than MAX_COLUMNS fields, a Parquet file pyarrow cannot
                       read or with a type the warehouse cannot store, any other exception. The caller drops the
                       file's rows.

Every entry's detail is one line and its raw at most RAW_CHARS characters, with undecodable bytes written "\\xff".

Fast paths: pyarrow reads a clean CSV file (the Python reader takes over from the start at the first doubt) and clean
JSONL chunks (JSONL_CHUNK bytes of whole lines; "line N" still counts over the file). A JSONL chunk goes to the Python
reader, with the same key names, unless pyarrow's table is what the Python reader and the runner's `as_arrow` would
land. Checked on the raw bytes first: every non-blank line starts with "{" (pyarrow reads a line `null` as a row of
nulls, and crashes when it comes first), no NUL or "\\u0000" (pyarrow keeps them), no line of more than MAX_DEPTH
brackets (pyarrow crashes on deep nesting), none of MAX_RECORD bytes. Then on the table: pyarrow raised nothing
(duplicate keys, lone surrogates, syntax errors, a value changing type: Python says which line and why), one row per
non-blank line (two values on a line, a bare CR), valid UTF-8 (pyarrow does not check it), only string, int64, bool or
double columns (nested values land as JSON from the dicts), no double NaN or infinite (pyarrow reads NaN and Infinity)
or integral (the literal may have been an int, which makes a column of int and float dicts; "1e5" is a float in Python;
an integer past int64 comes as a double too, 1e400 as an error); strings pyarrow takes for timestamps are read again as
text; a column null in every row is left out (as_arrow leaves it out too). New keys are named by _Keys unless their
names would depend on record order (a forced rename, two names folding to one). Such batches carry JSON_ROWS in their
schema metadata: the runner types them as it types dicts (runner.json_arrow). Each such rule is tested against the
Python reader (test_fuzz.py).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial, reduce
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq

from ..columns import input_names
from ..spec import FilesConfig

CSV_BATCH_ROWS = 20_000
JSONL_BATCH_ROWS = 5000
JSONL_CHUNK = 4 << 20  # bytes of whole lines pyarrow reads at a time
FAST_JSONL = True  # False: the Python reader reads every line (what the fast path is tested against)
JSON_ROWS = b"commons.json_rows"  # schema metadata of pyarrow's JSON rows: the runner types them as it types dicts
PARQUET_BATCH_ROWS = 64_000
BATCH_CHARS = 64 << 20  # a batch is also cut at this much text, so that large fields do not pile up
MAX_RECORD = 16 << 20
MAX_SHAPE = 16 << 20  # what _Lines keeps of a CSV record past MAX_RECORD; more: the file is not CSV
PIECE = 1 << 20  # how much of a line past MAX_RECORD is read at a time
MAX_DEPTH = 64
MAX_COLUMNS = 4096
HEAD_BYTES = 8000
BINARY_SHARE = 20
RAW_CHARS = 2000
DETAIL_CHARS = 500
INT64 = (-(1 << 63), (1 << 63) - 1)
UNREADABLE = "unreadable_file"
REASONS = frozenset({
    "invalid_encoding", "nul_byte", "malformed_csv_row", "malformed_json", "not_an_object", "too_deeply_nested",
    "number_out_of_range", "unsupported_value", "too_many_columns", "record_too_large", UNREADABLE})


@dataclass
class Quarantined:
    file: str
    position: str
    reason: str
    detail: str
    raw: str

    def __post_init__(self) -> None:
        self.detail = _printable(" ".join(self.detail[:DETAIL_CHARS].split()))[:DETAIL_CHARS]
        self.raw = _printable(self.raw[:RAW_CHARS])[:RAW_CHARS]

    def as_row(self) -> dict:
        return {"position": self.position, "reason": self.reason, "detail": self.detail, "raw": self.raw}


Item = pa.RecordBatch | list[dict] | Quarantined

_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def _escape(m: re.Match) -> str:
    c = ord(m[0])
    return f"\\x{c - 0xDC00:02x}" if 0xDC80 <= c <= 0xDCFF else f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def _printable(text: str) -> str:
    """Undecodable bytes (kept as surrogates by 'surrogateescape') as \\xff, NUL as \\x00, other surrogates as
    \\ud800: the quarantine table takes UTF-8 only."""
    return _UNSAFE.sub(_escape, text)


class Unreadable(Exception):
    """A problem of the whole file: read_file turns it into the last entry."""

    def __init__(self, detail: str, position: str | None = None) -> None:
        super().__init__(detail)
        self.position = position


class _Position:
    """Where a reader is, asked only when something fails."""

    def __init__(self, first: str) -> None:
        self.where: Callable[[], str] = lambda: first


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


def read_file(stream: BinaryIO, name: str, cfg: FilesConfig, notes: dict | None = None) -> Iterator[Item]:
    """The rows and quarantine entries of one file (see the module docstring); `notes["renamed"]` collects the
    column renames forced by the reserved '_' prefix ({original: new})."""
    at = _Position("row group 1" if cfg.format == "parquet" else "line 1")
    renamed = {} if notes is None else notes.setdefault("renamed", {})
    try:
        if cfg.format == "parquet":
            yield from read_parquet(stream, name, renamed, at)
            return
        buffered = _buffered(stream)
        _check_text(buffered, cfg)
        if cfg.format == "jsonl":
            yield from read_jsonl(buffered, name, renamed, at)
        elif cfg.format == "json":
            yield from read_json(buffered, name, cfg.record_path, renamed, at)
        else:
            yield from read_csv(buffered, name, cfg, renamed, at, stream)
    except Exception as err:  # noqa: BLE001 - whatever the bytes do, the caller gets one entry, not a traceback
        if isinstance(err, Unreadable):
            yield Quarantined(name, err.position or at.where(), UNREADABLE, str(err), "")
        else:
            yield Quarantined(name, at.where(), UNREADABLE, f"{type(err).__name__}: {err}", "")


class _Raw(io.RawIOBase):
    """Any object with read(n), first serving `head` (bytes already read from it)."""

    def __init__(self, stream: BinaryIO, head: bytes) -> None:
        self._read, self._head = stream.read, head

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self._head:
            data, self._head = self._head[:len(buf)], self._head[len(buf):]
        else:
            data = self._read(len(buf))
        buf[:len(data)] = data
        return len(data)


def _buffered(stream: BinaryIO) -> io.BufferedReader:
    """A buffered reader over the stream, whose first HEAD_BYTES can be looked at (`.head`): pyarrow's and fsspec's
    streams have no readline(limit) of their own."""
    head = b""
    while len(head) < HEAD_BYTES and (chunk := stream.read(HEAD_BYTES - len(head))):
        head += chunk
    out = io.BufferedReader(_Raw(stream, head), 1 << 16)
    out.head = head
    return out


def _wide(encoding: str) -> bool:
    return codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


_CONTROL = bytes([*range(0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20)])  # C0 controls text does not use
_TEXT_BYTES = bytes(b for b in range(256) if b not in _CONTROL)


def _check_text(buffered: io.BufferedReader, cfg: FilesConfig) -> None:
    """Binary data is told from text by its first HEAD_BYTES: more than 1 in BINARY_SHARE (and more than 3) are
    control bytes such as NUL, which text does not use; random or compressed bytes have 1 in 10, UTF-16 text 1 in 2.
    A stray NUL in a text file is left to the record that holds it."""
    head = buffered.head
    if cfg.format not in ("jsonl", "json") and _wide(cfg.csv.encoding):
        return
    controls = len(head.translate(None, _TEXT_BYTES))
    if controls > max(len(head) // BINARY_SHARE, 3):
        raise Unreadable(f"{controls} of the first {len(head)} bytes are control bytes such as NUL: binary data, "
                         f"not a {cfg.format} file (or text in another encoding than declared)")


# CSV

_BAD_TEXT = re.compile("[\x00\udc80-\udcff]")


class _Lines:
    """csv.reader's input: the text's lines. Once the current record passes MAX_RECORD characters, each line of it is
    read in pieces and reduced to what the parser needs to find where the record ends (quotes, delimiters, line
    ends), so the record is never held; it is then flagged `big`. The caller sets `size` to 0 before each record."""

    def __init__(self, text: io.TextIOBase, delimiter: str, quote: str | None) -> None:
        self.text = text
        self.size = 0
        self.shape = 0
        self.big = False
        self.head = ""
        self.last = ""
        special = re.escape(delimiter + (quote or ""))
        filler = next(c for c in "abc" if c not in special)
        self._shrink = [(re.compile(f"[^{special}\r\n]+"), filler), (re.compile(f"{re.escape(delimiter)}+"), delimiter)]
        if quote:  # a run of quotes acts as one or two by its parity: '""' inside quotes is a quote
            q = re.escape(quote)
            self._shrink.append((re.compile(f"(?:{q}{q})+{q}"), quote))

    def __iter__(self) -> Iterator[str]:
        read = partial(self.text.readline, MAX_RECORD)
        for line in iter(read, ""):
            self.last = line
            self.size += len(line)
            if self.size >= MAX_RECORD:
                line = self._reduced(line)
            yield line

    def next_record(self) -> None:
        self.size = self.shape = 0
        self.big = False

    def _reduced(self, line: str) -> str:
        if not self.big:
            self.big, self.head = True, line[:RAW_CHARS]
        self.last = ""
        pieces = []
        while True:
            pieces.append(self._squeeze(line))
            self.shape += len(pieces[-1])
            if self.shape > MAX_SHAPE:
                raise Unreadable(f"a record of more than {MAX_RECORD} characters whose quotes, delimiters and lines "
                                 f"still take more than {MAX_SHAPE}: not CSV")
            if line[-1] in "\r\n" or not (line := self.text.readline(PIECE)):
                break
        return "".join(pieces)

    def _squeeze(self, text: str) -> str:
        for pattern, repl in self._shrink:
            text = pattern.sub(repl, text)
        return text


def read_csv(buffered: io.BufferedReader, name: str, cfg: FilesConfig, renamed: dict, at: _Position,
             stream: BinaryIO | None = None) -> Iterator[Item]:
    """A CSV/TSV file: pyarrow's CSV reader (in C, ~100 MB/s) while the file is clean, Python's csv module from the
    start of the file when pyarrow's reading meets anything else (a bad record, a stray quote, a NUL, bytes that are
    not the encoding ...): it finds and quarantines the bad records with their lines, and skips the rows pyarrow
    already gave. Both give the same rows (tested on generated files, test_fuzz.py)."""
    done = 0
    if stream is not None and getattr(stream, "seekable", lambda: False)():
        try:
            for batch in _arrow_csv(buffered.head, stream, cfg, renamed):
                done += batch.num_rows
                yield batch
            return
        except Exception:  # noqa: BLE001 - whatever it is, the Python reader finds it and says where
            stream.seek(0)
            buffered = _buffered(stream)
    for item in _python_csv(buffered, name, cfg, renamed, at):
        if done and not isinstance(item, Quarantined):
            item, done = (item.slice(done), 0) if item.num_rows > done else (None, done - item.num_rows)
            if item is None:
                continue
        yield item


class _Unclean(Exception):
    pass


class _Watched:
    """The bytes pyarrow reads, refused (`_Unclean`) where pyarrow and Python's strict csv module would read them
    apart: a NUL (Python quarantines its record), a closing quote not followed by a delimiter or a line end
    ('"a"b': Python refuses it, pyarrow reads 'ab'), a quote left open at the end. A read's quote runs are followed
    all at once (numpy) while every quote outside a field opens one, so that a field is quoted where the quotes
    before it are odd in number; a read with a quote inside an unquoted field is followed run by run."""

    def __init__(self, stream: BinaryIO, delimiter: bytes, quote: bytes | None) -> None:
        self.read_raw = stream.read
        self.quotes = re.compile(re.escape(quote) + b"+") if quote else None
        self.quote = quote[0] if quote and len(quote) == 1 else None
        self.ends = (delimiter, b"\r", b"\n")
        self.is_end = np.zeros(256, bool)
        self.is_end[[delimiter[0], ord("\r"), ord("\n")]] = True
        self.prev = b"\n"  # the byte before the data: the file starts a field
        self.quoted = False
        self.closed_last = False  # the data ended on a closing quote: the next byte must end the field
        self.first = True
        self.line = self.open = 0  # bytes since the last line end, and in a quoted field left open by a read
        self.opened = -1  # where in the data the quoted field left open began; -1: before the data
        self.closed = False  # pyarrow reads file objects that say whether they are closed

    def read(self, n: int = -1) -> bytes:
        data = self.read_raw(n)
        if b"\x00" in data:
            raise _Unclean("NUL")
        followed = data.removeprefix(_BOM) if self.first else data
        if self.quotes:
            self._follow(followed)
        self.first = False
        end = data.rfind(b"\n")
        self.line = self.line + len(data) if end < 0 else len(data) - end - 1
        if not self.quoted:
            self.open = 0
        else:
            self.open = self.open + len(data) if self.opened < 0 else len(followed) - self.opened
        if max(self.line, self.open) > MAX_RECORD // 2:  # pyarrow would hold the record whole: Python skips it
            raise _Unclean("a record near the size cap")
        return data

    def _follow(self, data: bytes) -> None:
        if not data:
            if self.quoted:
                raise _Unclean("a quote left open")
            return
        if self.closed_last and data[:1] not in self.ends:
            raise _Unclean("a closing quote inside a field")
        self.closed_last = False
        self.opened = -1
        if self.quote is None or not self._by_parity(data):
            self._run_by_run(data)
        self.prev = data[-1:]

    def _by_parity(self, data: bytes) -> bool:
        """The read's quotes followed at once; False, changing nothing, when one is inside an unquoted field."""
        b = np.frombuffer(data, np.uint8)
        at = np.flatnonzero(b == self.quote)
        if not at.size:
            return True
        first = np.flatnonzero(np.r_[True, at[1:] != at[:-1] + 1])
        starts = at[first]
        ends = starts + np.diff(np.r_[first, at.size])
        before = np.r_[0, np.cumsum(ends - starts)[:-1]] + self.quoted
        opening = before % 2 == 0
        prev = b[np.maximum(starts - 1, 0)]
        prev[starts == 0] = ord(self.prev)
        if not self.is_end[prev[opening]].all():
            return False
        closing = (before + ends - starts) % 2 == 0
        inside = ends < len(b)
        if not self.is_end[b[ends[closing & inside]]].all():
            raise _Unclean("a closing quote inside a field")
        self.closed_last = bool(closing[-1] and not inside[-1])
        self.quoted = not closing[-1]
        if self.quoted and opening.any():
            self.opened = int(starts[np.flatnonzero(opening)[-1]])
        return True

    def _run_by_run(self, data: bytes) -> None:
        for m in self.quotes.finditer(data):
            start, end = m.span()
            run = end - start
            if not self.quoted:
                before = data[start - 1:start] if start else self.prev
                if before not in self.ends:
                    continue  # a quote inside an unquoted field is a character
                self.quoted, self.opened, run = True, start, run - 1
            if run % 2:  # pairs are quotes inside the field; an odd one closes it
                self.quoted = False
                after = data[end:end + 1]
                if not after:
                    self.closed_last = True
                elif after not in self.ends:
                    raise _Unclean("a closing quote inside a field")


def _arrow_csv(head: bytes, stream: BinaryIO, cfg: FilesConfig, renamed: dict) -> Iterator[pa.RecordBatch]:
    """The file's rows read by pyarrow, every column as text; raises where the Python reader must take over."""
    import pyarrow.csv as pcsv

    opts = cfg.csv
    delimiter = "\t" if cfg.format == "tsv" and opts.delimiter == "," else opts.delimiter
    encoding = codecs.lookup(opts.encoding).name
    if _wide(encoding) or len(delimiter.encode(encoding)) != 1 or head.removeprefix(_BOM)[:1] in (b"\r", b"\n"):
        raise _Unclean("an encoding, delimiter or first line the fast reader does not take")
    quoting = {"quotechar": opts.quote_char, "strict": True} if opts.quote_char else {"quoting": csv.QUOTE_NONE}
    header = list(opts.columns or [])
    if opts.header:
        text = io.StringIO(head.decode(encoding, "surrogateescape").removeprefix("\ufeff"), newline="")
        lines = _Lines(text, delimiter, opts.quote_char)
        header = _header(csv.reader(lines, delimiter=delimiter, **quoting), lines, opts.encoding, header)
        if text.tell() >= len(text.getvalue()) and len(head) >= HEAD_BYTES:
            raise _Unclean("a header longer than the first bytes")
    if not header or len(header) > MAX_COLUMNS:
        raise _Unclean("no header, or too wide")
    names, forced = input_names(header)
    renamed.update(forced)
    stream.seek(0)
    watched = _Watched(stream, delimiter.encode(encoding), opts.quote_char.encode(encoding) if opts.quote_char else None)
    reader = pcsv.open_csv(
        watched,
        read_options=pcsv.ReadOptions(column_names=names, skip_rows_after_names=int(opts.header),
                                      encoding="utf8" if encoding == "utf-8" else encoding,
                                      block_size=min(8 << 20, MAX_RECORD),  # a record past it: Python says why
                                      use_threads=False),  # a refusal (`_Unclean`) is raised where it happens
        parse_options=pcsv.ParseOptions(delimiter=delimiter, quote_char=opts.quote_char or False,
                                        newlines_in_values=True, ignore_empty_lines=True),
        convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                                            quoted_strings_can_be_null=False))
    for batch in reader:
        if not batch.num_rows:
            continue
        sizes = [pc.fill_null(pc.utf8_length(col), 0) for col in batch.columns]
        if pc.max(reduce(pc.add, sizes)).as_py() >= MAX_RECORD // 2:
            raise _Unclean("a record near the size cap")  # Python counts its quotes too, and quarantines it
        yield batch


def _python_csv(buffered: io.BufferedReader, name: str, cfg: FilesConfig, renamed: dict, at: _Position) -> Iterator[Item]:
    opts = cfg.csv
    delimiter = "\t" if cfg.format == "tsv" and opts.delimiter == "," else opts.delimiter
    quoting = {"quotechar": opts.quote_char, "strict": True} if opts.quote_char else {"quoting": csv.QUOTE_NONE}
    encoding = "utf-8-sig" if codecs.lookup(opts.encoding).name == "utf-8" else opts.encoding
    text = io.TextIOWrapper(buffered, encoding=encoding, errors="surrogateescape", newline="")
    lines = _Lines(text, delimiter, opts.quote_char)
    reader = csv.reader(lines, delimiter=delimiter, **quoting)
    at.where = lambda: f"line {reader.line_num + 1}"
    if csv.field_size_limit() < MAX_RECORD + MAX_SHAPE:  # _Lines bounds records; csv's own limit must not cut one
        csv.field_size_limit(MAX_RECORD + MAX_SHAPE)
    header = list(opts.columns or [])
    if opts.header:
        header = _header(reader, lines, opts.encoding, header)
    if len(header) > MAX_COLUMNS:
        raise Unreadable(f"a header of {len(header)} fields, more than {MAX_COLUMNS}")
    names, forced = input_names(header)
    renamed.update(forced)
    width = len(names)
    schema = pa.schema([(c, pa.string()) for c in names])
    rows: list[list[str | None]] = []
    chars = 0
    bad = _BAD_TEXT.search
    while True:
        start = reader.line_num + 1
        lines.size = 0
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            yield _too_large(name, start, lines) if lines.big else Quarantined(
                name, f"line {start}", "malformed_csv_row", str(err), lines.last.rstrip("\r\n"))
            continue
        if lines.big:
            yield _too_large(name, start, lines)
            continue
        if not row:
            continue
        raw = delimiter.join(row)
        if hit := bad(raw):
            yield (Quarantined(name, f"line {start}", "nul_byte", "a NUL character", raw) if hit[0] == "\x00" else
                   Quarantined(name, f"line {start}", "invalid_encoding", f"bytes that are not {opts.encoding}", raw))
        elif len(row) > width:
            yield Quarantined(name, f"line {start}", "malformed_csv_row", f"expected {width} fields, found {len(row)}",
                              raw)
        else:
            if len(row) < width:
                row += [None] * (width - len(row))
            rows.append(row)
            chars += len(raw)
            if len(rows) >= CSV_BATCH_ROWS or chars >= BATCH_CHARS:
                yield _batch(rows, schema)
                rows, chars = [], 0
    if rows:
        yield _batch(rows, schema)


def _header(reader, lines: _Lines, encoding: str, columns: list[str]) -> list[str]:
    """The first non-blank record; anything wrong with it makes the file unreadable."""
    while True:
        lines.size = 0
        try:
            row = next(reader, None)
        except csv.Error as err:
            raise Unreadable(f"the header is not valid CSV: {err}") from None
        if lines.big:
            raise Unreadable(f"a header of more than {MAX_RECORD} characters")
        if row is None:
            return columns
        if row:
            break
    if _BAD_TEXT.search("".join(row)):
        raise Unreadable(f"the header is not {encoding} text")
    return columns or row


def _too_large(name: str, start: int, lines: _Lines) -> Quarantined:
    entry = Quarantined(name, f"line {start}", "record_too_large", f"more than {MAX_RECORD} characters", lines.head)
    lines.next_record()
    return entry


def _batch(rows: list[list[str | None]], schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array(col, pa.string()) for col in zip(*rows)], schema=schema)


# JSONL

# A line is looked at closely (`_problem`) only when it may hold what the warehouse cannot take, which the raw bytes
# tell at C speed: an integer of 19+ digits or an exponent of 3+ (digits read as 0), a \u0000 or surrogate escape,
# more brackets than MAX_DEPTH.
_DIGITS = bytes.maketrans(b"0123456789E-", b"0000000000e+")
_LONG_NUMBERS = (b"0" * 19, b"e000", b"e+000")
_ESCAPES = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_BOM = codecs.BOM_UTF8


class _NotJson(ValueError):
    pass


def _constant(name: str) -> float:
    raise _NotJson(f"{name} is not JSON")


_decode = json.JSONDecoder(parse_constant=_constant).decode


def _problem(value, depth: int = 1) -> tuple[str, str] | None:
    """What in a parsed JSON value the warehouse cannot hold, as (reason, detail)."""
    t = type(value)
    if t is str:
        if hit := _UNSAFE.search(value):
            return ("nul_byte", "a \\u0000 escape") if hit[0] == "\x00" else (
                "invalid_encoding", "a lone surrogate escape: not Unicode text")
    elif t is int:
        if not INT64[0] <= value <= INT64[1]:
            return "number_out_of_range", "an integer outside int64"
    elif t is float:
        if not math.isfinite(value):
            return "number_out_of_range", "a number beyond float64"
    elif t is dict or t is list:
        if depth > MAX_DEPTH:
            return "too_deeply_nested", f"more than {MAX_DEPTH} levels of objects and arrays"
        for item in (value if t is list else [*value, *value.values()]):
            if found := _problem(item, depth + 1):
                return found
    return None


class _Keys:
    """Warehouse names of a JSONL file's keys, each fixed the first time the file shows it."""

    def __init__(self, renamed: dict) -> None:
        self.names: dict[str, str] = {}
        self.taken: set[str] = set()
        self.renamed = renamed

    def row(self, value: dict) -> dict | None:
        """The record with warehouse names; None when its new keys would pass MAX_COLUMNS."""
        names = self.names
        try:
            return {names[k]: v for k, v in value.items()}
        except KeyError:
            new = [k for k in value if k not in names]
            if len(names) + len(new) > MAX_COLUMNS:
                return None
            self._add(new)
            return {names[k]: v for k, v in value.items()}

    def _add(self, keys: list[str]) -> None:
        named = [(key, *_one_name(key)) for key in keys]
        for key, base, forced in sorted(named, key=lambda k: k[2]):  # the source's own names first
            name, n = base, 2
            while name in self.taken:
                name, n = f"{base}_{n}", n + 1
            self.names[key] = name
            self.taken.add(name)
            if forced:
                self.renamed[key] = name


def _one_name(key: str) -> tuple[str, bool]:
    names, forced = input_names([key])
    return names[0], bool(forced)


def _parse(raw: bytes) -> dict | tuple[str, str]:
    """One JSONL line: its object, or why it cannot be kept as (reason, detail)."""
    if b"\x00" in raw:
        return "nul_byte", "a NUL byte"
    try:
        value = _decode(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        return "invalid_encoding", f"{err.reason} at byte {err.start}"
    except RecursionError:
        return "too_deeply_nested", f"more than {MAX_DEPTH} levels of objects and arrays"
    except json.JSONDecodeError as err:
        return "malformed_json", f"{err.msg} at column {err.colno}"
    except _NotJson as err:
        return "malformed_json", str(err)
    except ValueError as err:  # an integer of more digits than int() converts
        return "number_out_of_range", str(err)
    if type(value) is not dict:
        return "not_an_object", f"a JSON {type(value).__name__}"
    digits = raw.translate(_DIGITS)
    if (any(n in digits for n in _LONG_NUMBERS) or (b"\\u" in raw and _ESCAPES.search(raw))
            or raw.count(b"[") + raw.count(b"{") > MAX_DEPTH):
        return _problem(value) or value
    return value


def read_jsonl(buffered: io.BufferedReader, name: str, renamed: dict, at: _Position) -> Iterator[Item]:
    """JSON lines: chunk by chunk, pyarrow's reading where `_Fast` takes it, else the Python reader's (same keys,
    lines counted over the file)."""
    keys = _Keys(renamed)
    if not FAST_JSONL:
        yield from _python_jsonl(buffered, name, keys, 0, at)
        return
    fast = _Fast(keys)
    done = 0
    at.where = lambda: f"line {done + 1}"
    for chunk, big in _chunks(buffered):
        batches = None if big else fast.read(chunk, first=not done)
        if batches is None:
            yield from _python_jsonl(io.BytesIO(chunk), name, keys, done)
        else:
            yield from batches
        done += chunk.count(b"\n") + (chunk[-1:] != b"\n")


def _python_jsonl(lines: BinaryIO, name: str, keys: _Keys, start: int, at: _Position | None = None) -> Iterator[Item]:
    """The lines one by one with Python's json; `start`: lines of the file before them."""
    rows: list[dict] = []
    size, number = 0, start
    if at:
        at.where = lambda: f"line {number + 1}"
    read = partial(lines.readline, MAX_RECORD)
    for raw in iter(read, b""):
        number += 1
        if len(raw) >= MAX_RECORD and raw[-1:] != b"\n":
            rest = raw
            while rest[-1:] != b"\n" and (rest := read()):
                pass
            value = "record_too_large", f"more than {MAX_RECORD} bytes"
        else:
            if number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM):]
            if not raw.strip():
                continue
            value = _parse(raw)
            if type(value) is dict and (value := keys.row(value)) is None:
                value = "too_many_columns", f"more than {MAX_COLUMNS} distinct keys in the file"
        if type(value) is tuple:
            text = raw[:RAW_CHARS * 4].decode("utf-8", "surrogateescape").rstrip("\r\n")
            yield Quarantined(name, f"line {number}", *value, text)
            continue
        rows.append(value)
        size += len(raw)
        if len(rows) >= JSONL_BATCH_ROWS or size >= BATCH_CHARS:
            yield rows
            rows, size = [], 0
    if rows:
        yield rows


def _chunks(stream: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """The stream as (chunk, big): chunks of whole lines of about JSONL_CHUNK bytes (the last line may lack its
    "\\n"); a line that reaches MAX_RECORD bytes without one comes as its first bytes, big, and the rest is skipped."""
    rest = b""
    while data := stream.read(JSONL_CHUNK):
        end = data.rfind(b"\n") + 1
        if end:
            yield rest + data[:end], False
            rest = data[end:]
            continue
        rest += data
        if len(rest) >= MAX_RECORD:
            yield rest, True
            rest = b""
            while piece := stream.read(PIECE):
                if end := piece.find(b"\n") + 1:
                    rest = piece[end:]
                    break
    if rest:
        yield rest, False


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[{\n")
_ODD = re.compile(rb"\n(?!\{)")
_JSON_TYPES = (pa.string(), pa.int64(), pa.float64(), pa.bool_())


class _Fast:
    """pyarrow's reading of a chunk of lines, taken only when it is what the Python reader and the runner's
    `as_arrow` would land (see the module docstring); otherwise None, and the Python reader reads the chunk."""

    def __init__(self, keys: _Keys) -> None:
        self.keys = keys
        self.text: list[str] = []  # keys whose strings pyarrow took for timestamps: read as text

    def read(self, chunk: bytes, first: bool) -> list[pa.RecordBatch] | None:
        if len(chunk) >= MAX_RECORD and max(map(len, chunk.split(b"\n"))) >= MAX_RECORD:
            return None  # record_too_large
        body = chunk.removeprefix(_BOM) if first else chunk
        text = body[:-1] if body[-1:] == b"\n" else body
        lines = text.count(b"\n") + 1
        blank = odd = 0  # lines that are blank, that do not start with "{"
        if not text.startswith(b"{") or _ODD.search(text):
            blank = sum(not line.strip(b" \t\r") for line in text.split(b"\n"))
            odd = lines - text.count(b"\n{") - text.startswith(b"{")
            if blank == lines:
                return []
        brackets = body.translate(None, _NOT_BRACKETS)
        # pyarrow takes a line of null for a row of nulls (or crashes on it), NUL and \u0000 for text, and crashes on
        # deep nesting; nesting is refused below, but only after pyarrow has read it
        if (odd > blank or b"\x00" in body or b"\\u0000" in body
                or (len(brackets) - brackets.count(b"\n") - (lines - blank) >= MAX_DEPTH
                    and max(map(len, brackets.split(b"\n"))) > MAX_DEPTH)):
            return None
        try:
            table = self._parse(body)
            if table is None or table.num_rows != lines - blank:
                return None  # a line with two values, or a bare "\r" between two
            table.validate(full=True)  # pyarrow does not check that text is UTF-8
            keys = table.schema.names  # nor keys
        except Exception:  # noqa: BLE001 - anything pyarrow refuses, Python says why
            return None
        kept, nulls = [], set()
        for i, (col, t) in enumerate(zip(table.columns, table.schema.types)):
            if col.null_count == len(col):
                nulls.add(keys[i])
                continue  # as_arrow leaves out a key null in every record
            if t not in _JSON_TYPES:
                return None  # nested values land as JSON from the dicts
            if t == pa.float64() and pc.any(pc.or_(pc.invert(pc.is_finite(col)),
                                                   pc.equal(pc.trunc(col), col))).as_py():
                return None  # NaN, Infinity, or integral: Python's may be an int ("1"; "1e5" is a float)
            kept.append(i)
        if not kept or not (names := self._names(keys, nulls & set(self.text))):
            return None
        table = pa.Table.from_arrays([table.column(i) for i in kept], [names[i] for i in kept],
                                     metadata={JSON_ROWS: b""})
        return table.to_batches(max_chunksize=JSONL_BATCH_ROWS)

    def _parse(self, body: bytes) -> pa.Table | None:
        """The chunk as pyarrow reads it, the strings it takes for timestamps read again as text."""
        while True:
            schema = pa.schema([(k, pa.string()) for k in self.text]) if self.text else None
            table = pj.read_json(
                pa.py_buffer(body), read_options=pj.ReadOptions(use_threads=False, block_size=len(body) + 1),
                parse_options=pj.ParseOptions(explicit_schema=schema, newlines_in_values=False,
                                              unexpected_field_behavior="infer"))
            dates = [f.name for f in table.schema if pa.types.is_temporal(f.type)]
            if not dates or set(dates) <= set(self.text):
                return table if not dates else None
            self.text += dates

    def _names(self, keys: list[str], absent: set[str]) -> list[str] | None:
        """Warehouse names of the keys; None when the naming of new ones would depend on the order of the records
        (a forced rename, two that fold to one name), pass MAX_COLUMNS or name a key the chunk may not have (`absent`:
        null columns of the explicit schema): the Python reader names them."""
        known = self.keys.names
        new = [k for k in keys if k not in known]
        if new:
            names = [_one_name(k) for k in new]
            bases = {b for b, _ in names}
            if (any(forced for _, forced in names) or len(bases) < len(new) or bases & self.keys.taken
                    or len(known) + len(new) > MAX_COLUMNS or absent.intersection(new)):
                return None
            self.keys._add(new)
        return [known[k] for k in keys]


MAX_DOCUMENT = 1 << 30


def select(value, path: str | None, name: str = "the document"):
    """The value at a dotted record path ("value", "data.items"); Unreadable when it is not there."""
    for i, key in enumerate(path.split(".") if path else ()):
        if not isinstance(value, dict) or key not in value:
            got = type(value).__name__ if not isinstance(value, dict) else f"keys {', '.join(list(value)[:8])}"
            raise Unreadable(f"record path {path!r}: {name} has no {'.'.join(path.split('.')[:i + 1])!r} ({got})")
        value = value[key]
    return value


def records(values, name: str, renamed: dict, first: int = 1, what: str = "record") -> Iterator[Item]:
    """Records already parsed from JSON (a document's array, an API's page) as rows and quarantine entries, with the
    same rules as JSONL lines: objects only, warehouse key names, nothing the warehouse cannot hold."""
    keys = _Keys(renamed)
    rows: list[dict] = []
    for number, value in enumerate(values, first):
        if type(value) is not dict:
            problem = ("not_an_object", f"a JSON {type(value).__name__}")
        elif found := _problem(value):
            problem = found
        elif (row := keys.row(value)) is None:
            problem = ("too_many_columns", f"more than {MAX_COLUMNS} distinct keys")
        else:
            rows.append(row)
            if len(rows) >= JSONL_BATCH_ROWS:
                yield rows
                rows = []
            continue
        yield Quarantined(name, f"{what} {number}", *problem, json.dumps(value, default=str)[:RAW_CHARS])
    if rows:
        yield rows


def read_json(buffered: io.BufferedReader, name: str, record_path: str | None, renamed: dict,
              at: _Position) -> Iterator[Item]:
    """A JSON document: the array at `record_path` (or the document itself) holds the records; an object there is
    one record."""
    data = buffered.read(MAX_DOCUMENT + 1)
    if len(data) > MAX_DOCUMENT:
        raise Unreadable(f"a JSON document larger than {MAX_DOCUMENT >> 20} MiB: write it as JSON lines")
    value = _parse_document(data.removeprefix(_BOM))
    found = select(value, record_path)
    at.where = lambda: f"record path {record_path or '(document)'}"
    yield from records(found if isinstance(found, list) else [found], name, renamed)


def _parse_document(data: bytes):
    try:
        return _decode(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise Unreadable(f"not UTF-8: {err.reason} at byte {err.start}", f"byte {err.start}") from None
    except json.JSONDecodeError as err:
        raise Unreadable(f"not JSON: {err.msg}", f"line {err.lineno} column {err.colno}") from None
    except RecursionError:
        raise Unreadable(f"more than {MAX_DEPTH} levels of objects and arrays") from None
    except (_NotJson, ValueError) as err:
        raise Unreadable(f"not JSON: {err}") from None


# Parquet

def _unsupported(t: pa.DataType, depth: int = 1) -> str | None:
    """Why the warehouse cannot store a column of this type, or None."""
    if pa.types.is_duration(t) or pa.types.is_interval(t):
        return f"type {t}"
    if pa.types.is_decimal(t) and t.precision > 38:
        return f"type {t}: DuckDB decimals hold 38 digits"
    if t.num_fields and depth >= MAX_DEPTH:
        return f"more than {MAX_DEPTH} levels of nesting"
    for i in range(t.num_fields):
        if why := _unsupported(t.field(i).type, depth + 1):
            return why
    return None


def read_parquet(stream: BinaryIO, name: str, renamed: dict, at: _Position) -> Iterator[Item]:
    """Parquet needs random access: a compressed file is read into memory first."""
    if not getattr(stream, "seekable", lambda: False)():
        stream = io.BytesIO(stream.read())
    pf = pq.ParquetFile(stream)
    schema = pf.schema_arrow
    for field in schema:
        if why := _unsupported(field.type):
            raise Unreadable(f"column {field.name!r}: {why}")
    names, forced = input_names(schema.names)
    renamed.update(forced)
    row = 0
    for group in range(pf.num_row_groups):
        at.where = partial("row group {}".format, group + 1)
        for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, row_groups=[group]):
            yield from _checked(batch.rename_columns(names), name, row)
            row += batch.num_rows


def _checked(batch: pa.RecordBatch, name: str, first: int) -> Iterator[Item]:
    """The batch without the rows the warehouse cannot take, which come out as entries ("row N" counts from 1)."""
    bad: dict[int, tuple[str, str]] = {}
    for column, col in zip(batch.schema.names, batch.columns):
        for i, why in _bad_values(col):
            bad.setdefault(i, (why[0], f"column {column!r}: {why[1]}"))
    if not bad:
        yield batch
        return
    for i in sorted(bad):
        yield Quarantined(name, f"row {first + i + 1}", *bad[i], "")
    keep = [i not in bad for i in range(batch.num_rows)]
    yield batch.filter(pa.array(keep))


def _bad_values(col: pa.Array) -> Iterator[tuple[int, tuple[str, str]]]:
    try:
        col.validate(full=True)
    except pa.ArrowInvalid:
        for i in range(len(col)):
            try:
                col.slice(i, 1).validate(full=True)
            except pa.ArrowInvalid as err:
                yield i, ("invalid_encoding", str(err))
        return
    t = col.type
    if pa.types.is_uint64(t):
        over = pc.fill_null(pc.greater(col, pa.scalar(INT64[1], pa.uint64())), False)
        for i in pc.indices_nonzero(over).to_pylist():
            yield i, ("number_out_of_range", "an integer above int64")
    elif pa.types.is_timestamp(t) and t.unit == "ns":
        micro = pc.cast(pc.cast(col, pa.timestamp("us", t.tz), safe=False), t)
        for i in pc.indices_nonzero(pc.fill_null(pc.not_equal(micro, col), False)).to_pylist():
            yield i, ("unsupported_value", "a timestamp with nanoseconds; the warehouse keeps microseconds")
