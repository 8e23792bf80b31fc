"""Hostile input for the readers and the stateless curation steps: example tests, one per case, then properties
checked by hypothesis on a fixed budget (derandomized, so CI runs the same examples every time).

Reader properties: no exception; an `unreadable_file` entry only as the last item; every position and reason of the
documented forms; no column name starting with '_' (and each one already in the warehouse's convention); and unless
the file is unreadable, records in = rows out + quarantined. Generated files are built record by record, so each
record's fate and first line are known; arbitrary bytes are checked against the csv module and line counts.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import random
import re
import tempfile
import tracemalloc
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import dlt
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commons_pipelines.curate.language import LanguageId
from commons_pipelines.curate.normalize import NormalizeColumns, NormalizeText
from commons_pipelines.curate.pii import Pii
from commons_pipelines.curate.quality import GOPHER, QualityFilter
from commons_pipelines.ingest import readers, warehouse
from commons_pipelines.ingest.readers import REASONS, UNREADABLE, Quarantined, open_stream, read_file
from commons_pipelines.ingest.runner import typed
from commons_pipelines.naming import column_name
from commons_pipelines.spec import FilesConfig, LanguageConfig, NormalizeConfig, PiiConfig, QualityConfig

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
FUZZ = settings(derandomize=True, deadline=None, database=None, suppress_health_check=SLOW)
SMALL = {"MAX_RECORD": 4000, "CSV_BATCH_ROWS": 3, "JSONL_BATCH_ROWS": 3, "PARQUET_BATCH_ROWS": 4, "BATCH_CHARS": 500,
         "JSONL_CHUNK": 300}
POSITION = re.compile(r"(line|row|row group) [1-9][0-9]*")


def fuzz(examples: int) -> settings:
    return settings(FUZZ, max_examples=examples)


@contextmanager
def small_limits():
    """Caps low enough for generated input to cross them (and batches of a few rows)."""
    with mock.patch.multiple(readers, **SMALL):
        yield


def compress(data: bytes, codec: str) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, codec) as out:
        out.write(data)
    return sink.getvalue().to_pybytes()


def read(data: bytes, name: str, notes: dict | None = None, **cfg) -> list:
    return list(read_file(open_stream(io.BytesIO(data), name, "auto"), name, FilesConfig(path=".", **cfg), notes))


def split(items: list) -> tuple[list[dict], list[Quarantined]]:
    rows = [r for i in items if not isinstance(i, Quarantined) for r in (i if isinstance(i, list) else i.to_pylist())]
    return rows, [i for i in items if isinstance(i, Quarantined)]


def check_items(items: list) -> tuple[list[dict], list[Quarantined], bool]:
    """The properties every reader output has, whatever the input; returns rows, entries and whether unreadable."""
    rows, bad = split(items)
    for q in bad:
        assert q.reason in REASONS, q
        assert POSITION.fullmatch(q.position), q
        assert len(q.raw) <= readers.RAW_CHARS and "\n" not in q.detail
        (q.raw + q.detail).encode("utf-8")  # the quarantine table takes them as they are
    unreadable = [i for i, q in enumerate(items) if isinstance(q, Quarantined) and q.reason == UNREADABLE]
    assert unreadable in ([], [len(items) - 1]), "unreadable_file comes once, last"
    for item in items:
        if isinstance(item, Quarantined):
            continue
        names = item.schema.names if isinstance(item, pa.RecordBatch) else {k for r in item for k in r}
        assert all(not n.startswith("_") and column_name(n) == n for n in names), names
    return rows, bad, bool(unreadable)


# Examples: one per hostile case


def test_garbage_bytes_in_a_csv_are_one_unreadable_entry():
    garbage = random.Random(7).randbytes(5000)
    items = read(garbage, "garbage.csv", format="csv")
    assert len(items) == 1 and items[0].reason == UNREADABLE and items[0].position == "line 1"
    assert "binary data" in items[0].detail


def test_a_gzip_file_named_csv_is_unreadable_not_parsed():
    items = read(gzip.compress(b"id,text\n1,a\n" * 100), "plain.csv", format="csv")
    assert [q.reason for q in items] == [UNREADABLE]


@pytest.mark.parametrize("suffix, codec", [(".gz", "gzip"), (".zst", "zstd")])
def test_truncated_compressed_file_ends_with_unreadable_at_the_line_reached(suffix, codec):
    data = compress(b"id,text\n" + b"".join(b"%d,row\n" % i for i in range(50_000)), codec)
    items = read(data[: len(data) * 2 // 3], "t.csv" + suffix, format="csv")
    rows, bad, unreadable = check_items(items)
    assert unreadable and len(bad) == 1 and "Truncated" in bad[0].detail
    assert len(rows) < 50_000 and 1 < int(bad[0].position.split()[1]) < 50_000  # the caller drops the rows


def test_nul_bytes_quarantine_their_record_or_make_binary_data_unreadable():
    rows, bad = split(read(b"id,text\n1,ok\n2,a\x00b\n3,ok\n", "n.csv", format="csv"))
    assert rows == [{"id": "1", "text": "ok"}, {"id": "3", "text": "ok"}]
    assert [(q.position, q.reason, q.raw) for q in bad] == [("line 3", "nul_byte", "2,a\\x00b")]
    rows, bad = split(read(b'{"a": "x\\u0000"}\n{"a": "ok"}\n{"a": "\x00"}\n', "n.jsonl", format="jsonl"))
    assert rows == [{"a": "ok"}]
    assert [(q.position, q.reason) for q in bad] == [("line 1", "nul_byte"), ("line 3", "nul_byte")]
    utf16 = "id,text\n1,ok\n".encode("utf-16-le")  # declared utf-8: half its bytes are NUL
    assert [q.reason for q in read(utf16, "w.csv", format="csv")] == [UNREADABLE]
    assert split(read(utf16, "w.csv", format="csv", csv={"encoding": "utf-16-le"}))[0] == [{"id": "1", "text": "ok"}]


def test_empty_files_have_nothing_to_say():
    for data, fmt in [(b"", "csv"), (b"\n\n", "csv"), (b"id,text\n", "csv"), (b"", "jsonl"), (b" \n\n", "jsonl")]:
        assert read(data, "e." + fmt, format=fmt) == []


def test_a_bom_is_not_part_of_the_first_name():
    notes = {}
    rows, bad = split(read(b"\xef\xbb\xbfid,text\n1,a\n", "b.csv", notes, format="csv"))
    assert rows == [{"id": "1", "text": "a"}] and not bad and notes == {"renamed": {}}
    rows, _ = split(read(b'\xef\xbb\xbf{"id": 1}\n', "b.jsonl", format="jsonl"))
    assert rows == [{"id": 1}]


def test_names_that_would_start_with_underscore_are_renamed_with_a_note():
    notes = {}
    rows, _ = split(read(b"_id,id,_lang,1st,Text\n1,2,en,x,t\n", "u.csv", notes, format="csv"))
    assert rows == [{"id_2": "1", "id": "2", "lang": "en", "col_1st": "x", "text": "t"}]
    assert notes["renamed"] == {"_id": "id_2", "_lang": "lang", "1st": "col_1st"}
    notes = {}
    lines = b'{"_id": 1, "text": "a"}\n{"_id": 2, "id": 3}\n'
    rows, _ = split(read(lines, "u.jsonl", notes, format="jsonl"))
    assert rows == [{"id": 1, "text": "a"}, {"id": 2, "id_2": 3}]  # a key keeps the name it got first
    assert notes["renamed"] == {"_id": "id"}
    table = pa.table([[1], [2]], names=["_id", "_id"])
    sink = io.BytesIO()
    pq.write_table(table, sink)
    notes = {}
    assert split(read(sink.getvalue(), "u.parquet", notes, format="parquet"))[0] == [{"id": 1, "id_2": 2}]
    assert notes["renamed"] == {"_id": "id_2"}  # both renamed; the dict keeps the last


def test_json_values_the_warehouse_cannot_hold_are_quarantined_with_their_line():
    deep = "[" * 80 + "]" * 80
    lines = [
        '{"ok": 1}', '{"a": NaN}', '{"a": -Infinity}', '{"a": 1e400}', '{"a": 18446744073709551616}',
        '{"a": "\\udc00"}', '{"a": ' + deep + "}", '{"a": ' + "[" * 5000 + "]" * 5000 + "}", "[1, 2]",
        '{"a": 1', '{"a": "\\ud83d\\ude00", "b": 9223372036854775807, "c": 1e300}',
    ]
    rows, bad = split(read("\n".join(lines).encode(), "v.jsonl", format="jsonl"))
    assert rows == [{"ok": 1}, {"a": "😀", "b": 2**63 - 1, "c": 1e300}]
    assert [(q.position, q.reason) for q in bad] == [
        ("line 2", "malformed_json"), ("line 3", "malformed_json"), ("line 4", "number_out_of_range"),
        ("line 5", "number_out_of_range"), ("line 6", "invalid_encoding"), ("line 7", "too_deeply_nested"),
        ("line 8", "too_deeply_nested"), ("line 9", "not_an_object"), ("line 10", "malformed_json")]


def test_keys_that_fold_to_one_name_and_empty_keys_get_their_own_columns():
    rows, bad = split(read(b'{"A b": 1, "a_b": 2, "": 3, "?": 4}\n{"a_b": 5}\n', "k.jsonl", format="jsonl"))
    assert rows == [{"a_b": 1, "a_b_2": 2, "column_1": 3, "x": 4}, {"a_b_2": 5}] and not bad


def test_a_hundred_megabyte_field_is_skipped_without_being_held():
    big = b"id,text\n1,ok\n2," + b"x" * (100 << 20) + b"\n3,ok\n"
    stream = io.BytesIO(big)
    del big
    tracemalloc.start()
    try:
        items = list(read_file(stream, "big.csv", FilesConfig(path=".", format="csv")))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    rows, bad = split(items)
    assert rows == [{"id": "1", "text": "ok"}, {"id": "3", "text": "ok"}]
    assert [(q.position, q.reason) for q in bad] == [("line 3", "record_too_large")] and len(bad[0].raw) == 2000
    assert peak < 3 * readers.MAX_RECORD, peak  # a piece of MAX_RECORD at a time, never the field


def test_a_quoted_field_past_the_cap_ends_where_its_quotes_say():
    field = 'say "hi",\nthen, "more"\n' * 200
    data = ("id,text\n1,a\n" + '2,"' + field.replace('"', '""') + '"\n3,b\n').encode()
    with small_limits():
        rows, bad = split(read(data, "q.csv", format="csv"))
    assert rows == [{"id": "1", "text": "a"}, {"id": "3", "text": "b"}]
    assert [(q.position, q.reason) for q in bad] == [("line 3", "record_too_large")]


def test_ragged_csv_rows_and_an_unclosed_quote():
    rows, bad = split(read(b'a,b\n1\n1,2,3\n"x"y,2\n4,5\n6,"open\n7,8\n', "r.csv", format="csv"))
    assert rows == [{"a": "1", "b": None}, {"a": "4", "b": "5"}]
    assert [(q.position, q.reason) for q in bad] == [
        ("line 3", "malformed_csv_row"), ("line 4", "malformed_csv_row"), ("line 6", "malformed_csv_row")]


def test_an_undecodable_or_broken_header_makes_the_file_unreadable():
    assert [q.reason for q in read(b"id,t\xffxt\n1,2\n", "h.csv", format="csv")] == [UNREADABLE]
    assert [q.reason for q in read(b'id,"te"xt\n1,2\n', "h.csv", format="csv")] == [UNREADABLE]


def test_parquet_garbage_truncation_and_values_duckdb_refuses():
    sink = io.BytesIO()
    table = pa.table({"n": pa.array([1, 2**64 - 1, 3], pa.uint64()),
                      "s": pa.array([b"a", b"\xff", b"c"], pa.binary()).view(pa.string())})
    pq.write_table(table, sink, row_group_size=2)
    data = sink.getvalue()
    rows, bad = split(read(data, "p.parquet", format="parquet"))
    assert rows == [{"n": 1, "s": "a"}, {"n": 3, "s": "c"}]
    assert [(q.position, q.reason) for q in bad] == [("row 2", "number_out_of_range")]
    assert [(q.position, q.reason) for q in read(data[:-30], "p.parquet", format="parquet")] == [
        ("row group 1", UNREADABLE)]
    bad_utf8 = io.BytesIO()
    pq.write_table(table.slice(1, 2).set_column(0, "n", pa.array([1, 2])), bad_utf8)
    rows, bad = split(read(bad_utf8.getvalue(), "p.parquet", format="parquet"))
    assert rows == [{"n": 2, "s": "c"}] and [(q.position, q.reason) for q in bad] == [("row 1", "invalid_encoding")]
    nanos = io.BytesIO()
    pq.write_table(pa.table({"t": pa.array([1000, 1001], pa.timestamp("ns"))}), nanos)
    rows, bad = split(read(nanos.getvalue(), "p.parquet", format="parquet"))
    assert len(rows) == 1 and [(q.position, q.reason) for q in bad] == [("row 2", "unsupported_value")]
    duration = io.BytesIO()
    pq.write_table(pa.table({"d": pa.array([1], pa.duration("s"))}), duration)
    items = read(duration.getvalue(), "p.parquet", format="parquet")
    assert [q.reason for q in items] == [UNREADABLE] and "duration" in items[0].detail


def test_compressed_parquet_is_read():
    sink = io.BytesIO()
    pq.write_table(pa.table({"a": [1, 2]}), sink)
    assert split(read(gzip.compress(sink.getvalue()), "p.parquet.gz", format="parquet")) == ([{"a": 1}, {"a": 2}], [])


# Properties: generated CSV

# no C0 controls (a head full of them is binary) and no BOM (the first one is taken for a BOM)
SAFE = st.characters(exclude_categories=("Cs",),
                     exclude_characters=[chr(c) for c in range(32) if c not in (9, 10, 13)] + ["\ufeff"])
TEXT = st.text(SAFE, max_size=12)
NAME = st.one_of(TEXT, st.sampled_from(["_id", "_lang", "id", "1st", "", " ", "__", "Text", "a b", "a_b"]))
PADDING = "p" * 100  # keeps the few NULs of hostile records well under the share that makes a head binary


@st.composite
def csv_records(draw, width: int):
    """(kind, fields or text): a record of a known fate."""
    kind = draw(st.sampled_from(["good", "good", "good", "short", "long", "nul", "bad_bytes", "stray_quote",
                                 "too_large", "blank"]))
    if kind in ("good", "short"):
        return "good", draw(st.lists(TEXT, min_size=1 if kind == "short" else width, max_size=width))
    if kind == "long":
        return kind, draw(st.lists(TEXT, min_size=width + 1, max_size=width + 3))
    if kind == "too_large":
        return kind, [draw(TEXT) + "x" * 4100 + draw(st.sampled_from(["", '"', "\n", ",", '""\n,"']))]
    return kind, None


def csv_line(fields: list[str], delimiter: str, terminator: str) -> str:
    """One record, quoted where needed (csv.writer leaves a lone \\r unquoted when the terminator is \\n)."""
    special = re.compile(f'[{re.escape(delimiter)}"\r\n]')
    cells = ['"' + f.replace('"', '""') + '"' if special.search(f) or fields == [""] else f for f in fields]
    return delimiter.join(cells) + terminator


def write_csv(header, records, delimiter: str, terminator: str, bom: bool, tail: str):
    """The file's bytes and, per record, its fate, first line and fields."""
    chunks = [b"\xef\xbb\xbf" if bom else b""]
    if header is not None:
        chunks.append(csv_line(header, delimiter, terminator).encode())
    expected = []

    def line() -> int:
        return len(re.findall(r"\r\n|\r|\n", b"".join(chunks).decode("utf-8", "replace"))) + 1

    for kind, fields in records:
        if kind != "blank":
            expected.append((kind, line(), fields))
        if kind in ("good", "long", "too_large"):
            chunks.append(csv_line(fields, delimiter, terminator).encode())
        elif kind == "blank":
            chunks.append(terminator.encode())
        elif kind == "nul":
            chunks.append(f"{PADDING}{delimiter}a\x00b{terminator}".encode())
        elif kind == "bad_bytes":
            chunks.append(f"{PADDING}{delimiter}".encode() + b"caf\xe9" + terminator.encode())
        else:
            chunks.append(f'"{PADDING}"x{delimiter}1{terminator}'.encode())
    if tail:  # an unclosed quote at the end of the file
        expected.append(("unclosed", line(), None))
        chunks.append(f'x{delimiter}"{tail}'.encode())
    return b"".join(chunks), expected


