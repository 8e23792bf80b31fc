"""The takedown list: entries of each kind, what they match, and entries refused when added."""

import pyarrow as pa
import pytest

from commons_pipelines.columns import row_sha256
from commons_pipelines.curate.takedown import Entry, Takedown, add_entry, load_entries


def rows() -> pa.RecordBatch:
    batch = pa.RecordBatch.from_pydict({
        "notice_id": ["A-1", "A-2", "A-3", "A-4"],
        "text": ["Open day on Monday.", "Ask Jane Holloway about the trip.", "Lunch menu.", "Sports day."],
        "_source_url": ["file:///a.csv", "file:///a.csv", "file:///b.csv", "https://example.org/c.csv"]})
    return batch.append_column("_row_sha256", row_sha256(batch))


def test_each_kind_removes_its_rows_counted_by_reason_and_kept_nowhere():
    batch = rows()
    step = Takedown([Entry("key", {"Notice ID": "A-1"}, "request 1"),
                     Entry("match", "(?i)jane\\s+holloway", "opt-out"),
                     Entry("url", "file:///b.csv", "file withdrawn"),
                     Entry("sha256", batch.column("_row_sha256")[3].as_py(), "request 2")])
    quarantined = []
    out = list(step.run([batch], lambda *args: quarantined.append(args)))
    assert sum(b.num_rows for b in out) == 0 and quarantined == []
    assert dict(step.erased) == {"request 1": 1, "opt-out": 1, "file withdrawn": 1, "request 2": 1}
    assert dict(step.count.removed) == {"takedown": 4}


def test_entries_are_kept_in_a_file_and_bad_ones_refused(tmp_path):
    add_entry(tmp_path, "notices", Entry("key", {"notice_id": "A-1"}, "request 1"), ["notice_id"])
    assert [e.value for e in load_entries(tmp_path, "notices")] == [{"notice_id": "A-1"}]
    assert load_entries(tmp_path, "notices")[0].added  # dated
    for entry, message in [
        (Entry("key", {"title": "x"}, "r"), "every primary-key column"),
        (Entry("match", "(unclosed", "r"), "not an RE2 regular expression"),
        (Entry("sha256", "abc", "r"), "64 hex digits"),
        (Entry("row", "x", "r"), "kind 'row'"),
        (Entry("url", "file:///a.csv", " "), "needs a reason"),
    ]:
        with pytest.raises(ValueError, match=message):
            add_entry(tmp_path, "notices", entry, ["notice_id"])
    assert len(load_entries(tmp_path, "notices")) == 1
    (tmp_path / "notices.jsonl").write_text('{"kind": "key"}\n')
    with pytest.raises(ValueError, match=r"notices\.jsonl, line 1: not a takedown entry"):
        load_entries(tmp_path, "notices")
