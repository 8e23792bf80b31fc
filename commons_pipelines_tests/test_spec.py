import pytest
import yaml

from commons_pipelines.spec import CATALOG_DIR, SpecError, load_catalog, load_spec
from commons_pipelines.validate.suites import suites

from .conftest import base_spec


def test_every_catalog_file_loads_with_its_suites():
    files = sorted(CATALOG_DIR.glob("*.yaml"))
    specs = load_catalog()
    assert len(files) >= 10 and sorted(specs) == sorted(f.stem for f in files)
    for spec in specs.values():
        assert spec.config.kind == spec.kind and spec.languages and spec.licence
        assert spec.attribution and spec.attribution.citation, f"{spec.id}: every shipped source says whom to credit"
        assert set(suites(spec)) == ({"generic", "declared"} if spec.expectations else {"generic"})
    assert len({s.kind for s in specs.values()}) >= 4 and len({s.domain for s in specs.values()}) >= 4


def _error(tmp_path, source_id="bad_source", text=None, **overrides) -> str:
    path = tmp_path / f"{source_id}.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(base_spec(source_id, **overrides)))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(path) in str(err.value)
    return str(err.value)


FILES = {"path": "data", "format": "csv"}


@pytest.mark.parametrize("overrides, field, allowed", [
    ({"licence": "CC-BY-NC-SA-3.0-IGO", "files": FILES}, "field 'licence'", "CC-BY-4.0"),
    ({"languages": ["english"], "files": FILES}, "field 'languages'", "BCP-47"),
    ({"domain": "sports", "files": FILES}, "field 'domain'", "education"),
    ({"kind": "ftp", "files": FILES}, "field 'kind'", "files"),
    ({}, "field '(top level)'", "'files:' block"),
    ({"files": {"path": "x", "format": "xlsx"}}, "field 'files.format'", "'parquet'"),
    ({"files": {"path": "x", "format": "tsv", "csv": {"header": False}}}, "field 'files.csv'", "'columns'"),
    ({"files": {"path": "x", "format": "csv", "csv": {"encoding": "klingon-8"}}}, "field 'files.csv'", "klingon-8"),
    ({"files": FILES, "publish": {"repo_id": "no-namespace"}}, "field 'publish.repo_id'", "pattern"),
    ({"files": FILES, "schedule": "every night"}, "field 'schedule'", "five fields"),
    ({"files": FILES, "licence_url": "x"}, "field 'licence_url'", "Extra inputs"),
    ({"files": FILES, "rest_api": {"base_url": "https://x.org"}}, "field 'rest_api'", "Extra inputs"),
    ({"kind": "rest_api", "rest_api": {"base_url": "ftp://x.org", "resources": [{"name": "a", "path": "a"}]}},
     "field 'rest_api.base_url'", "not an http(s) URL"),
    ({"kind": "rest_api", "rest_api": {"base_url": "https://x.org", "resources": []}},
     "field 'rest_api.resources'", "at least 1"),
    ({"kind": "rest_api", "rest_api": {"base_url": "https://x.org",
                                       "resources": [{"name": "a", "path": "a", "paginator": "magic"}]}},
     "field 'rest_api.resources.0.paginator'", "json_link"),
    ({"kind": "rest_api", "rest_api": {"base_url": "https://x.org", "auth": {"type": "bearer"},
                                       "resources": [{"name": "a", "path": "a"}]}}, "field 'rest_api.auth'",
     "token_env"),
    ({"kind": "sql", "sql": {"url": "postgresql://me:secret@db/x", "tables": ["t"]}}, "field 'sql'", "url_env"),
    ({"kind": "sql", "sql": {"url_env": "DB_URL"}}, "field 'sql'", "'tables' and 'query'"),
    ({"kind": "ckan", "ckan": {"url": "https://demo.ckan.org", "datasets": False}}, "field 'ckan'", "nothing to land"),
    ({"kind": "hf_dataset", "hf_dataset": {"repo_id": "no-namespace"}}, "field 'hf_dataset.repo_id'", "pattern"),
    ({"files": FILES, "licence": "CC-BY-4.0", "attribution": None}, "field '(top level)'", "requires attribution"),
])
def test_invalid_spec_names_file_field_and_what_is_allowed(tmp_path, overrides, field, allowed):
    message = _error(tmp_path, **overrides)
    assert field in message and allowed in message


def test_id_must_match_file_name(tmp_path):
    path = tmp_path / "other_name.yaml"
    path.write_text(yaml.safe_dump(base_spec("bad_source", files=FILES)))
    with pytest.raises(SpecError, match=r"other_name.yaml: field 'id'"):
        load_spec(path)


def test_yaml_syntax_error_names_the_file(tmp_path):
    assert "not valid YAML" in _error(tmp_path, text="id: [unclosed\n")


def test_unknown_expectation_and_bad_arguments_name_the_field(write_spec):
    spec = write_spec("bad_expect", files=FILES, expectations=[{"expect_rows_to_be_nice": {}}])
    with pytest.raises(SpecError, match=r"bad_expect.yaml: field 'expectations\[0\] \(expect_rows_to_be_nice\)'"):
        suites(spec)
    spec = write_spec("bad_args", files=FILES,
                      expectations=[{"expect_column_values_to_not_be_null": {"column": "a"}},
                                    {"expect_column_values_to_be_between": {"min_value": 1}}])
    with pytest.raises(SpecError, match=r"field 'expectations\[1\] \(expect_column_values_to_be_between\)'"):
        suites(spec)


def test_relative_paths_start_at_the_yaml_folder(write_spec):
    spec = write_spec("relative", files={"path": "../samples", "format": "csv"})
    assert spec.files_location() == str((write_spec.catalog.parent / "samples").resolve())
    assert spec.languages == ["en"]


def test_offline_leaves_out_exactly_the_sources_that_need_the_network():
    from commons_pipelines.spec import offline_split

    specs = load_catalog()
    kept, skipped = offline_split(specs, offline=True)
    assert sorted(kept) == sorted(i for i, s in specs.items() if not s.needs_network)
    assert {"school_notices", "home_care_guides"} <= set(kept) and "fr_medicines" in skipped
    assert skipped["fr_medicines"].startswith("fr_medicines: skipped offline: it reads https://base-donnees-publique")
    assert offline_split(specs, offline=False) == (specs, {})