FATE = {"good": None, "long": "malformed_csv_row", "nul": "nul_byte", "bad_bytes": "invalid_encoding",
        "stray_quote": "malformed_csv_row", "too_large": "record_too_large", "unclosed": "malformed_csv_row"}


@fuzz(300)
@given(st.data())
def test_generated_csv_comes_out_record_for_record(data):
    width = data.draw(st.integers(1, 4))
    header = data.draw(st.lists(NAME, min_size=width, max_size=width))
    has_header = data.draw(st.booleans())
    records = data.draw(st.lists(csv_records(width), max_size=12))
    fmt, delimiter = data.draw(st.sampled_from([("csv", ","), ("csv", ";"), ("tsv", "\t")]))
    terminator = data.draw(st.sampled_from(["\n", "\r\n"]))
    raw, expected = write_csv(header if has_header else None, records, delimiter, terminator,
                              bom=data.draw(st.booleans()), tail=data.draw(st.sampled_from(["", "open", "open\n"])))
    suffix, codec = data.draw(st.sampled_from([("", None), (".gz", "gzip"), (".zst", "zstd")]))
    blob = compress(raw, codec) if codec else raw
    cut = data.draw(st.one_of(st.none(), st.integers(1, len(blob) - 1))) if codec else None
    cfg = {"format": fmt, "csv": {"delimiter": delimiter if fmt == "csv" else ",", "header": has_header,
                                  **({} if has_header else {"columns": [f"c{i}" for i in range(width)]})}}
    notes = {}
    with small_limits():
        items = read(blob if cut is None else blob[:cut], f"f.{fmt}{suffix}", notes, **cfg)
    rows, bad, unreadable = check_items(items)
    wanted = [fields + [None] * (width - len(fields)) for kind, _, fields in expected if kind == "good"]
    if cut is not None:
        assert unreadable and [list(r.values()) for r in rows] == wanted[:len(rows)]
        return
    assert not unreadable, bad[-1]
    assert len(rows) + len(bad) == len(expected)
    assert [list(r.values()) for r in rows] == wanted
    assert [(q.reason, q.position) for q in bad] == [
        (FATE[kind], f"line {line}") for kind, line, _ in expected if FATE[kind]]
    assert set(notes["renamed"]) <= set(header)


