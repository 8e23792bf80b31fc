import csv

import pyarrow as pa
import pytest

from commons_pipelines.curate.dedup import ExactDedup, NearDedup, text_key
from commons_pipelines.curate.provenance import row_sha256
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


def test_exact_dedup_of_normalised_text_across_batches(otl):
    titles, texts = [r["Title"] for r in otl], [r["Description"] for r in otl]
    first = with_hash(title=titles[:20], description=texts[:20])
    second = with_hash(title=["Copy A", "Copy B", titles[25], "Empty", "Empty"],
                       description=[texts[3].upper(), " " + texts[3], texts[25], "", ""])
    step = ExactDedup(["description"])
    out, rejected = run(step, [first, second])
    assert [t for b in out for t in b.column("title").to_pylist()] == titles[:20] + [titles[25], "Empty", "Empty"]
    assert [(rows.column("title").to_pylist(), r) for rows, r in rejected] == [(["Copy A", "Copy B"], "exact_duplicate")]


def test_published_duplicate_is_a_new_record_repeating_published_text(otl):
    titles, texts = [r["Title"] for r in otl], [r["Description"] for r in otl]
    published = [with_hash(title=titles[:10], description=texts[:10])]
    source = with_hash(title=titles[:10] + ["New record", titles[12], titles[0]],
                       description=texts[:10] + [texts[4].lower(), texts[12], texts[0]])
    step = ExactDedup(["description"], published=iter(published))
    out, rejected = run(step, [source])
    assert [t for b in out for t in b.column("title").to_pylist()] == titles[:10] + [titles[12]]
    assert [(rows.column("title").to_pylist(), r) for rows, r in rejected] == [
        (["New record"], "published_duplicate"), ([titles[0]], "exact_duplicate")]
    with pytest.raises(ValueError, match="_row_sha256"):
        ExactDedup(["description"], published=[pa.RecordBatch.from_pydict({"description": ["x"]})]).process(source)


def test_exact_dedup_falls_back_to_the_row_hash(otl):
    titles, texts = [r["Title"] for r in otl[:5]], [r["Description"] for r in otl[:5]]
    a = with_hash(title=titles, description=texts)
    b = with_hash(title=titles[:2] + ["Other"], description=texts[:1] + [texts[1].upper(), texts[2]])
    step = ExactDedup(None, published=[a])
    out, rejected = run(step, [a, b])
    assert [t for x in out for t in x.column("title").to_pylist()] == titles + [titles[1], "Other"]
    assert [(rows.column("title").to_pylist(), r) for rows, r in rejected] == [([titles[0]], "exact_duplicate")]
    with pytest.raises(ValueError, match=r"'_row_sha256'.*columns present: title"):
        ExactDedup().process(pa.RecordBatch.from_pydict({"title": ["x"]}))
