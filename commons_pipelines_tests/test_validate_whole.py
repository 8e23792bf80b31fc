"""Whole-dataset expectations: judged over every part at once, as GX would judge one frame holding all the rows."""

import json
import math
import os
import subprocess
import sys
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from commons_pipelines.naming import column_name
from commons_pipelines.validate.runner import record_verdict, run_suite, unvalidated, verdict_path
from commons_pipelines.validate.suites import declared_suite, gx_context, gx_module, suites
from commons_pipelines.validate.whole import Table, judge

from .conftest import OTL

E = gx_module().expectations


def _parts(tmp_path, *tables):
    """Curated parts as validation sees them (the fields it reads of `Curated`), one Parquet file per table."""
    folder = tmp_path / "curated"
    (folder / "data").mkdir(parents=True)
    files = []
    for i, table in enumerate(tables):
        files.append(folder / "data" / f"part-{i:05d}.parquet")
        pq.write_table(table, files[-1])
    return SimpleNamespace(folder=folder, id="c1", files=files, schema=tables[0].schema if tables else None)


def _suite(*expectations):
    return gx_module().ExpectationSuite(name="t", expectations=list(expectations))


def _failed(result):
    return {(f["expectation"], f["kwargs"].get("column")): f for f in result.failures}


def test_a_key_repeated_in_another_part_fails_though_each_shard_is_unique(tmp_path):
    data = _parts(tmp_path, pa.table({"id": [1, 2, 3, 4], "lang": ["en", "fr", "en", "fr"]}),
                  pa.table({"id": [5, 6, 7, 1], "lang": ["en", "fr", "en", "en"]}))
    suite = _suite(E.ExpectColumnValuesToBeUnique(column="id"),
                   E.ExpectCompoundColumnsToBeUnique(column_list=["id", "lang"]),
                   E.ExpectColumnValuesToBeUnique(column="lang", mostly=0.0))
    result = run_suite(data, "declared", suite, shard_rows=2)
    failed = _failed(result)
    assert not result.success and set(failed) == {("expect_column_values_to_be_unique", "id"),
                                                  ("expect_compound_columns_to_be_unique", None)}
    assert failed["expect_column_values_to_be_unique", "id"]["unexpected_count"] == 2  # both rows of id 1, as GX
    assert failed["expect_column_values_to_be_unique", "id"]["shard"] == "all"
    assert result.shards == 0 and result.rows == 8 and (result.evaluated, result.successful) == (3, 1)


def test_row_count_bounds_hold_for_the_whole_dataset_not_for_each_shard(tmp_path):
    data = _parts(tmp_path, pa.table({"x": [1, 2, 3, 4]}), pa.table({"x": [5, 6, 7]}))
    ok = run_suite(data, "declared", _suite(E.ExpectTableRowCountToBeBetween(min_value=6, max_value=7),
                                            E.ExpectTableRowCountToEqual(value=7)), shard_rows=2)
    assert ok.success, ok.failures
    too_many = run_suite(data, "declared", _suite(E.ExpectTableRowCountToBeBetween(max_value=7, strict_max=True)))
    assert too_many.failures[0]["observed_value"] == 7 and not too_many.success


def test_aggregates_are_those_of_the_whole_dataset(tmp_path):
    data = _parts(tmp_path, pa.table({"v": [1.0, 1.0, None]}), pa.table({"v": [10.0, 10.0, float("nan")]}))
    suite = _suite(E.ExpectColumnMeanToBeBetween(column="v", min_value=5.5, max_value=5.5),  # shards: 1 and 10
                   E.ExpectColumnSumToBeBetween(column="v", min_value=22, max_value=22),
                   E.ExpectColumnMedianToBeBetween(column="v", min_value=5.5, max_value=5.5),
                   E.ExpectColumnMinToBeBetween(column="v", min_value=1, max_value=1),
                   E.ExpectColumnMaxToBeBetween(column="v", min_value=10, max_value=10),
                   E.ExpectColumnStdevToBeBetween(column="v", min_value=5.19, max_value=5.2),
                   E.ExpectColumnProportionOfNonNullValuesToBeBetween(column="v", min_value=4 / 6, max_value=4 / 6))
    result = run_suite(data, "declared", suite, shard_rows=2)
    assert result.success, result.failures
    low = run_suite(data, "declared", _suite(E.ExpectColumnMeanToBeBetween(column="v", max_value=5.5, strict_max=True)))
    assert low.failures[0]["observed_value"] == 5.5