# Properties: generated JSONL

JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
                        st.floats(allow_nan=False, allow_infinity=False), TEXT)
JSON_VALUE = st.recursive(JSON_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                               st.dictionaries(TEXT, inner, max_size=3)), max_leaves=8)
HOSTILE_JSON = {
    "nan": ('{"a": NaN}', "malformed_json"), "big_int": ('{"a": -9223372036854775809}', "number_out_of_range"),
    "big_float": ('{"a": [1E+309]}', "number_out_of_range"), "surrogate": ('{"\\udfff": 1}', "invalid_encoding"),
    "nul_escape": ('{"a": {"b": "\\u0000"}}', "nul_byte"), "deep": ('{"a": ' + "[" * 65 + "]" * 65 + "}",
                                                                     "too_deeply_nested"),
    "very_deep": ('{"a": ' + "[" * 1500 + "]" * 1500 + "}", "too_deeply_nested"),
    "list": ("[1]", "not_an_object"), "string": ('"x"', "not_an_object"), "cut": ('{"a": [1, ', "malformed_json"),
    "too_large": ('{"a": "' + "x" * 4100 + '"}', "record_too_large"),
}


@st.composite
def jsonl_line(draw):
    kind = draw(st.sampled_from(["good"] * 6 + ["blank", "nul", "bad_bytes", *HOSTILE_JSON]))
    if kind == "good":
        value = draw(st.dictionaries(NAME, JSON_VALUE, max_size=4))
        return kind, json.dumps(value, ensure_ascii=draw(st.booleans())).encode(), value
    if kind == "blank":
        return kind, draw(st.sampled_from([b"", b"  ", b"\t \r"])), None
    if kind == "nul":
        return "nul_byte", f'{{"a": "{PADDING}\x00"}}'.encode(), None
    if kind == "bad_bytes":
        return "invalid_encoding", f'{{"a": "{PADDING}'.encode() + b'\xc3\x28"}', None
    text, reason = HOSTILE_JSON[kind]
    return reason, text.encode(), None


