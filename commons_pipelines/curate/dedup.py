"""Exact and near-duplicate removal over the normalised text of chosen columns.

Normalised text (`normal_text`): the columns joined by "\\n", Unicode NFKC, lower case, every run of whitespace or
punctuation (Unicode P*) turned into one space, trimmed. Punctuation goes because editions and transcriptions of one
text differ mostly there (straight or curly quotes, '--' or '—', "sister's" or "sister 's"); digits and symbols stay.
A row whose normalised text is empty has no key and is never a duplicate: empty text is the quality filter's business.

Staged as datatrove's MinHash dedup is: `DedupKeys`, the last row step, computes each row's exact key and MinHash
signature where the row steps run (worker processes, Ray actors, one partition at a time), and keeps them in hidden
columns of the staged rows; `Dedup`, the source-wide stage, then only reads those columns to group keys and band keys
and decide which rows stay (see its docstring for the rules). `NearDedup` is its MinHash LSH index. Memory: one byte
per row and one batch's signatures and band keys; exact keys are grouped by DuckDB on disk, and near dedup's index of
the documents kept is on disk too (NearDedup).
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..faults import failpoint
from ..settings import DUCKDB_MEMORY
from ..spec import NearDedupConfig
from ..stats import StageCount
from ..columns import DEDUP_KEY, MINHASH, ROW_SHA256, data_columns, over
from .step import Step, joined_text

MIX = np.uint64(0x9E3779B97F4A7C15)
INDEX_FILES = ("near.duckdb", "near.duckdb.wal", "near.sig")  # NearDedup's on-disk index


def normal_text(batch: pa.RecordBatch, columns: list[str]) -> pa.Array:
    text = pc.utf8_lower(pc.utf8_normalize(joined_text(batch, columns, "dedup"), "NFKC"))
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"[\s\pZ\pP\pS]+", " "))


def text_key(batch: pa.RecordBatch, columns: list[str]) -> pa.Array:
    """MD5 (16 bytes, fixed_size_binary) of the normalised text of `columns`, hashed by DuckDB over the Arrow
    array; null where that text is empty."""
    return _md5(normal_text(batch, columns))


def _md5(text: pa.Array) -> pa.Array:
    keys = over(pa.table({"x": text}), "select case when x <> '' then unhex(md5(x)) end as k from t")
    return keys.column("k").combine_chunks().cast(pa.binary(16))


def row_key(batch: pa.RecordBatch) -> pa.Array:
    """The first 16 bytes of `_row_sha256` (written by provenance, which runs before dedup)."""
    if ROW_SHA256 not in batch.schema.names:
        raise ValueError(f"dedup: no column {ROW_SHA256!r} (the provenance step writes it and runs first); "
                         f"columns present: {', '.join(batch.schema.names)}")
    keys = over(pa.table({"h": batch.column(ROW_SHA256)}), "select unhex(left(h, 32)) as k from t")
    return keys.column("k").combine_chunks().cast(pa.binary(16))


def as_bytes(keys: pa.Array) -> np.ndarray:
    """16-byte keys as numpy 'S16' (sortable, searchable); a null key reads as 16 zero bytes."""
    keys = keys.fill_null(b"\0" * 16) if keys.null_count else keys
    buf = keys.buffers()[1]
    return np.frombuffer(buf, "S16", count=len(keys), offset=keys.offset * 16)


class KeyIndex:
    """A set of 16-byte keys as sorted numpy runs, merged like a binary counter: 16 bytes a key, vectorised lookups."""

    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []

    def __contains__(self, key: bytes) -> bool:
        return bool(self.contains(np.array([key], "S16"))[0])

    def contains(self, keys: np.ndarray) -> np.ndarray:
        found = np.zeros(len(keys), bool)
        for run in self.runs:
            i = np.minimum(np.searchsorted(run, keys), len(run) - 1)
            found |= run[i] == keys
        return found

    def add(self, keys: np.ndarray) -> None:
        run = np.unique(keys)
        while self.runs and len(self.runs[-1]) <= 2 * len(run):
            run = np.unique(np.concatenate([self.runs.pop(), run]))
        if len(run):
            self.runs.append(run)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads every input bit over the 64 output bits."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@functools.cache
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) with bands × rows ≤ num_perm, minimising the false positive plus false negative area
    of the S-curve 1 - (1 - s^rows)^bands around the threshold (datasketch's choice, equal weights)."""
    s = np.linspace(0, 1, 1001)
    best, arg = np.inf, (1, num_perm)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            p = 1 - (1 - s ** r) ** b
            err = np.trapezoid(np.where(s < threshold, p, 0), s) + np.trapezoid(np.where(s >= threshold, 1 - p, 0), s)
            if err < best:
                best, arg = err, (b, r)
    return arg


