import csv

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from commons_pipelines.columns import row_sha256
from commons_pipelines.curate.dedup import (EXACT, KEEP, NEAR, Dedup, DedupKeys, KeyIndex, NearDedup, as_bytes,
                                            normal_text, row_key, split, text_key)
from commons_pipelines.curate.step import run_steps
from commons_pipelines.spec import NearDedupConfig

from .conftest import OTL, SHARED_DATA

GUTENBERG = SHARED_DATA / "dedup" / "gutenberg"


def run(step, batches):
    rejected = []
    out = list(run_steps([step], batches, lambda name, rows, reason: rejected.append((rows, reason))))
    return out, rejected


def with_hash(**cols) -> pa.RecordBatch:
    batch = pa.RecordBatch.from_pydict(cols)
    return batch.append_column("_row_sha256", row_sha256(batch))


@pytest.fixture(scope="module")
def otl() -> list[dict]:
    return [r for r in csv.DictReader(OTL.open(encoding="utf-8")) if len(r["Description"]) > 200][:40]


def test_near_dedup_finds_the_gold_pairs_of_real_books_and_no_hard_negative():
    manifest = list(csv.DictReader((GUTENBERG / "manifest.csv").open()))
    files = [m["file"] for m in manifest]
    texts = [(GUTENBERG / "documents" / f).read_text(encoding="utf-8") for f in files]
    batches = [pa.RecordBatch.from_pydict({"file": files[i:i + 8], "text": texts[i:i + 8]}) for i in range(0, 31, 8)]
    step = NearDedup(["text"], NearDedupConfig())
    out, rejected = run(step, batches)
    kept = [f for b in out for f in b.column("file").to_pylist()]
    dropped = [f for rows, _ in rejected for f in rows.column("file").to_pylist()]
    assert {reason for _, reason in rejected} == {"near_duplicate"}
    # the first book of each group in source order stays, every later one goes
    group = {m["file"]: m["work_group"] for m in manifest}
    first = {}
    for f in files:
        first.setdefault(group[f], f)
    assert sorted(dropped) == sorted(f for f in files if first[group[f]] != f) and len(dropped) == 6
    gold = list(csv.DictReader((GUTENBERG / "gold_pairs.csv").open()))
    for pair in gold:
        a, b = pair["file_a"], pair["file_b"]
        if pair["label_or_group"].startswith("NEGATIVE"):
            assert a in kept and b in kept
        else:
            assert group[a] == group[b] and (a in dropped or b in dropped)
    again, _ = run(NearDedup(["text"], NearDedupConfig()), batches)
    assert [f for b in again for f in b.column("file").to_pylist()] == kept  # deterministic


def test_the_near_dedup_index_is_on_disk_and_gone_after_the_stage(otl, tmp_path):
    """The kept documents' band keys and signatures are written to the work folder batch by batch (memory stays
    one batch), a later batch is compared with every earlier one through them, and closing removes them."""
    texts = list(dict.fromkeys(r["Description"] for r in otl))
    step = NearDedup(["text"], NearDedupConfig(), tmp_path / "near")
    first = step.duplicates(normal_text(pa.RecordBatch.from_pydict({"text": texts}), ["text"]))
    n = len(texts)
    assert n > 30 and not first.any() and step.kept == n
    assert (tmp_path / "near" / "near.sig").stat().st_size == n * 128 * 4
    later = [t.upper().replace(".", " .") for t in texts[::3]] + ["A new text, unlike every other one here."]
    again = step.duplicates(normal_text(pa.RecordBatch.from_pydict({"text": later}), ["text"]))
    assert again.tolist() == [True] * len(texts[::3]) + [False] and step.kept == n + 1
    step.close()
    assert sorted(p.name for p in (tmp_path / "near").iterdir()) in ([], ["spill"])