@fuzz(300)
@given(st.lists(jsonl_line(), max_size=12), st.booleans(), st.sampled_from([("", None), (".gz", "gzip"),
                                                                             (".zst", "zstd")]), st.data())
def test_generated_jsonl_comes_out_line_for_line(lines, bom, compression, data):
    raw = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(text for _, text, _ in lines) + b"\n"
    suffix, codec = compression
    blob = compress(raw, codec) if codec else raw
    cut = data.draw(st.one_of(st.none(), st.integers(1, len(blob) - 1))) if codec else None
    notes = {}
    with small_limits():
        items = read(blob if cut is None else blob[:cut], "f.jsonl" + suffix, notes, format="jsonl")
    rows, bad, unreadable = check_items(items)
    good = [value for kind, _, value in lines if kind == "good"]
    if cut is not None:
        assert unreadable and [list(r.values()) for r in rows] == [list(v.values()) for v in good[:len(rows)]]
        return
    assert not unreadable, bad[-1]
    assert [list(r.values()) for r in rows] == [list(v.values()) for v in good]
    assert [(q.reason, q.position) for q in bad] == [
        (kind, f"line {i}") for i, (kind, _, _) in enumerate(lines, 1) if kind not in ("good", "blank")]
    assert len(rows) + len(bad) == sum(kind != "blank" for kind, _, _ in lines)
    keys = {k for v in good for k in v}
    assert set(notes["renamed"]) <= keys and all(not k.startswith("_") for r in rows for k in r)


# Properties: generated Parquet

PARQUET_COLUMN = st.sampled_from([
    ("int", st.integers(-(2**63), 2**63 - 1), pa.int64()), ("text", st.text(max_size=8), pa.string()),
    ("float", st.floats(), pa.float64()), ("flag", st.booleans(), pa.bool_()),
    ("list", st.lists(st.integers(-5, 5), max_size=3), pa.list_(pa.int64())),
    ("struct", st.fixed_dictionaries({"k": st.text(max_size=3)}), pa.struct([("k", pa.string())])),
    ("uint", st.integers(0, 2**64 - 1), pa.uint64()), ("bytes", st.binary(max_size=4), pa.string()),
])


@st.composite
def parquet_file(draw):
    n = draw(st.integers(0, 9))
    names, arrays = [], []
    for _ in range(draw(st.integers(1, 3))):
        kind, values, type_ = draw(PARQUET_COLUMN)
        cells = draw(st.lists(st.one_of(st.none(), values), min_size=n, max_size=n))
        names.append(draw(NAME))
        # 'bytes': arbitrary bytes claimed to be text, as a broken writer would leave them
        arrays.append(pa.array(cells, pa.binary()).view(pa.string()) if kind == "bytes" else pa.array(cells, type_))
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, names=names), sink, row_group_size=draw(st.integers(1, 4)))
    return sink.getvalue(), n


@fuzz(150)
@given(parquet_file(), st.sampled_from([("", None), (".gz", "gzip"), (".zst", "zstd")]), st.data())
def test_generated_parquet_keeps_every_row_or_says_why(file, compression, data):
    raw, n = file
    suffix, codec = compression
    blob = compress(raw, codec) if codec else raw
    cut = data.draw(st.one_of(st.none(), st.integers(0, len(blob) - 1)))
    with small_limits():
        items = read(blob if cut is None else blob[:cut], "f.parquet" + suffix, format="parquet")
    rows, bad, unreadable = check_items(items)
    if cut is None:
        assert not unreadable, bad[-1]
        assert len(rows) + len(bad) == n
        assert {q.reason for q in bad} <= {"invalid_encoding", "number_out_of_range"}
    else:
        assert unreadable and len(rows) + len(bad) - 1 <= n