def shingle_hashes(text: pa.Array, size: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of the word `size`-shingles of each row, flat, with the row each came from (in row order).
    A row with fewer words has one shingle, its whole text; a row with no words has none."""
    parts = pc.split_pattern(text, " ")
    flat, rows = pc.list_flatten(parts), pc.list_parent_indices(parts).to_numpy()
    words = pc.dictionary_encode(flat)
    vocab = over(pa.table({"w": words.dictionary}), "select hash(w) as h from t").column("h").to_numpy()
    w = _mix(vocab[words.indices.to_numpy()] + MIX)
    nonempty = pc.not_equal(pc.utf8_length(flat), 0).to_numpy(zero_copy_only=False)
    w, rows = w[nonempty], rows[nonempty]
    count = np.bincount(rows, minlength=len(text))
    m = max(len(w) - size + 1, 0)
    start = np.flatnonzero(rows[:m] == rows[size - 1:size - 1 + m])
    h = np.zeros(len(start), np.uint64)
    for k in range(size):
        h = h * MIX + w[start + k]
    short = (count[rows] < size)  # words of rows shorter than a shingle: one polynomial over each such row
    sw, sr = w[short], rows[short]
    pos = np.arange(len(sr)) - np.searchsorted(sr, sr)
    powers = np.array([pow(int(MIX), k, 2**64) for k in range(size)], np.uint64)
    heads = np.flatnonzero(np.r_[True, sr[1:] != sr[:-1]]) if len(sr) else np.zeros(0, np.int64)
    sh = np.add.reduceat(sw * powers[pos], heads) if len(sr) else np.zeros(0, np.uint64)
    all_rows = np.concatenate([rows[start], sr[heads]])
    order = np.argsort(all_rows, kind="stable")
    return _mix(np.concatenate([h, sh]))[order], all_rows[order]


class NearDedup(Step):
    """Near duplicates by MinHash LSH over word shingles of the normalised text (see `normal_text`).

    Signatures: num_perm hash functions x -> (a·x + b) mod 2^64 (a odd, seeded, so results are the same on every
    run), the top 32 bits of the minimum over a text's shingles, computed for the whole batch at once in numpy.
    Candidates come from LSH bands (`lsh_bands`) and are verified: the first document in source order is kept, a
    later one whose estimated Jaccard similarity (share of equal signature values) to a kept document is at least
    config.threshold is rejected `near_duplicate`. Texts shorter than a shingle are one shingle; empty texts are kept.
    `columns` None or empty: all data columns (names not starting with "_").
    The index of the documents kept lives on disk in `work` (a temporary folder when None), so memory does not grow
    with the input: their band keys in a DuckDB table that each batch's keys are joined with (DuckDB builds the join on
    the batch's side and streams the table, within DUCKDB_MEMORY), their signatures in a flat file of num_perm × 4
    bytes each, of which only the candidates' rows are read, through a map closed after each batch."""

    name = "near_dedup"
    stateful = True

    def __init__(self, columns: list[str] | None, config: NearDedupConfig, work: Path | None = None) -> None:
        super().__init__()
        self.columns, self.config = list(columns or []), config
        self.bands, self.rows = lsh_bands(config.threshold, config.num_perm)
        rng = np.random.default_rng(20240611)
        self.a = rng.integers(0, 2**63, config.num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self.b = rng.integers(0, 2**63, config.num_perm, dtype=np.uint64)
        self.kept = 0
        self.work = Path(work) if work is not None else None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._folder: Path | None = None

    def signatures(self, text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """MinHash signatures of the rows that have words, and those rows."""
        h, rows = shingle_hashes(text, self.config.shingle)
        heads = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if len(rows) else np.zeros(0, np.int64)
        sig = np.empty((len(heads), self.config.num_perm), np.uint32)
        step = max(1, 2**18 // max(len(h), 1))  # passes of ~2 MB: faster than one large array
        for i in range(0, self.config.num_perm, step):
            v = np.multiply(h[None, :], self.a[i:i + step, None])
            v += self.b[i:i + step, None]
            v >>= np.uint64(32)
            sig[:, i:i + step] = np.minimum.reduceat(v, heads, axis=1).T
        return sig, rows[heads]

    def band_keys(self, sig: np.ndarray) -> np.ndarray:
        r = self.rows
        keys = np.empty((len(sig), self.bands), np.uint64)
        for i in range(self.bands):
            k = np.full(len(sig), np.uint64(i + 1))
            for j in range(i * r, (i + 1) * r):
                k = k * MIX + sig[:, j].astype(np.uint64)
            keys[:, i] = _mix(k)
        return keys

    def _db(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            if self.work is None:
                self._folder = Path(tempfile.mkdtemp(prefix="near-dedup-"))
                weakref.finalize(self, shutil.rmtree, self._folder, True)
            folder = self.work or self._folder
            folder.mkdir(parents=True, exist_ok=True)
            for name in INDEX_FILES:
                (folder / name).unlink(missing_ok=True)
            self._con = duckdb.connect(str(folder / "near.duckdb"),
                                       config={"memory_limit": DUCKDB_MEMORY, "temp_directory": str(folder / "spill")})
            self._con.execute("create table band (key ubigint, id bigint)")
            self._sigs = folder / "near.sig"
            self._sigs.touch()
        return self._con

    def close(self) -> None:
        """Drop the index (its files too)."""
        if self._con is not None:
            self._con.close()
            self._con = None
            folder = self.work or self._folder
            for name in INDEX_FILES:
                (folder / name).unlink(missing_ok=True)
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None
        self.kept = 0

    def indexed(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(document in batch, kept id) for every kept document that shares a band key with a document of the batch,
        each pair once, in (document, id) order."""
        if not self.kept:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        con = self._db()
        con.register("q", pa.table({"doc": np.repeat(np.arange(len(keys)), keys.shape[1]), "key": keys.ravel()}))
        try:
            found = con.sql("select distinct q.doc, band.id from q join band using (key) order by 1, 2").to_arrow_table()
        finally:
            con.unregister("q")
        return found.column("doc").to_numpy(), found.column("id").to_numpy()

    def kept_signatures(self, ids: np.ndarray) -> np.ndarray:
        """The signatures of kept documents `ids`, read from the file (only their pages are touched)."""
        if not len(ids):
            return np.zeros((0, self.config.num_perm), np.uint32)
        stored = np.memmap(self._sigs, np.uint32, "r", shape=(self.kept, self.config.num_perm))
        try:
            return np.array(stored[ids])
        finally:
            del stored

    def index(self, keys: np.ndarray, sig: np.ndarray) -> None:
        """Add documents to the index, with ids from `self.kept` on."""
        con = self._db()
        ids = np.arange(self.kept, self.kept + len(keys))
        con.register("k", pa.table({"key": keys.ravel(), "id": np.repeat(ids, keys.shape[1])}))
        try:
            con.execute("insert into band select key, id from k")
        finally:
            con.unregister("k")
        with self._sigs.open("ab") as f:
            f.write(np.ascontiguousarray(sig, np.uint32).tobytes())
        self.kept += len(keys)

    def duplicates(self, text: pa.Array) -> np.ndarray:
        """Which rows of `text` (normalised, see normal_text) are near duplicates of a document kept before them, in
        this call or an earlier one; the others are kept and indexed."""
        return self.judge(*self.signatures(text), len(text))

    def column(self, text: pa.Array) -> pa.Array:
        """The signatures of `text` as one fixed-size binary value a row (num_perm × 4 bytes), null for a row with
        no words: how DedupKeys hands them to the source-wide stage."""
        sig, rows = self.signatures(text)
        full = np.zeros((len(text), self.config.num_perm), np.uint32)
        full[rows] = sig
        valid = None
        if len(rows) < len(text):
            mask = np.zeros(len(text), bool)
            mask[rows] = True
            valid = pa.array(mask).buffers()[1]
        return pa.FixedSizeBinaryArray.from_buffers(pa.binary(4 * self.config.num_perm), len(text),
                                                    [valid, pa.py_buffer(full)])

    def from_column(self, column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """(signatures, rows) as `signatures` gives them, read from a `column`."""
        column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        width, n = self.config.num_perm, len(column)
        if column.type != pa.binary(4 * width):
            raise ValueError(f"near dedup: column {MINHASH!r} holds {column.type}, not the signatures of "
                             f"num_perm {width} (binary of {4 * width} bytes)")
        rows = (np.flatnonzero(column.is_valid().to_numpy(zero_copy_only=False)) if column.null_count
                else np.arange(n))
        sig = np.frombuffer(column.buffers()[1], np.uint32, count=n * width, offset=column.offset * 4 * width)
        return sig.reshape(n, width)[rows], rows

    def judge(self, sig: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
        """Which of `n` rows are near duplicates, given the signatures `sig` of those among them with words,
        `rows`; the others are kept and indexed."""
        keys = self.band_keys(sig)
        need = self.config.threshold * self.config.num_perm
        dup = np.zeros(len(sig), bool)
        doc, ids = self.indexed(keys)
        if len(doc):
            same = np.count_nonzero(sig[doc] == self.kept_signatures(ids), axis=1) >= need
            dup[doc[same]] = True
        local: dict[int, list[int]] = {}  # band key -> documents of this call kept so far
        for i in np.flatnonzero(~dup):
            cands = {c for k in keys[i].tolist() for c in local.get(k, ())}
            if any(np.count_nonzero(sig[i] == sig[c]) >= need for c in sorted(cands)):
                dup[i] = True
                continue
            for k in keys[i].tolist():
                local.setdefault(k, []).append(i)
        keep = ~dup
        if keep.any():
            self.index(keys[keep], sig[keep])
        drop = np.zeros(n, bool)
        drop[rows[dup]] = True
        return drop

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        drop = self.duplicates(normal_text(batch, self.columns or data_columns(batch.schema)))
        if not drop.any():
            return batch
        self.reject(batch.filter(pa.array(drop)), "near_duplicate")
        return batch.filter(pa.array(~drop))


class DedupKeys(Step):
    """The row step that stages dedup's work (datatrove's first MinHash stage): each row's exact key (`_dedup_key`,
    text_key) and, with near dedup, its MinHash signature (`_minhash`, NearDedup.column) of the normalised text of
    the dedup columns. It runs last among the row steps, where they run (worker processes, Ray actors, a partition
    at a time), so that the source-wide Dedup only groups keys; its columns never reach the curated rows. It removes
    nothing and is not reported as a stage."""

    name = "dedup_keys"
    reported = False

    def __init__(self, columns: list[str], near: NearDedupConfig | None) -> None:
        super().__init__()
        self.columns = list(columns)
        self.near = NearDedup(self.columns, near) if near else None

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        text = normal_text(batch, self.columns)
        batch = batch.append_column(DEDUP_KEY, _md5(text))
        return batch.append_column(MINHASH, self.near.column(text)) if self.near else batch


KEEP, EXACT, PUBLISHED, NEAR = 0, 1, 2, 3
REASONS = {EXACT: "exact_duplicate", PUBLISHED: "published_duplicate", NEAR: "near_duplicate"}
STAGE = {EXACT: "exact_dedup", PUBLISHED: "exact_dedup", NEAR: "near_dedup"}


class Dedup:
    """Exact, then near duplicates over the whole curation: the source-wide stage after the row steps.

    It reads the staged rows (every row step done) in source order, twice or three times, and decides for each row
    whether it stays; the position of a row is its index in that order. The keys and signatures come from the
    columns DedupKeys wrote (only those and `_row_sha256` need to be read: `reads`), or are computed here from the
    text when the rows have none. What may merge:
    - by default (no `columns`) only identical rows (same `_row_sha256`, every data column equal): two rows that
      differ anywhere, a primary key or a volume number, are two records, and near dedup does not run;
    - when the source declares `columns` (dedup.columns), rows whose normalised text of those columns is the same are
      exact duplicates, and near duplicates by MinHash LSH over that text (`near`), whatever their other columns.
    Among duplicates the copy already published (its `_row_sha256` is in `published`, the previous version) is kept,
    else the first in source order: a refresh never swaps a published record for a new copy of it, and a row is
    only ever removed for a copy that is itself in the new version. A later copy of a published row is removed as
    `published_duplicate`, other copies as `exact_duplicate` or `near_duplicate`.
    Exact keys go to a DuckDB table on disk in `work` (grouped by SQL), and so does the near-dedup index of the
    documents kept (see NearDedup); memory holds one byte of decision per row and one batch."""

    def __init__(self, columns: list[str] | None, exact: bool, near: NearDedupConfig | None,
                 published: KeyIndex | None, work: Path) -> None:
        self.columns = list(columns or [])
        self.exact, self.work = exact, Path(work)
        self.near = NearDedup(self.columns, near, self.work / "near") if near and self.columns else None
        self.published = published or KeyIndex()
        self.counts = [StageCount(STAGE[EXACT])] if exact else []
        if self.near:
            self.counts.append(StageCount(STAGE[NEAR]))

    def key(self, batch: pa.RecordBatch) -> pa.Array:
        if not self.columns:
            return row_key(batch)
        if DEDUP_KEY in batch.schema.names:
            return batch.column(DEDUP_KEY)
        return text_key(batch, self.columns)

    def reads(self, schema: pa.Schema) -> list[str]:
        """The columns of staged rows with `schema` that decide reads: the keys DedupKeys wrote when they are
        there, else the text they come from."""
        names = [ROW_SHA256]
        for key, used in ((DEDUP_KEY, self.exact and self.columns), (MINHASH, self.near)):
            if used:
                names += [key] if key in schema.names else [c for c in self.columns if c not in names]
        return names

    def _near(self, batch: pa.RecordBatch, rows: np.ndarray) -> np.ndarray:
        """Which of `rows` of `batch` are near duplicates (see NearDedup.judge)."""
        if MINHASH in batch.schema.names:
            sig, have = self.near.from_column(batch.column(MINHASH).take(pa.array(rows)))
            return self.near.judge(sig, have, len(rows))
        return self.near.duplicates(normal_text(batch.take(pa.array(rows)), self.columns))

    def is_published(self, batch: pa.RecordBatch) -> np.ndarray:
        if not self.published.runs:
            return np.zeros(batch.num_rows, bool)
        return self.published.contains(as_bytes(row_key(batch)))

    def decide(self, staged: Callable[[], Iterable[pa.RecordBatch]]) -> np.ndarray:
        """One reason code per staged row (KEEP, EXACT, PUBLISHED or NEAR); `staged` yields the rows anew each call."""
        reason = self._exact(staged) if self.exact else None
        if reason is None:
            reason = np.zeros(sum(b.num_rows for b in staged()), np.int8)
        failpoint("curate.dedup")
        if self.near:
            for first in (True, False):  # published copies claim their text before anything new does
                offset = 0
                for batch in staged():
                    n = batch.num_rows
                    todo = (reason[offset:offset + n] == KEEP) & (self.is_published(batch) == first)
                    if todo.any():
                        rows = np.flatnonzero(todo)
                        reason[offset + rows[self._near(batch, rows)]] = NEAR
                    offset += n
            self.near.close()
        self._count(reason)
        return reason

    def _exact(self, staged) -> np.ndarray:
        self.work.mkdir(parents=True, exist_ok=True)
        path = self.work / "dedup.duckdb"
        path.unlink(missing_ok=True)
        with duckdb.connect(str(path), config={"memory_limit": DUCKDB_MEMORY}) as con:
            con.execute("create table k (pos bigint, key blob, pub boolean)")
            offset = 0
            for batch in staged():
                n = batch.num_rows
                part = pa.table({"pos": pa.array(np.arange(offset, offset + n)),
                                 "key": self.key(batch).cast(pa.binary()),
                                 "pub": pa.array(self.is_published(batch))})
                con.register("part", part)
                con.execute("insert into k select * from part")
                con.unregister("part")
                offset += n
            dup = con.sql("select pos, pub, keeper_pub from (select pos, pub, first_value(pos) over w as keeper, "
                          "first_value(pub) over w as keeper_pub from k where key is not null "
                          "window w as (partition by key order by pub desc, pos)) where pos <> keeper").to_arrow_table()
        path.unlink(missing_ok=True)
        reason = np.zeros(offset, np.int8)
        pos = dup.column("pos").to_numpy()
        later = dup.column("keeper_pub").to_numpy(zero_copy_only=False) & ~dup.column("pub").to_numpy(zero_copy_only=False)
        reason[pos] = np.where(later, PUBLISHED, EXACT)
        return reason

    def _count(self, reason: np.ndarray) -> None:
        n, tally = len(reason), np.bincount(reason, minlength=4)
        if self.exact:
            exact = self.counts[0]
            exact.rows_in, exact.rows_out = n, n - int(tally[EXACT] + tally[PUBLISHED])
            for code in (EXACT, PUBLISHED):
                if tally[code]:
                    exact.removed[REASONS[code]] = int(tally[code])
        if self.near:
            near = self.counts[-1]
            near.rows_in = n - int(tally[EXACT] + tally[PUBLISHED])
            near.rows_out = near.rows_in - int(tally[NEAR])
            if tally[NEAR]:
                near.removed[REASONS[NEAR]] = int(tally[NEAR])


def split(batch: pa.RecordBatch, reason: np.ndarray) -> tuple[pa.RecordBatch, list[tuple[str, pa.RecordBatch, str]]]:
    """The rows of `batch` to keep, and the removed ones as (stage, rows, reason), given the batch's reason codes."""
    removed = [(STAGE[code], batch.filter(pa.array(reason == code)), why) for code, why in REASONS.items()
               if (reason == code).any()]
    return (batch if not removed else batch.filter(pa.array(reason == KEEP))), removed
