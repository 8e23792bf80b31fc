"""The rest_api kind against captured responses of real APIs, served over local HTTP by Replay, through dlt."""

import json
from functools import partial

import pyarrow as pa
import pytest

from commons_pipelines.curate.pii.detect import contains
from commons_pipelines.ingest.http import FetchError
from commons_pipelines.ingest.state import known_files
from commons_pipelines.ingest.warehouse import quarantine_counts, read_records
from commons_pipelines.spec import SpecError
from commons_pipelines.urls import check_host

from .conftest import SHARED_DATA, readable
from .replay import Replay
from .test_pipeline import run_nightly
from .test_refresh import land

CAPTURES = SHARED_DATA / "api_captures"
GHO = "https://ghoapi.azureedge.net/api"
EPMC = "https://www.ebi.ac.uk/europepmc/webservices/rest"
TOKEN = "tok-3f9a1c2b7d0e-never-written"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    """dlt's own retry settings, small: 3 attempts, no backoff, Retry-After capped at 0.2 s."""
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "0.2")


@pytest.fixture
def replay():
    with Replay() as r:
        yield r


def api(write_spec, replay, base, resources, source_id="api", **extra):
    """A rest_api source at the replay of `base`."""
    replay.hosts.add(base.split("/")[2])
    return write_spec(source_id, kind="rest_api", rest_api={"base_url": replay.rewrite(base), "resources": resources,
                                                            **extra.pop("rest_api", {})}, **extra)


def rows(db) -> list[dict]:
    return [r for b in read_records(db) for r in b.to_pylist()]


def table(db) -> pa.Table:
    return pa.Table.from_batches(list(read_records(db)))


def test_who_gho_odata_lands_one_row_per_record_and_numbers_stay_numbers(write_spec, replay, settings):
    """The ~90 KB OData answer: every item of `value` is a row; numbers land as numbers, and no value reads as a
    phone number (numbers taken for phones was the bug reported). GHO is not open (CC BY-NC-SA 3.0 IGO): this
    test lands it and publishes nothing; the licence here is only the test helper's default."""
    capture = CAPTURES / "who_gho_odata" / "HEPATITIS_HBV_DEATHS_NUM.json"
    replay.add(f"{GHO}/HEPATITIS_HBV_DEATHS_NUM", capture)
    spec = api(write_spec, replay, GHO, [{"name": "hbv_deaths", "path": "HEPATITIS_HBV_DEATHS_NUM",
                                          "record_path": "value", "paginator": "single_page"}])
    db, plan = land(spec, settings)
    expected = json.loads(capture.read_text())["value"]
    got = table(db)
    assert got.num_rows == len(expected) == 159 and not quarantine_counts(db)
    assert sorted(got.column("id").to_pylist()) == sorted(r["Id"] for r in expected)
    assert pa.types.is_floating(got.schema.field("numeric_value").type)
    assert pa.types.is_integer(got.schema.field("time_dim").type)
    strings = [f.name for f in got.schema if pa.types.is_string(f.type)]
    assert "value" in strings
    for name in strings:
        assert not any(contains(got.column(name).combine_chunks(), ["PHONE"], ["US", "GB"]).to_pylist()), name
    url = replay.url(f"{GHO}/HEPATITIS_HBV_DEATHS_NUM")
    assert set(got.column("_source_url").to_pylist()) == {url} and plan.listed[0].url == url


def test_a_licence_that_is_not_open_is_refused_for_an_api_source(write_spec, replay):
    with pytest.raises(SpecError, match=r"field 'licence': 'CC-BY-NC-SA-3.0-IGO' is not an open licence"):
        api(write_spec, replay, GHO, [{"name": "hbv", "path": "HEPATITIS_HBV_DEATHS_NUM"}],
            licence="CC-BY-NC-SA-3.0-IGO")


# Written by us: a last page in Europe PMC's documented search format (no nextPageUrl: the end of the results).
LAST_PAGE = {"version": "6.9", "hitCount": 27, "request": {"queryString": "cancer", "resultType": "lite"},
             "resultList": {"result": [
                 {"id": "90000001", "source": "MED", "title": "A page written by the commons-pipelines tests."},
                 {"id": "90000002", "source": "MED", "title": "Its second record."}]}}


def europe_pmc(write_spec, replay, **extra):
    first = CAPTURES / "europepmc" / "search_cancer.json"
    replay.add(f"{EPMC}/search?query=cancer&format=json", first)
    replay.add(json.loads(first.read_text())["nextPageUrl"], json.dumps(LAST_PAGE))
    return api(write_spec, replay, EPMC, [{
        "name": "search", "path": "search", "params": {"query": "cancer", "format": "json"},
        "record_path": "resultList.result", "paginator": {"type": "json_link", "next_url_path": "nextPageUrl"}}],
        primary_key=["id"], **extra)


def test_pages_are_followed_to_the_last(write_spec, replay, settings):
    spec = europe_pmc(write_spec, replay)
    db, _ = land(spec, settings)
    got = rows(db)
    assert len(got) == 27 and len(replay.seen) == 2
    assert "cursorMark=AoIIP4ZawSg1MzEyODI1MA" in replay.seen[1]
    assert {r["id"] for r in got} >= {"90000001", "90000002"}


def test_max_pages_bounds_the_pages_read(write_spec, replay, settings):
    spec = europe_pmc(write_spec, replay, rest_api={"max_pages": 1})
    db, _ = land(spec, settings)
    assert len(rows(db)) == 25 and len(replay.seen) == 1