# Properties: arbitrary bytes


def csv_records_in(raw: bytes, cfg: dict) -> int | None:
    """Records the csv module reads in the text (errors count one each), the header aside; None without a header."""
    opts = FilesConfig(path=".", **cfg).csv
    text = raw.decode("utf-8-sig", "surrogateescape")
    delimiter = "\t" if cfg["format"] == "tsv" else opts.delimiter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=True)
    count, header = 0, not opts.header
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return count
        except csv.Error:
            if not header:
                return None
            count += 1
            continue
        if row and not header:
            header = True
        elif row:
            count += 1


BYTES = st.one_of(st.binary(max_size=400), st.lists(st.sampled_from(
    [b"a", b",", b'"', b"\n", b"\r", b"\t", b"{", b"}", b"[", b"]", b":", b"1", b"\xff", b"\xc3", b"\x00", b"\\u",
     b"\xef\xbb\xbf", b" ", b"x" * 4100, b'"k"']), max_size=60).map(b"".join))


@fuzz(600)
@given(BYTES, st.sampled_from(["csv", "tsv", "jsonl", "parquet"]), st.sampled_from([".gz", ".zst", ""]),
       st.booleans())
def test_arbitrary_bytes_never_raise(raw, fmt, suffix, compressed):
    blob = compress(raw, {".gz": "gzip", ".zst": "zstd"}[suffix]) if suffix and compressed else raw
    cfg = {"format": fmt}
    with small_limits():
        items = read(blob, "f." + fmt + suffix, **cfg)
    rows, bad, unreadable = check_items(items)
    if unreadable or fmt == "parquet" or (suffix and not compressed):
        return
    if fmt == "jsonl":
        body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
        assert len(rows) + len(bad) == sum(bool(line.strip()) for line in body.split(b"\n"))
    elif (expected := csv_records_in(raw, cfg)) is not None:
        assert len(rows) + len(bad) == expected


# Property: what the readers yield loads with dlt into DuckDB


def land(outputs: dict[str, list], folder: Path) -> dict[str, tuple[int, int]]:
    """Load reader outputs as the ingest does (rows tagged with their file, entries in a quarantine table), one table
    per output; the rows and the quarantine entries each output got."""

    def records():
        for table, items in outputs.items():
            for item in items:
                if isinstance(item, Quarantined):
                    yield dlt.mark.with_table_name([{"_source_file": table, **item.as_row()}], "quarantine")
                elif isinstance(item, list):
                    yield dlt.mark.with_table_name([{**r, "_source_file": table} for r in item], table)
                else:
                    yield dlt.mark.with_table_name(
                        item.append_column("_source_file", pa.array([table] * item.num_rows)), table)

    @dlt.source(name="fuzz", max_table_nesting=0)
    def source():
        return dlt.resource(records, name="records")

    pipeline = dlt.pipeline(pipeline_name="fuzz", pipelines_dir=str(folder / "dlt"), dataset_name="raw",
                            destination=dlt.destinations.duckdb(str(folder / "w.duckdb")))
    pipeline.run(source()).raise_on_failed_jobs()
    with duckdb.connect(str(folder / "w.duckdb"), read_only=True) as con:
        tables = {t for (t,) in con.execute("select table_name from information_schema.tables "
                                             "where table_schema = 'raw'").fetchall()}
        rows = {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in tables if t in outputs}
        bad = dict(con.execute("select _source_file, count(*) from raw.quarantine group by all").fetchall()
                   if "quarantine" in tables else [])
    return {t: (rows.get(t, 0), bad.get(t, 0)) for t in outputs}


@fuzz(8)
@given(st.lists(jsonl_line(), min_size=1, max_size=10), st.lists(csv_records(3), min_size=1, max_size=6),
       parquet_file())
def test_reader_output_loads_into_duckdb(lines, records, parquet):
    jsonl = b"\n".join(text for _, text, _ in lines)
    csv_bytes, _ = write_csv(["_id", "Text", "a b"], records, ",", "\n", bom=False, tail="")
    with small_limits():
        outputs = {"from_jsonl": read(jsonl, "f.jsonl", format="jsonl"),
                   "from_csv": read(csv_bytes, "f.csv", format="csv"),
                   "from_parquet": read(parquet[0], "f.parquet", format="parquet")}
    expected = {}
    for table, items in outputs.items():
        rows, bad, _ = check_items(items)
        expected[table] = (len(rows), len(bad))
    with tempfile.TemporaryDirectory() as folder:
        assert land(outputs, Path(folder)) == expected


class OneWay:
    """A stream that cannot seek: the CSV reader then takes its Python path alone."""

    def __init__(self, data: bytes) -> None:
        self.read = io.BytesIO(data).read


def comparable(items: list) -> list:
    rows, bad = split(items)
    return [rows, [q.as_row() for q in bad]]


@fuzz(300)
@given(st.data())
def test_the_arrow_csv_reader_gives_what_the_python_reader_gives(data):
    """pyarrow reads clean files; anything else (bad records, stray or open quotes, NULs, bad bytes, records near
    the cap, arbitrary bytes) goes back to Python: either way the rows and entries are those of Python alone."""
    width = data.draw(st.integers(1, 4))
    has_header = data.draw(st.booleans())
    fmt, delimiter = data.draw(st.sampled_from([("csv", ","), ("csv", ";"), ("tsv", "\t")]))
    raw = data.draw(st.one_of(
        st.builds(lambda h, r, t, b, tail: write_csv(h if has_header else None, r, delimiter, t, b, tail)[0],
                  st.lists(NAME, min_size=width, max_size=width), st.lists(csv_records(width), max_size=12),
                  st.sampled_from(["\n", "\r\n", "\r"]), st.booleans(), st.sampled_from(["", "open", "open\n"])),
        BYTES))
    cfg = FilesConfig(path=".", format=fmt, csv={
        "delimiter": delimiter if fmt == "csv" else ",", "header": has_header,
        "encoding": data.draw(st.sampled_from(["utf-8", "latin-1", "cp1252"])),
        **({} if has_header else {"columns": [f"c{i}" for i in range(width)]})})
    with small_limits():
        fast = list(read_file(io.BytesIO(raw), "f.csv", cfg, fast_notes := {}))
        python = list(read_file(OneWay(raw), "f.csv", cfg, python_notes := {}))
    assert comparable(fast) == comparable(python)
    assert fast_notes == python_notes