def test_distinct_values_are_gathered_from_every_shard(tmp_path):
    data = _parts(tmp_path, pa.table({"s": ["a", "b", "a"]}), pa.table({"s": ["c", None, "c"]}))
    suite = _suite(E.ExpectColumnDistinctValuesToEqualSet(column="s", value_set=["a", "b", "c"]),
                   E.ExpectColumnDistinctValuesToContainSet(column="s", value_set=["c", "a"]),
                   E.ExpectColumnUniqueValueCountToBeBetween(column="s", min_value=3, max_value=3),
                   E.ExpectColumnProportionOfUniqueValuesToBeBetween(column="s", min_value=0.6, max_value=0.6),
                   E.ExpectColumnMostCommonValueToBeInSet(column="s", value_set=["a", "c"], ties_okay=True))
    result = run_suite(data, "declared", suite, shard_rows=2)
    assert result.success, result.failures
    wrong = run_suite(data, "declared", _suite(
        E.ExpectColumnDistinctValuesToBeInSet(column="s", value_set=["a", "b"]),
        E.ExpectColumnDistinctValuesToEqualSet(column="s", value_set=["a", "z"])))
    failed = {f["expectation"]: f for f in wrong.failures}
    assert failed["expect_column_distinct_values_to_be_in_set"]["unexpected_count"] == 1
    assert (failed["expect_column_distinct_values_to_equal_set"]["unexpected_count"],
            failed["expect_column_distinct_values_to_equal_set"]["missing_count"]) == (2, 1)


def test_row_level_counts_are_summed_over_shards_before_mostly(tmp_path):
    data = _parts(tmp_path, pa.table({"x": [None, 1, 2, 3], "y": [0, 1, 0, 0]}),
                  pa.table({"x": [4, 5, 60, 70], "y": [4, 0, 0, 0]}))
    suite = _suite(E.ExpectColumnValuesToNotBeNull(column="x", mostly=0.8),  # shard 0 alone: 1 of 2 missing
                   E.ExpectColumnValuesToBeBetween(column="x", min_value=0, max_value=9),
                   E.ExpectColumnValuesToBeInSet(column="x", value_set=[1, 2, 3, 4, 5], mostly=0.7),
                   E.ExpectSelectColumnValuesToBeUniqueWithinRecord(column_list=["x", "y"]))
    result = run_suite(data, "declared", suite, shard_rows=2)
    assert result.shards == 4 and result.rows == 8
    failed = {f["expectation"]: (f["unexpected_count"], f["shards"]) for f in result.failures}
    assert failed == {"expect_column_values_to_be_between": (2, [3]),
                      "expect_select_column_values_to_be_unique_within_record": (2, [0, 2])}


def test_columns_of_the_table(tmp_path):
    data = _parts(tmp_path, pa.table({"a": [1], "b": ["x"]}), pa.table({"a": [2], "b": ["y"]}))
    suite = _suite(E.ExpectTableColumnsToMatchOrderedList(column_list=["a", "b"]),
                   E.ExpectTableColumnsToMatchSet(column_set=["b"], exact_match=False),
                   E.ExpectColumnToExist(column="b", column_index=1),
                   E.ExpectTableColumnCountToEqual(value=2),
                   E.ExpectTableColumnCountToBeBetween(min_value=1, max_value=2))
    assert run_suite(data, "declared", suite).success
    result = run_suite(data, "declared", _suite(E.ExpectTableColumnsToMatchSet(column_set=["a", "c"]),
                                                E.ExpectColumnToExist(column="c")))
    assert [(f["unexpected_count"], f["missing_count"]) for f in result.failures[:1]] == [(1, 1)]
    assert result.failed_expectations == {"expect_table_columns_to_match_set": 1, "expect_column_to_exist": 1}


def test_an_expectation_not_judged_over_the_whole_dataset_fails_the_suite_and_is_refused_in_yaml(tmp_path, write_spec):
    from commons_pipelines.spec import SpecError

    data = _parts(tmp_path, pa.table({"x": [1, 2]}), pa.table({"x": [3, 4]}))
    suite = _suite(E.ExpectColumnQuantileValuesToBeBetween(
                       column="x", quantile_ranges={"quantiles": [0.5], "value_ranges": [[0, 9]]}),
                   E.ExpectColumnValuesToBeIncreasing(column="x"),
                   E.ExpectColumnMaxToBeBetween(column="x", max_value=9, row_condition="x > 1",
                                                condition_parser="pandas"))
    result = run_suite(data, "declared", suite, shard_rows=2)
    assert not result.success and result.successful == 0 and result.shards == 0
    assert all(f["exception"].startswith("not evaluated: ") for f in result.failures)

    spec = write_spec("quantiles", files={"path": str(OTL), "format": "csv"}, expectations=[
        {"expect_column_values_to_not_be_null": {"column": "a"}},
        {"expect_column_values_to_be_increasing": {"column": "a"}}])
    with pytest.raises(SpecError, match=r"field 'expectations\[1\] \(expect_column_values_to_be_increasing\)': "
                                        "not judged shard by shard"):
        declared_suite(spec)


