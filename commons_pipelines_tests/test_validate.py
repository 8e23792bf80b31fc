import pyarrow as pa
import pytest

from commons_pipelines.curate.runner import curate
from commons_pipelines.curate.step import Step
from commons_pipelines.validate.runner import record_verdict, run_suite, unvalidated
from commons_pipelines.validate.suites import GENERIC, declared_suite, generic_suite, suites

from .conftest import BDPM, BDPM_COLUMNS


@pytest.fixture
def bdpm(write_spec, tmp_path):
    from commons_pipelines.ingest.readers import read_file

    spec = write_spec("bdpm_checks", licence="etalab-2.0", languages=["fr"], primary_key=["cis"],
                      files={"path": str(BDPM), "format": "tsv",
                             "csv": {"header": False, "columns": BDPM_COLUMNS, "quote_char": None}},
                      expectations=[{"expect_column_values_to_be_in_set": {
                          "column": "reinforced_monitoring", "value_set": ["Oui", "Non"]}}])
    with BDPM.open("rb") as f:
        batches = [b.append_column("_source_file", pa.array(["CIS_bdpm.txt"] * b.num_rows))
                    .append_column("_source_url", pa.array([f"file://{BDPM}"] * b.num_rows))
                    .append_column("_retrieved_at", pa.array([0] * b.num_rows, pa.timestamp("us", tz="UTC")))
                   for b in read_file(f, "CIS_bdpm.txt", spec.files)]
    return spec, batches, tmp_path / "curated" / spec.id


class Tamper(Step):
    """Stands for a bug upstream: overwrites a column after provenance, so the suites have something to catch."""
    name = "tamper"

    def __init__(self, column, value, rows):
        super().__init__()
        self.column, self.value, self.rows = column, value, rows

    def process(self, batch):
        i = batch.schema.get_field_index(self.column)
        values = batch.column(i).to_pylist()
        for r in range(min(self.rows, len(values))):
            values[r] = self.value
        return batch.set_column(i, self.column, pa.array(values, batch.schema.field(i).type))


def test_generic_and_declared_suites_pass_on_real_data_shard_by_shard(bdpm):
    spec, batches, folder = bdpm
    data = curate(spec, batches, folder)
    for name, suite in suites(spec, data.schema).items():  # with the schema: residual PII in each string column
        result = run_suite(data, name, suite, shard_rows=4000)
        assert result.success, result.failures
        assert result.shards == 4 and result.rows == 15756 and result.evaluated == result.successful
        record_verdict(data, result)
    assert unvalidated(data, ["generic", "declared"]) == []


def test_generic_suite_catches_a_closed_licence_and_null_provenance(bdpm):
    from commons_pipelines.curate.runner import default_steps

    spec, batches, folder = bdpm
    data = curate(spec, batches, folder, steps=[*default_steps(spec), Tamper("_licence", "CC-BY-NC-4.0", 3),
                                                  Tamper("_source_url", None, 2)])
    result = run_suite(data, GENERIC, generic_suite(spec))
    assert not result.success
    failed = {(f["expectation"], f["kwargs"].get("column")): f["unexpected_count"] for f in result.failures}
    assert failed == {("expect_column_values_to_be_in_set", "_licence"): 3,
                      ("expect_column_values_to_not_be_null", "_source_url"): 2}
    record_verdict(data, result)
    assert unvalidated(data, [GENERIC]) == ["suite 'generic' failed: expect_column_values_to_be_in_set, "
                                            "expect_column_values_to_not_be_null"]


def test_row_hash_duplicates_across_shards_are_found(bdpm):
    from commons_pipelines.curate.runner import default_steps

    spec, batches, folder = bdpm
    steps = [s for s in default_steps(spec) if s.name != "exact_dedup"]
    data = curate(spec, [*batches, batches[0].slice(0, 7)], folder, steps=steps)  # 7 repeated rows, at the end
    result = run_suite(data, GENERIC, generic_suite(spec), shard_rows=5000)
    dupes = {f["kwargs"].get("column"): f for f in result.failures
             if f["expectation"] == "expect_column_values_to_be_unique"}
    assert not result.success and dupes["_row_sha256"]["shard"] == "all"
    assert dupes["_row_sha256"]["unexpected_count"] == dupes["cis"]["unexpected_count"] == 14  # as GX: both copies


def test_empty_curation_fails_the_row_count(bdpm):
    spec, _, folder = bdpm
    data = curate(spec, [], folder)
    result = run_suite(data, GENERIC, generic_suite(spec))
    assert not result.success and "expect_table_row_count_to_be_between" in result.failed_expectations


def test_a_verdict_counts_only_for_the_curation_it_checked(bdpm):
    spec, batches, folder = bdpm
    first = curate(spec, batches[:1], folder)
    record_verdict(first, run_suite(first, "declared", declared_suite(spec)))
    assert unvalidated(first, ["declared"]) == []
    second = curate(spec, batches[:1], folder)
    assert unvalidated(second, ["declared"]) == [f"suite 'declared' has not run on curation {second.id}"]


def test_residual_personal_data_fails_the_generic_suite_unless_the_column_is_kept(bdpm, write_spec):
    import json

    from commons_pipelines.curate.runner import default_steps

    spec, batches, folder = bdpm
    leak = "pharmacovigilance.contact@example.fr"
    steps = [*default_steps(spec), Tamper("holders", f" Contact: {leak}", 4), Tamper("routes", "+33 6 12 34 56 78", 2)]
    data = curate(spec, batches[:1], folder, steps=steps)
    result = run_suite(data, GENERIC, generic_suite(spec, data.schema))
    failed = {(f["expectation"], f["kwargs"].get("column")): f["unexpected_count"] for f in result.failures}
    assert failed == {("expect_column_values_to_have_no_residual_pii", "holders"): 4,
                      ("expect_column_values_to_have_no_residual_pii", "routes"): 2}
    assert leak not in json.dumps(result.failures) and "12 34 56" not in json.dumps(result.failures)

    kept = write_spec("bdpm_kept", licence="etalab-2.0", languages=["fr"], primary_key=["cis"], files=spec.files.model_dump(),
                      pii={"columns": {"holders": "keep", "routes": "keep"}})
    assert run_suite(data, GENERIC, generic_suite(kept, data.schema)).success