def test_near_dedup_short_texts_are_one_shingle_and_empty_texts_stay(otl):
    texts = ["Open textbook.", "OPEN   textbook!", "Open book", "", None, otl[0]["Description"],
             otl[0]["Description"].replace(".", ". ").upper(), otl[1]["Description"]]
    out, rejected = run(NearDedup(["text"], NearDedupConfig()), [pa.RecordBatch.from_pydict({"text": texts})])
    assert [t for b in out for t in b.column("text").to_pylist()] == [texts[i] for i in (0, 2, 3, 4, 5, 7)]
    assert [r for _, r in rejected] == ["near_duplicate"]


def test_text_key_normalises_case_unicode_whitespace_and_punctuation(otl):
    d = otl[0]["Description"]
    variants = [d, d.upper(), "  " + d.replace(" ", " \t\u00a0") + "\n", d.replace(",", " ,"), d.replace("fi", "\ufb01")]
    batch = pa.RecordBatch.from_pydict({"t": variants + [otl[1]["Description"], "", None, " .,! "]})
    keys = text_key(batch, ["t"])
    assert keys.type == pa.binary(16) and len(set(keys.to_pylist()[:5])) == 1 and keys[5] != keys[0]
    assert keys.to_pylist()[6:] == [None, None, None]
    with pytest.raises(ValueError, match=r"'body'.*columns present: t"):
        text_key(batch, ["body"])


def decide(batches, columns=None, *, published=(), near=None, work):
    """Run the source-wide dedup over `batches` (staged rows); the kept titles and (title, reason) removed."""
    index = KeyIndex()
    for batch in published:
        index.add(as_bytes(row_key(batch)))
    stage = Dedup(columns, True, near, index, work)
    reasons = stage.decide(lambda: iter(batches))
    kept, removed, offset = [], [], 0
    for batch in batches:
        out, gone = split(batch, reasons[offset:offset + batch.num_rows])
        kept += out.column("title").to_pylist()
        removed += [(t, why) for _, rows, why in gone for t in rows.column("title").to_pylist()]
        offset += batch.num_rows
    return kept, removed, stage


def test_exact_dedup_of_normalised_text_across_batches(otl, tmp_path):
    titles, texts = [r["Title"] for r in otl], [r["Description"] for r in otl]
    first = with_hash(title=titles[:20], description=texts[:20])
    second = with_hash(title=["Copy A", "Copy B", titles[25], "Empty", "Empty"],
                       description=[texts[3].upper(), " " + texts[3], texts[25], "", ""])
    kept, removed, stage = decide([first, second], ["description"], work=tmp_path)
    assert kept == titles[:20] + [titles[25], "Empty", "Empty"]
    assert removed == [("Copy A", "exact_duplicate"), ("Copy B", "exact_duplicate")]
    assert stage.counts[0].as_dict() == {"stage": "exact_dedup", "rows_in": 25, "rows_out": 23,
                                         "removed": {"exact_duplicate": 2}}


def test_the_published_copy_is_kept_wherever_it_comes_in_source_order(otl, tmp_path):
    titles, texts = [r["Title"] for r in otl], [r["Description"] for r in otl]
    published = [with_hash(title=titles[:10], description=texts[:10])]
    # "New record" repeats record 4's text and comes first; record 4 is still in the source and published
    source = with_hash(title=["New record"] + titles[:10] + [titles[12]],
                       description=[texts[4].lower()] + texts[:10] + [texts[12]])
    kept, removed, _ = decide([source], ["description"], published=published, work=tmp_path)
    assert kept == titles[:10] + [titles[12]] and removed == [("New record", "published_duplicate")]


def test_a_row_is_never_removed_for_a_published_row_that_left_the_source(otl, tmp_path):
    """A corrected record (same text, another value elsewhere) and a repost whose original is gone both stay."""
    titles, texts = [r["Title"] for r in otl], [r["Description"] for r in otl]
    published = [with_hash(title=titles[:3], description=texts[:3], audience=["parents"] * 3)]
    source = with_hash(title=titles[:3], description=texts[:3], audience=["parents", "staff", "parents"])
    kept, removed, _ = decide([source.slice(1)], ["description"], published=published, work=tmp_path)
    assert kept == titles[1:3] and removed == []  # record 1 corrected, record 0 gone: nothing else is lost