def test_failures_carry_counts_never_values(tmp_path):
    leak = "jane.doe@example.org"
    data = _parts(tmp_path, pa.table({"s": [leak, "b"], "n": ["1", leak]}),
                  pa.table({"s": ["c", "d"], "n": ["2", "3"]}))
    suite = _suite(E.ExpectColumnDistinctValuesToEqualSet(column="s", value_set=["b"]),
                   E.ExpectColumnMinToBeBetween(column="s", min_value=0),  # text against a number: an error
                   E.ExpectColumnMeanToBeBetween(column="n", min_value=0),
                   E.ExpectColumnMostCommonValueToBeInSet(column="s", value_set=["b"]),
                   E.ExpectColumnValuesToBeInSet(column="s", value_set=["b"]),
                   E.ExpectColumnValuesToMatchRegex(column="n", regex="^[0-9]$"))
    result = run_suite(data, "declared", suite, shard_rows=1)
    assert result.evaluated == 6 and result.successful == 0
    assert leak not in json.dumps(result.failures) and "jane" not in json.dumps(result.failures)


def test_a_curation_with_no_rows_has_its_columns_and_row_count_checked(tmp_path):
    data = _parts(tmp_path)
    result = run_suite(data, "declared", _suite(E.ExpectTableRowCountToBeBetween(min_value=1),
                                                E.ExpectColumnValuesToBeUnique(column="id"),
                                                E.ExpectColumnValuesToNotBeNull(column="id")))
    assert result.rows == 0 and result.evaluated == 3 and result.successful == 0
    assert "exception" in _failed(result)["expect_column_values_to_be_unique", "id"]


# Expectations judged here, next to GX's own verdict over the same rows in one pandas frame.
ROWS = {
    "i": pa.array([1, 2, 2, None, 5, 7, 7, 9], pa.int64()),
    "f": pa.array([0.5, float("nan"), 1.5, None, 2.5, 2.5, -1.0, 3.0]),
    "s": pa.array(["a", "b", "a", None, "c", "b", "d", "a"]),
    "k1": pa.array(["x", "x", None, None, "y", "y", None, "x"]),
    "k2": pa.array([1, 1, None, None, 2, 3, 4, None], pa.int64()),
    "n": pa.nulls(8, pa.int64()),
    "d": pa.array([10, 11, 12, None, 14, 15, 16, 17], pa.int32()).cast(pa.date32()),
}


