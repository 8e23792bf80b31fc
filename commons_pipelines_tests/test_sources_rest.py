"""The shipped REST sources, run by the whole nightly job against captured responses of the real APIs (Replay),
all four in one run, to a published version."""

import json

import pyarrow.parquet as pq
import pytest

from commons_pipelines.settings import Settings
from commons_pipelines.spec import CATALOG_DIR, load_catalog, load_spec

from .conftest import SHARED_DATA
from .replay import Replay
from .test_pipeline import published, run_nightly

CAPTURES = SHARED_DATA / "api_captures"
IDS = ["europe_pmc_abstracts", "openalex_works", "wikipedia_summaries", "ai_incidents"]
EPMC = "https://www.ebi.ac.uk/europepmc/webservices/rest/search"
OPENALEX = "https://api.openalex.org/works?filter=from_publication_date:2023-01-01&per_page=50"
WIKI = "https://en.wikipedia.org/api/rest_v1/page/summary"
AIID = "https://incidentdatabase.ai/api/graphql"

# Written by us, in Europe PMC's documented core format: the last page (no nextPageUrl), one CC BY record and one
# without a licence, which `where` leaves out.
EPMC_LAST = {"version": "6.9", "hitCount": 27, "request": {"queryString": "cancer", "resultType": "core"},
             "resultList": {"result": [
                 {"id": "90000001", "source": "MED", "pubYear": "2025", "license": "cc by", "language": "eng",
                  "title": "A record written by the commons-pipelines tests.",
                  "abstractText": "Written by the tests of this project to end the paging of a captured search: "
                                  "this abstract stands for an article published under CC BY."},
                 {"id": "90000002", "source": "MED", "pubYear": "2025", "title": "No licence recorded."}]}}
# Written by us, in OpenAlex's documented list format: the empty page after the last one.
OPENALEX_END = {"meta": {"count": 50, "db_response_time_ms": 1, "page": 2, "per_page": 50, "groups_count": None},
                "results": [], "group_by": []}


def _epmc_core():
    return json.loads((CAPTURES / "europepmc" / "search_cancer_core.json").read_text())


@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rest_sources")
    with Replay() as replay, pytest.MonkeyPatch.context() as env:
        env.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "2")
        env.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")
        core = CAPTURES / "europepmc" / "search_cancer_core.json"
        replay.add(f"{EPMC}?query=cancer&resultType=core&format=json", core)
        replay.add(_epmc_core()["nextPageUrl"], json.dumps(EPMC_LAST))
        replay.add(f"{OPENALEX}&page=1",
                   CAPTURES / "openalex" / "works_filter-from_publication_date-2023-01-01_page-1_per_page-50.json")
        replay.add(f"{OPENALEX}&page=2", json.dumps(OPENALEX_END))
        fixtures = CAPTURES / "wikimedia" / "android_app_fixtures"
        replay.add(f"{WIKI}/Fermat's_Last_Theorem", fixtures / "android_rb_page_summary_valid.json")
        replay.add(f"{WIKI}/Moscow", fixtures / "android_rb_page_summary_geo.json")
        replay.add(AIID, CAPTURES / "aiid" / "graphql_incidents_incidents.json", method="POST")
        catalog = replay.catalog(tmp, IDS)
        settings = Settings.from_env({"COMMONS_HOME": str(tmp / "home"), "COMMONS_ALLOW_LOCAL_URLS": "1"})
        result = run_nightly(load_catalog(catalog), settings)
        yield result, settings, replay


@pytest.fixture(scope="module")
def tables(nightly):
    _, settings, _ = nightly
    return {i: pq.read_table(settings.publish_dir / i / "current" / "data") for i in IDS}


def test_every_rest_source_publishes_v1(nightly):
    result, _, _ = nightly
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    for source_id in IDS:
        assert published(result, source_id)["version"] == "v1", source_id


@pytest.mark.parametrize("source_id", IDS)
def test_provenance_licence_and_attribution(nightly, tables, source_id):
    _, settings, replay = nightly
    spec = load_spec(CATALOG_DIR / f"{source_id}.yaml")
    table = tables[source_id]
    assert table.num_rows > 0
    assert set(table.column("_licence").to_pylist()) == {spec.licence}
    host = spec.config.base_url.split("/", 3)[2]
    for url in set(table.column("_source_url").to_pylist()):
        assert url.startswith(f"{replay.base}/{host}/"), url
    card = (settings.publish_dir / source_id / "current" / "README.md").read_text()
    assert spec.attribution.citation.split(",")[0] in card and spec.licence.lower() in card.lower()


def test_europe_pmc_keeps_the_cc_by_abstracts_of_both_pages_and_only_those(tables):
    table = tables["europe_pmc_abstracts"]
    expected = {r["id"] for r in _epmc_core()["resultList"]["result"]
                if r.get("license") == "cc by" and r.get("abstractText")} | {"90000001"}
    assert set(table.column("id").to_pylist()) == expected and set(table.column("license").to_pylist()) == {"cc by"}
    assert "abstract_text" in table.schema.names


def test_openalex_reads_pages_until_an_empty_one(nightly, tables):
    _, _, replay = nightly
    assert tables["openalex_works"].num_rows == 50
    assert any("page=2" in s for s in replay.seen if "/works" in s)


def test_wikipedia_summaries_are_one_row_per_page(tables):
    table = tables["wikipedia_summaries"]
    assert sorted(table.column("title").to_pylist()) == ["Fermat's Last Theorem", "Moscow"]
    assert all(len(t) > 100 for t in table.column("extract").to_pylist())


def test_ai_incidents_come_from_a_graphql_post(nightly, tables):
    _, _, replay = nightly
    posts = [json.loads(body) for headers, body in replay.received if body]
    assert any("FindIncidents" in p.get("query", "") for p in posts)
    sent = json.loads((CAPTURES / "aiid" / "graphql_incidents_incidents.json").read_text())["data"]["incidents"]
    assert sorted(tables["ai_incidents"].column("incident_id").to_pylist()) == sorted(i["incident_id"] for i in sent)


@pytest.mark.parametrize("source_id", IDS)
def test_commons_check_finds_every_column_the_yaml_names_in_the_landed_schema(nightly, source_id):
    from commons_pipelines.cli.check import check_source

    _, settings, _ = nightly
    problems, notes = check_source(load_spec(CATALOG_DIR / f"{source_id}.yaml"), settings)
    assert problems == [] and any(n.startswith("columns: checked against the landed schema") for n in notes)