def test_a_clean_csv_is_read_by_pyarrow_in_one_batch_and_a_dirty_one_by_python():
    clean = "id,text\n" + "".join(f'{i},"line {i}, with ""quotes"""\n' for i in range(10))
    with small_limits():  # Python's batches hold 3 rows here
        fast = read(clean.encode(), "c.csv", format="csv")
        slow = read((clean + '11,"a"b\n12,c\n').encode(), "d.csv", format="csv")
    assert len(fast) == 1 and fast[0].num_rows == 10
    assert [len(b) for b in split(slow)[0:1]] == [11] and len(slow) > 2
    assert split(slow)[1][0].reason == "malformed_csv_row" and split(slow)[1][0].position == "line 12"


def test_a_csv_quoted_throughout_stays_with_pyarrow_and_only_a_long_field_goes_to_python():
    """pyarrow's reads end inside quoted fields all along such a file: each field is measured from its own opening
    quote, so only a field near the record cap sends the file to Python (it used to send every quoted file past
    half the cap, at a quarter of the speed)."""
    rows = "".join(f'"{i}","row {i}, with ""quotes"" and a\nline break"\n' for i in range(300))
    with small_limits():
        quoted = ('"id","text"\n' + rows).encode()
        long_field = ('"id","text"\n' + rows + '"300","' + "x" * (readers.MAX_RECORD * 3 // 4) + '"\n').encode()
        assert len(quoted) > 3 * readers.MAX_RECORD
        fast, slow = read(quoted, "q.csv", format="csv"), read(long_field, "l.csv", format="csv")
        python = list(read_file(OneWay(long_field), "l.csv", FilesConfig(path=".", format="csv")))
    assert sum(b.num_rows for b in fast) == 300 and len(fast) < 20  # pyarrow's blocks, not Python's 3-row batches
    assert fast[0].to_pylist()[1] == {"id": "1", "text": 'row 1, with "quotes" and a\nline break'}
    assert len(slow) < len(python) and slow[-1].num_rows <= 3  # pyarrow's blocks, then Python's from the long field
    assert [r for b in slow for r in b.to_pylist()] == [r for b in python for r in b.to_pylist()]


def watched(reads: list[bytes], delimiter: bytes, at_once: bool) -> list:
    """What readers._Watched makes of the reads: its state after each, or the refusal that stopped it."""
    stream = readers._Watched(io.BytesIO(b"".join(reads)), delimiter, b'"')
    if not at_once:
        stream.quote = None  # the run-by-run loop alone
    seen = []
    try:
        for n in [*map(len, reads), 1]:
            stream.read(n)
            seen.append((stream.quoted, stream.closed_last, stream.open, stream.line, stream.prev))
    except readers._Unclean as err:
        seen.append(str(err))
    return seen


@fuzz(500)
@given(st.lists(st.text('a;,"\n\r', max_size=12).map(str.encode), min_size=1, max_size=6), st.sampled_from([b",", b";"]))
def test_quotes_followed_at_once_agree_with_the_run_by_run_loop(reads, delimiter):
    """Each read's quotes are followed at once by their parity, unless a quote is inside an unquoted field: then,
    and in any case, the state and the refusals are the run-by-run loop's, read after read."""
    assert watched(reads, delimiter, at_once=True) == watched(reads, delimiter, at_once=False)


# floats bounded: dlt's dict path puts an integral float into a BIGINT column, where 1e308 does not fit (noted, not ours)
JSON_SCALARS = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(-1e15, 1e15), TEXT,
    st.sampled_from(["2024-05-01T10:00:00Z", "2024-05-01"]), st.lists(st.integers(-9, 9), max_size=2)), max_size=4)


def landed(batches: list, arrow: bool, folder: Path):
    """Reader items (lists of dicts, batches; entries are skipped) loaded as the ingest loads them (`typed`), or
    the dicts all as dicts: the records table's columns with their types, and its rows."""
    types: dict = {}
    items = [typed(part, types) if arrow else part for part in batches if not isinstance(part, Quarantined)]
    ids = itertools.count()
    items = [i if isinstance(i, list) else i.append_column("_dlt_load_id", pa.array(["x"] * i.num_rows))
             .append_column("_dlt_id", pa.array([str(next(ids)) for _ in range(i.num_rows)])) for i in items]

    @dlt.source(name="same", max_table_nesting=0)
    def source():
        return dlt.resource(lambda: iter(items), name="records")

    src = source()
    src.schema.remove_type_detection("iso_timestamp")
    warehouse.pipeline(SimpleNamespace(id="same"), folder, folder / "dlt").run(src).raise_on_failed_jobs()
    with duckdb.connect(str(folder / "same.duckdb"), read_only=True) as con:
        cols = con.execute("select column_name, data_type from information_schema.columns where table_name = "
                           "'records' and column_name not like '_dlt%' order by column_name").fetchall()
        names = ", ".join(f'"{c}"' for c, _ in cols) or "1"
        return cols, sorted(map(repr, con.execute(f"select {names} from raw.records").fetchall())), items


@fuzz(6)
@given(st.lists(st.lists(JSON_SCALARS, min_size=1, max_size=4), min_size=2, max_size=4))
def test_jsonl_rows_land_the_same_as_arrow_or_as_dicts(batches):
    """Records go to dlt as Arrow where each key holds the one scalar type its column has, else as dicts: the
    warehouse gets the same columns, types and values either way (ISO dates stay text in both)."""
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        arrow, dicts = landed(batches, True, Path(a)), landed(batches, False, Path(b))
    assert arrow[:2] == dicts[:2]