def test_by_default_only_identical_rows_merge_so_distinct_keys_never_do(otl, tmp_path):
    titles, texts = [r["Title"] for r in otl[:4]], [r["Description"] for r in otl[:4]]
    volumes = with_hash(id=["1", "2", "3", "3"], title=[titles[0], titles[0] + " Volume 2", titles[1], titles[1]],
                        description=[texts[0], texts[0], texts[1], texts[1]])
    kept, removed, stage = decide([volumes], None, near=NearDedupConfig(), work=tmp_path)
    assert kept == [titles[0], titles[0] + " Volume 2", titles[1]] and removed == [(titles[1], "exact_duplicate")]
    assert [c.stage for c in stage.counts] == ["exact_dedup"]  # no text declared: no near dedup


def test_near_duplicates_prefer_the_published_copy(otl, tmp_path):
    texts = [r["Description"] for r in otl[:3]]
    variant = texts[0].replace(".", ". Indeed.", 1)
    published = [with_hash(title=["published"], description=[variant])]
    source = with_hash(title=["first in order", "published", "other"], description=[texts[0], variant, texts[1]])
    kept, removed, _ = decide([source], ["description"], near=NearDedupConfig(threshold=0.7), published=published,
                              work=tmp_path)
    assert kept == ["published", "other"] and removed == [("first in order", "near_duplicate")]


def test_exact_dedup_falls_back_to_the_row_hash(otl, tmp_path):
    titles, texts = [r["Title"] for r in otl[:5]], [r["Description"] for r in otl[:5]]
    a = with_hash(title=titles, description=texts)
    b = with_hash(title=titles[:2] + ["Other"], description=texts[:1] + [texts[1].upper(), texts[2]])
    kept, removed, _ = decide([a, b], None, work=tmp_path)
    assert kept == titles + [titles[1], "Other"] and removed == [(titles[0], "exact_duplicate")]
    with pytest.raises(ValueError, match=r"'_row_sha256'.*columns present: title"):
        decide([pa.RecordBatch.from_pydict({"title": ["x"]})], None, work=tmp_path)


def test_keys_staged_by_the_row_step_decide_as_the_text_does(otl, tmp_path):
    """DedupKeys writes each row's exact key and MinHash signature where the row steps run; the source-wide stage,
    reading only those columns and the row hash back from Parquet, removes the same rows as it does from the text."""
    texts = [r["Description"] for r in otl]
    rows = (texts + [t.upper() for t in texts[:5]] + [t.replace(".", ". Indeed.", 1) for t in texts[5:12]]
            + ["", None, "Short text.", "short TEXT"])
    batches = [with_hash(title=[f"t{i}" for i in range(k, min(k + 16, len(rows)))], description=rows[k:k + 16])
               for k in range(0, len(rows), 16)]
    near = NearDedupConfig(threshold=0.7)
    staged, _ = run(DedupKeys(["description"], near), batches)
    path = tmp_path / "staged.parquet"
    pq.write_table(pa.Table.from_batches(staged), path)
    stage = Dedup(["description"], True, near, KeyIndex(), tmp_path / "keys")
    reads = stage.reads(pq.read_schema(path))
    assert reads == ["_row_sha256", "_dedup_key", "_minhash"]  # no text
    from_keys = stage.decide(lambda: pq.ParquetFile(path).iter_batches(16, columns=reads))
    from_text = Dedup(["description"], True, near, KeyIndex(), tmp_path / "text").decide(lambda: iter(batches))
    assert from_keys.tolist() == from_text.tolist()
    assert from_keys.tolist().count(EXACT) == 6 and from_keys.tolist().count(NEAR) >= 5
    assert from_keys[len(texts) + 12:].tolist() == [KEEP, KEEP, KEEP, EXACT]  # empty and missing text stay
    signatures = pq.read_table(path).column("_minhash")
    assert signatures.null_count == 2 and signatures.type == pa.binary(128 * 4)  # no words: no signature