def _cases():
    e = E
    yield from [
        e.ExpectTableRowCountToBeBetween(min_value=8), e.ExpectTableRowCountToBeBetween(min_value=8, strict_min=True),
        e.ExpectTableRowCountToEqual(value=8), e.ExpectTableRowCountToEqual(value=7),
        e.ExpectColumnValuesToBeUnique(column="i"), e.ExpectColumnValuesToBeUnique(column="i", mostly=0.4),
        e.ExpectColumnValuesToBeUnique(column="f"), e.ExpectColumnValuesToBeUnique(column="n"),
        *(e.ExpectCompoundColumnsToBeUnique(column_list=["k1", "k2"], ignore_row_if=how)
          for how in ("all_values_are_missing", "any_value_is_missing", "never")),
        e.ExpectCompoundColumnsToBeUnique(column_list=["k1", "k2"], mostly=0.5),
        e.ExpectColumnMeanToBeBetween(column="i", min_value=4, max_value=5),
        e.ExpectColumnMeanToBeBetween(column="f", min_value=1.5, strict_min=True),
        e.ExpectColumnMedianToBeBetween(column="i", min_value=5, max_value=5),
        e.ExpectColumnMedianToBeBetween(column="f", min_value=1.9, max_value=2.1),
        e.ExpectColumnMinToBeBetween(column="f", min_value=-1, max_value=-1),
        e.ExpectColumnMinToBeBetween(column="s", min_value=0), e.ExpectColumnMinToBeBetween(column="n", min_value=0),
        e.ExpectColumnMaxToBeBetween(column="i", max_value=9, strict_max=True),
        e.ExpectColumnMaxToBeBetween(column="d", min_value="1970-01-17", max_value="1970-01-18"),
        e.ExpectColumnSumToBeBetween(column="i", min_value=33, max_value=33),
        e.ExpectColumnSumToBeBetween(column="n", min_value=0, max_value=0),
        e.ExpectColumnSumToBeBetween(column="f", min_value=9, max_value=9),
        e.ExpectColumnStdevToBeBetween(column="i", min_value=3, max_value=3.2),
        e.ExpectColumnStdevToBeBetween(column="f", min_value=1, max_value=2),
        e.ExpectColumnMeanToBeBetween(column="s", min_value=0),
        e.ExpectColumnDistinctValuesToBeInSet(column="s", value_set=["a", "b", "c"]),
        e.ExpectColumnDistinctValuesToBeInSet(column="i", value_set=[1, 2, 5, 7, 9, 11]),
        e.ExpectColumnDistinctValuesToBeInSet(column="i", value_set=["1", 2, 5, 7, 9]),
        e.ExpectColumnDistinctValuesToContainSet(column="s", value_set=["a", "z", None]),
        e.ExpectColumnDistinctValuesToContainSet(column="f", value_set=[0.5, 3]),
        e.ExpectColumnDistinctValuesToEqualSet(column="s", value_set=["a", "b", "c", "d"]),
        e.ExpectColumnDistinctValuesToEqualSet(column="i", value_set=[1, 2, 5, 7, 8]),
        e.ExpectColumnUniqueValueCountToBeBetween(column="s", min_value=4, max_value=4),
        e.ExpectColumnUniqueValueCountToBeBetween(column="n", min_value=1),
        e.ExpectColumnProportionOfUniqueValuesToBeBetween(column="i", min_value=5 / 7, max_value=5 / 7),
        e.ExpectColumnProportionOfUniqueValuesToBeBetween(column="n", max_value=0),
        e.ExpectColumnProportionOfNonNullValuesToBeBetween(column="f", min_value=0.75, max_value=0.75),
        e.ExpectColumnMostCommonValueToBeInSet(column="s", value_set=["a"]),
        e.ExpectColumnMostCommonValueToBeInSet(column="i", value_set=[2]),
        e.ExpectColumnMostCommonValueToBeInSet(column="i", value_set=[2], ties_okay=True),
        e.ExpectTableColumnsToMatchOrderedList(column_list=list(ROWS)),
        e.ExpectTableColumnsToMatchOrderedList(column_list=["s", "i"]),
        e.ExpectTableColumnsToMatchSet(column_set=["s", "i"]),
        e.ExpectTableColumnsToMatchSet(column_set=["s", "i"], exact_match=False),
        e.ExpectTableColumnsToMatchSet(column_set=["s", "zz"], exact_match=False),
        e.ExpectColumnToExist(column="s"), e.ExpectColumnToExist(column="s", column_index=1),
        e.ExpectColumnToExist(column="s", column_index=2), e.ExpectColumnToExist(column="zz"),
        e.ExpectTableColumnCountToEqual(value=7), e.ExpectTableColumnCountToBeBetween(max_value=6),
        e.ExpectColumnValuesToBeUnique(column="zz"),
    ]