def test_records_of_one_type_per_key_go_as_arrow_and_the_rest_as_dicts():
    batches = [[{"a": 1, "b": "x"}, {"a": 2}], [{"a": 3, "c": [1]}], [{"a": "four"}], [{"a": 5, "b": None}]]
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        arrow, dicts = landed(batches, True, Path(a)), landed(batches, False, Path(b))
    assert [type(i).__name__ for i in arrow[2]] == ["RecordBatch", "list", "list", "RecordBatch"]
    assert arrow[:2] == dicts[:2]
    assert ("a__v_text", "VARCHAR") in arrow[0] and ("c", "JSON") in arrow[0]


# Property: the pyarrow JSONL path gives what the Python reader gives

JSONL_KEY = st.sampled_from(["a", "b", "c", "_id", "id", "A b", "a_b", "", "when"])
JSONL_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-9, 9), st.integers(-(2**63), 2**63 - 1), st.integers(2**63, 2**70),
    st.floats(), st.floats(-1e15, 1e15), TEXT, st.sampled_from(["2024-05-01T10:00:00+02:00", "2024-05-01", "x\\u0000"]),
    st.lists(st.integers(-9, 9), max_size=2), st.dictionaries(st.sampled_from(["k", "_k"]), st.integers(), max_size=2))
ODD_LINES = [b'{"a": 1, "a": "x"}', b'{"a": 1}{"a": 2}', b'{"a": 1} null', b"null", b"  null", b'{"a": 1e5}',
             b'{"a": -0}', b'{"a": "\\ud83d\\ude00"}', b'{"a": "\\ud83d"}', b'{"a": "\\u0000"}', b'{"a": 1}\r{"a": 2}',
             b' {"a": 1}', b'{"a": "caf\xe9"}', b'{"\xff": 1}', b'{"a": ' + b"[" * 70 + b"]" * 70 + b"}", b"\x0b"]

CLEAN_RECORD = st.dictionaries(st.sampled_from(["a", "b", "c"]), st.one_of(st.integers(), TEXT, st.floats()),
                               min_size=1, max_size=3).map(lambda d: json.dumps(d).encode())  # pyarrow may take it


@st.composite
def jsonl_lines(draw, values=JSONL_VALUES):
    kind = draw(st.sampled_from(["good"] * 8 + ["hostile", "odd", "blank"]))
    if kind == "good":
        value = draw(st.dictionaries(JSONL_KEY, values, max_size=4))
        return json.dumps(value, ensure_ascii=draw(st.booleans())).encode()
    if kind == "hostile":
        return HOSTILE_JSON[draw(st.sampled_from(sorted(HOSTILE_JSON)))][0].encode()
    return draw(st.sampled_from(ODD_LINES if kind == "odd" else [b"", b"  ", b"\t \r"]))


def jsonl_file(lines: list[bytes], end: bytes, bom: bool, last: bool) -> bytes:
    return (b"\xef\xbb\xbf" if bom else b"") + end.join(lines) + (end if last else b"")


def read_jsonl_both(raw: bytes, name: str = "f.jsonl", **limits) -> tuple[list, list, dict, dict]:
    """The file read with the pyarrow path (under `limits`) and by the Python reader alone, and their notes."""
    with small_limits(), mock.patch.multiple(readers, **limits):
        fast = read(raw, name, fast_notes := {}, format="jsonl")
        with mock.patch.object(readers, "FAST_JSONL", False):
            python = read(raw, name, python_notes := {}, format="jsonl")
    return fast, python, fast_notes, python_notes


def same_rows(items: list) -> list:
    """Rows with their null values left out (an Arrow row has every column; dlt lands null and absent alike) and
    the entries."""
    rows, bad = split(items)
    return [[{k: v for k, v in r.items() if v is not None} for r in rows], [q.as_row() for q in bad]]


@fuzz(300)
@given(st.lists(st.one_of(jsonl_lines(), CLEAN_RECORD), max_size=14), st.sampled_from([b"\n", b"\r\n"]),
       st.booleans(), st.booleans(), st.sampled_from([1, 16, 100, 1000, 1 << 20]), st.sampled_from(["", ".gz"]))
def test_the_arrow_jsonl_reader_gives_what_the_python_reader_gives(lines, end, bom, last, chunk, suffix):
    """Chunks pyarrow may take (clean records) and those it must not (bad lines, nested values, integral or
    non-finite floats, ISO dates, keys renamed or folding to one name, blank and odd lines) mixed, with chunk edges
    anywhere: rows, entries (with their lines) and notes are the Python reader's."""
    raw = jsonl_file(lines, end, bom, last)
    fast, python, fast_notes, python_notes = read_jsonl_both(compress(raw, "gzip") if suffix else raw,
                                                             "f.jsonl" + suffix, JSONL_CHUNK=chunk)
    check_items(fast)
    assert same_rows(fast) == same_rows(python)
    assert fast_notes == python_notes


# floats bounded and non-integral, as in JSON_SCALARS (dlt's dict path, not ours)
LANDING_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), TEXT,
                           st.floats(-1e15, 1e15).filter(lambda f: not f.is_integer()),
                           st.sampled_from(["2024-05-01T10:00:00Z", "2024-05-01"]), st.lists(st.integers(), max_size=2))


LANDING_RECORD = st.dictionaries(st.sampled_from(["a", "b", "c", "when"]), LANDING_VALUES, min_size=1,
                                 max_size=4).map(lambda d: json.dumps(d).encode())


@fuzz(5)
@given(st.lists(st.one_of(LANDING_RECORD, LANDING_RECORD, jsonl_lines(LANDING_VALUES)), min_size=4, max_size=14),
       st.sampled_from([1, 60]))
def test_jsonl_read_by_pyarrow_lands_what_the_python_reader_lands(lines, chunk):
    fast, python, _, _ = read_jsonl_both(jsonl_file(lines, b"\n", False, True), JSONL_CHUNK=chunk)
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        assert landed(fast, True, Path(a))[:2] == landed(python, True, Path(b))[:2]