def test_a_bearer_token_reaches_the_api_and_is_written_nowhere(write_spec, replay, settings, monkeypatch):
    monkeypatch.setenv("GHO_TOKEN", TOKEN)
    replay.add(f"{GHO}/HEPATITIS_HBV_DEATHS_NUM", CAPTURES / "who_gho_odata" / "HEPATITIS_HBV_DEATHS_NUM.json")
    spec = api(write_spec, replay, GHO, [{"name": "hbv", "path": "HEPATITIS_HBV_DEATHS_NUM", "record_path": "value"}],
               rest_api={"auth": {"type": "bearer", "token_env": "GHO_TOKEN"}})
    db, _ = land(spec, settings)
    assert replay.received[0][0]["Authorization"] == f"Bearer {TOKEN}"
    assert len(rows(db)) == 159
    replay.add(f"{GHO}/HEPATITIS_HBV_DEATHS_NUM", "{}", status=500)
    with pytest.raises(FetchError) as failed:
        land(spec, settings)
    written = [p for p in settings.home.rglob("*") if p.is_file()]
    assert written and not [p for p in written if TOKEN in readable(p)]
    assert TOKEN not in str(failed.value) and "hbv" in str(failed.value)


def test_a_missing_token_variable_names_the_yaml_and_the_field(write_spec, replay, settings, monkeypatch):
    monkeypatch.delenv("GHO_TOKEN", raising=False)
    spec = api(write_spec, replay, GHO, [{"name": "hbv", "path": "x"}],
               rest_api={"auth": {"type": "api_key", "token_env": "GHO_TOKEN", "location": "query", "name": "key"}})
    with pytest.raises(SpecError, match=r"api\.yaml: field 'rest_api\.auth\.token_env': .*GHO_TOKEN is not set"):
        land(spec, settings)
    assert not replay.seen
    result = run_nightly({spec.id: spec}, settings)  # in Dagster: one line, at once, not retried as the network
    [failure] = [e for e in result.all_events if e.is_step_failure]
    error = failure.event_specific_data.error
    assert error.cls_name == "Failure" and "field 'rest_api.auth.token_env'" in error.message
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]


def test_a_local_address_is_refused_before_any_request(write_spec, replay, settings):
    replay.add(f"{GHO}/x", "{}")
    spec = api(write_spec, replay, GHO, [{"name": "x", "path": "x"}])
    with pytest.raises(FetchError, match=r"api\.yaml: field 'rest_api\.base_url': .*loopback"):
        land(spec, settings, check=partial(check_host, allow_local=False))
    assert not replay.seen


def test_a_429_is_retried(write_spec, replay, settings):
    capture = CAPTURES / "who_gho_odata" / "HEPATITIS_HCV_DEATHS_NUM.json"
    replay.add(f"{GHO}/HEPATITIS_HCV_DEATHS_NUM", '{"error": "slow down"}', capture, status=[429, 200],
               headers={"Retry-After": "1"})
    spec = api(write_spec, replay, GHO, [{"name": "hcv", "path": "HEPATITIS_HCV_DEATHS_NUM", "record_path": "value"}])
    db, _ = land(spec, settings)
    assert len(replay.seen) == 2 and len(rows(db)) == len(json.loads(capture.read_text())["value"])


def test_a_500_that_persists_fails_naming_yaml_resource_and_url_and_changes_nothing(write_spec, replay, settings):
    spec = europe_pmc(write_spec, replay)
    db, _ = land(spec, settings)
    before, files = rows(db), known_files(db)
    replay.add(f"{EPMC}/search?query=cancer&format=json", "upstream down", status=500, content_type="text/plain")
    with pytest.raises(FetchError) as failed:
        land(spec, settings)
    message = str(failed.value)
    assert str(spec.origin) in message and "resource 'search'" in message and "HTTP 500" in message
    assert f"{replay.url(EPMC + '/search')}?format=json&query=cancer" in message
    assert replay.seen.count(replay.seen[-1]) >= 3  # dlt retried it
    assert rows(db) == before and known_files(db) == files


# Written by us: an API that returns records updated after `since`, newest last.
FIRST = {"items": [{"id": 1, "text": "first", "updated": "2024-02-01"},
                   {"id": 2, "text": "second", "updated": "2024-03-01"}]}
SECOND = {"items": [{"id": 2, "text": "second, edited", "updated": "2024-04-01"},
                    {"id": 3, "text": "third", "updated": "2024-03-15"},
                    "not a record"]}


def test_incremental_reads_from_the_last_cursor_and_a_record_sent_again_replaces_its_copy(write_spec, replay,
                                                                                         settings):
    base = "https://api.example.org/v1"
    replay.add(f"{base}/notes?since=2024-01-01", json.dumps(FIRST))
    replay.add(f"{base}/notes?since=2024-03-01", json.dumps(SECOND))
    spec = api(write_spec, replay, base, [{
        "name": "notes", "path": "notes", "record_path": "items", "paginator": "single_page",
        "incremental": {"cursor_path": "updated", "start_param": "since", "initial_value": "2024-01-01"}}],
        primary_key=["id"])
    db, _ = land(spec, settings)
    assert known_files(db)["notes"].cursor == "2024-03-01"
    db, _ = land(spec, settings)
    assert replay.seen[-1].endswith("/notes?since=2024-03-01")
    assert {r["id"]: r["text"] for r in rows(db)} == {1: "first", 2: "second, edited", 3: "third"}
    assert known_files(db)["notes"].cursor == "2024-04-01"
    assert quarantine_counts(db) == {"not_an_object": 1}
    replay.add(f"{base}/notes?since=2024-04-01", json.dumps({"items": []}))
    db, _ = land(spec, settings)
    assert replay.seen[-1].endswith("/notes?since=2024-04-01")
    assert len(rows(db)) == 3 and quarantine_counts(db) == {"not_an_object": 1}, "earlier entries stay"
    assert known_files(db)["notes"].cursor == "2024-04-01"