def test_judged_as_gx_judges_one_frame_with_every_row(tmp_path):
    table = pa.table(ROWS)
    data = _parts(tmp_path, table.slice(0, 3), table.slice(3, 4), table.slice(7))
    batch = (gx_context().data_sources.add_or_update_pandas("parity").add_dataframe_asset("all")
             .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": table.to_pandas()}))
    with Table(data.files, data.schema) as t:
        for e in _cases():
            ours, theirs = judge(e, t), batch.validate(e)
            label = f"{e.expectation_type} {e.configuration.kwargs}"
            assert ours.success == theirs.success, label
            result = theirs.result or {}
            observed = result.get("observed_value")
            if isinstance(observed, (int, float)) and not isinstance(observed, bool) and not math.isnan(observed):
                assert ours.observed_value == pytest.approx(observed), label
            if result.get("unexpected_count") is not None:
                assert ours.unexpected_count == result["unexpected_count"], label
            if result.get("missing_count") is not None and "distinct" in e.expectation_type:
                assert ours.missing_count == result["missing_count"], label


def _otl(write_spec, tmp_path, edit=None, expectations=()):
    """The Open Textbook Library catalogue, curated (1112 rows), optionally edited before curation."""
    from commons_pipelines.curate.runner import curate
    from commons_pipelines.ingest.readers import read_file

    spec = write_spec("otl_checks", primary_key=["OTL ID"], files={"path": str(OTL), "format": "csv"},
                      expectations=list(expectations))
    with OTL.open("rb") as f:
        table = pa.Table.from_batches(list(read_file(f, "OTL.csv", spec.files)))
    if edit:
        table = edit(table)
    n = table.num_rows
    table = (table.append_column("_source_file", pa.array(["OTL.csv"] * n))
             .append_column("_source_url", pa.array([f"file://{OTL}"] * n))
             .append_column("_retrieved_at", pa.array([0] * n, pa.timestamp("us", tz="UTC"))))
    return spec, curate(spec, table.to_batches(max_chunksize=300), tmp_path / "curated" / spec.id)


OTL_LICENCES = ["Attribution", "Attribution-NoDerivs", "Attribution-NonCommercial",
                "Attribution-NonCommercial-NoDerivs", "Attribution-NonCommercial-ShareAlike", "Attribution-ShareAlike",
                "Free Documentation License (GNU)", "No Rights Reserved"]


def test_open_textbook_library_passes_over_the_whole_catalogue_in_shards(write_spec, tmp_path):
    spec, data = _otl(write_spec, tmp_path, expectations=[
        {"expect_table_row_count_to_equal": {"value": 1112}},
        {"expect_column_distinct_values_to_equal_set": {"column": "License", "value_set": OTL_LICENCES}},
        {"expect_column_unique_value_count_to_be_between": {"column": "Publisher", "min_value": 300}},
        {"expect_column_proportion_of_unique_values_to_be_between": {"column": "Title", "min_value": 0.95}},
        {"expect_compound_columns_to_be_unique": {"column_list": ["Title", "Copyright Year", "OTL ID"]}},
        {"expect_column_values_to_match_regex": {"column": "Copyright Year", "regex": "^(?:19|20)[0-9]{2}$",
                                                 "mostly": 0.9}},
        {"expect_column_to_exist": {"column": "Description"}}])
    for name, suite in suites(spec, data.schema).items():
        result = run_suite(data, name, suite, shard_rows=300)
        assert result.success, result.failures
        assert result.shards == 4 and result.rows == 1112 and result.evaluated == result.successful
        record_verdict(data, result)
    assert unvalidated(data, ["generic", "declared"]) == []


def test_open_textbook_library_with_a_key_repeated_three_shards_apart_fails(write_spec, tmp_path):
    def repeat_first_id(table):
        i = [column_name(n) for n in table.schema.names].index("otl_id")
        ids = table.column(i).to_pylist()
        ids[-1] = ids[0]
        return table.set_column(i, table.schema.names[i], pa.array(ids))

    spec, data = _otl(write_spec, tmp_path, edit=repeat_first_id)
    result = run_suite(data, "generic", suites(spec, data.schema)["generic"], shard_rows=300)
    assert result.failed_expectations == {"expect_column_values_to_be_unique": 1}
    assert result.failures[0]["kwargs"] == {"column": "otl_id"} and result.failures[0]["unexpected_count"] == 2


def test_the_verdict_is_replaced_whole_and_a_kill_before_it_keeps_the_last_one(tmp_path):
    data = _parts(tmp_path, pa.table({"x": [1, 2]}))
    failing = run_suite(data, "declared", _suite(E.ExpectTableRowCountToEqual(value=3)))
    record_verdict(data, failing)
    before = verdict_path(data, "declared").read_text()
    script = ("import sys; from types import SimpleNamespace; from pathlib import Path\n"
              "from commons_pipelines.validate.runner import SuiteResult, record_verdict\n"
              "data = SimpleNamespace(folder=Path(sys.argv[1]), id='c1')\n"
              "record_verdict(data, SuiteResult(suite='declared', curation='c1', success=True))\n")
    env = {**os.environ, "COMMONS_FAILPOINT": "validate.suite"}
    done = subprocess.run([sys.executable, "-c", script, str(data.folder)], env=env, capture_output=True, check=False)
    assert done.returncode == -9, done.stderr.decode()
    assert verdict_path(data, "declared").read_text() == before
    assert unvalidated(data, ["declared"]) == ["suite 'declared' failed: expect_table_row_count_to_equal"]
    env.pop("COMMONS_FAILPOINT")
    subprocess.run([sys.executable, "-c", script, str(data.folder)], env=env, check=True)
    assert unvalidated(data, ["declared"]) == [] and sorted(p.name for p in (data.folder / "checks").iterdir()) == [
        "declared.json"]