def test_a_clean_jsonl_is_read_by_pyarrow_and_a_dirty_one_quarantines_its_lines():
    records = [{"id": i, "text": f"line {i} \u00e9\U0001F600", "score": i + 0.5, "ok": i % 2 == 0,
                "when": "2024-05-01T10:00:00Z", "note": None} for i in range(400)]
    clean = b"".join(json.dumps(r).encode() + b"\n" for r in records)
    fast, python, _, _ = read_jsonl_both(clean, JSONL_CHUNK=4000)
    assert all(isinstance(i, pa.RecordBatch) and i.schema.metadata == {readers.JSON_ROWS: b""} for i in fast)
    assert len(fast) > 5 and same_rows(fast) == same_rows(python)
    assert fast[0].schema.field("when").type == pa.string()  # not the timestamp pyarrow would make of it
    lines = clean.splitlines()
    lines[10], lines[150], lines[200] = b'{"id": NaN}', b'{"id": 1, "id": -2}', b"null"
    lines[399] = b'{"text": "\xc3\x28"}'
    fast, python, _, _ = read_jsonl_both(b"\n".join(lines), JSONL_CHUNK=4000)
    assert [(q.position, q.reason) for q in fast if isinstance(q, Quarantined)] == [
        ("line 11", "malformed_json"), ("line 201", "not_an_object"), ("line 400", "invalid_encoding")]
    assert same_rows(fast) == same_rows(python) and {"id": -2} in same_rows(fast)[0]  # Python keeps the last
    kinds = [type(i).__name__ for i in fast if not isinstance(i, Quarantined)]
    assert kinds.count("list") and kinds.count("RecordBatch") > kinds.count("list")  # only the dirty chunks


def test_keys_new_in_a_chunk_are_named_in_the_order_of_their_records():
    raw = b'{"_id": 1}\n{"id": 2}\n{"A b": 3, "a_b": 4}\n{"_id": 5, "id": 6, "a_b": 7}\n'
    fast, python, fast_notes, python_notes = read_jsonl_both(raw * 3, JSONL_CHUNK=1 << 20)
    assert same_rows(fast) == same_rows(python) and fast_notes == python_notes == {"renamed": {"_id": "id"}}
    assert split(fast)[0][3] == {"id": 5, "id_2": 6, "a_b_2": 7}
    fast, python, _, _ = read_jsonl_both(raw * 3, JSONL_CHUNK=len(raw))  # the keys known, later chunks are Arrow
    assert same_rows(fast) == same_rows(python) and isinstance(fast[-1], pa.RecordBatch)
    # a date key first seen in a quarantined line is read as text afterwards, but not named before it shows
    raw = b'{"when": "2024-05-01", "x": NaN}\n{"a": 1}\n{"When": "x", "when": "y"}\n'
    fast, python, _, _ = read_jsonl_both(raw, JSONL_CHUNK=20)
    assert same_rows(fast) == same_rows(python) and same_rows(fast)[0][1] == {"when": "x", "when_2": "y"}


def test_a_json_column_that_changes_type_between_chunks_becomes_dicts():
    raw = b'{"a": 1, "b": "x"}\n' * 20 + b'{"a": "one", "b": "y"}\n' * 20
    fast, python, _, _ = read_jsonl_both(raw, JSONL_CHUNK=380)  # the first chunk: the 20 lines of ints
    types: dict = {}
    parts = [typed(p, types) for p in fast]
    assert all(isinstance(p, pa.RecordBatch) for p in fast)
    assert isinstance(parts[0], pa.RecordBatch) and isinstance(parts[-1], list)
    assert parts[-1][0] == {"a": "one", "b": "y"}
    assert types == {"a": pa.int64(), "b": pa.string()}
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        got = landed(fast, True, Path(a))
        assert got[:2] == landed(python, True, Path(b))[:2] and ("a__v_text", "VARCHAR") in got[0]


# Properties: the stateless curation steps

PIECES = ["the", "de", "Ã©tÃ©", "a@b.co", "+33 6 12 34 56 78", "FR7630006000011234567890189", "4111 1111 1111 1111",
          "192.168.0.1", "http://u:p@h.io", "123-45-6789", "lorem ipsum", "cookies", "#", "…", "\n", "\r\n", "\u2028",
          "\x00", "\x1b", "\u200b", "e\u0301", "שלום", "你好", "🙂", "  ", "\t"]
CELL = st.one_of(
    st.none(), st.text(max_size=40),
    st.lists(st.sampled_from(PIECES), max_size=30).map(" ".join),
    st.builds(lambda text, n: text * n, st.text(min_size=1, max_size=12), st.integers(1, 400)),  # long, repetitive
)


@st.composite
def text_batch(draw):
    n = draw(st.integers(0, 6))
    cols = {c: pa.array(draw(st.lists(CELL, min_size=n, max_size=n)), draw(st.sampled_from([pa.string(),
                                                                                           pa.large_string()])))
            for c in ("title", "body")}
    cols["n"] = pa.array(range(n), pa.int64())
    return pa.RecordBatch.from_pydict(cols)


STEPS = {
    "normalize": lambda: NormalizeColumns(),
    "normalize_text": lambda: NormalizeText(NormalizeConfig()),
    "quality": lambda: QualityFilter(["title", "body"], QualityConfig(**GOPHER, boilerplate=True)),
    "pii": lambda: Pii(PiiConfig(policy="drop_row"), "fuzz", ["FR", "US"]),
    "language": lambda: LanguageId(["title", "body"], LanguageConfig()),
}


@fuzz(50)
@pytest.mark.parametrize("step", sorted(STEPS))
@given(batches=st.lists(text_batch(), max_size=3))
def test_stateless_steps_count_every_row(step, batches):
    removed: list[int] = []
    stage = STEPS[step]()
    out = list(stage.run(batches, lambda name, rows, reason: removed.append(rows.num_rows)))
    rows_in = sum(b.num_rows for b in batches)
    rows_out = sum(b.num_rows for b in out)
    assert (stage.count.rows_in, stage.count.rows_out) == (rows_in, rows_out)
    assert rows_in == rows_out + sum(stage.count.removed.values()) == rows_out + sum(removed)


@fuzz(100)
@given(st.lists(st.one_of(TEXT, st.text(max_size=6)), min_size=1, max_size=4))
def test_normalize_columns_takes_any_names(names):
    batch = pa.RecordBatch.from_arrays([pa.array([1])] * len(names), names=names)
    out = NormalizeColumns().process(batch)
    assert out.num_rows == 1 and len(set(out.schema.names)) == len(names)
