"""The `ckan` and `udata` kinds against captured responses of real portals served over local HTTP (Replay): EnviDat
and demo.ckan.org (../shared/data/opendata/ckan), demo.data.gouv.fr (../shared/data/api_captures). Where a capture
lacks what a test needs (a second page, a resource file, an error), the test writes it in the API's documented
format: each such body below is marked "ours"."""

import json
import re

import duckdb
import pyarrow.parquet as pq
import pytest

from commons_pipelines.cli.check import check_source
from commons_pipelines.ingest.http import FetchError
from commons_pipelines.ingest.state import known_files
from commons_pipelines.ingest.warehouse import quarantine_counts, read_records
from commons_pipelines.spec import load_catalog
from commons_pipelines.urls import UrlError

from .conftest import SHARED_DATA
from .replay import Replay
from .test_pipeline import published, run_nightly
from .test_refresh import land

ENVIDAT = SHARED_DATA / "opendata" / "ckan" / "envidat_ch"
DEMO = SHARED_DATA / "opendata" / "ckan" / "demo_ckan_org_2017"
UDATA = SHARED_DATA / "api_captures" / "udata_demo.data.gouv.fr"
ANGERS = "538346d6a3a72906c7ec5c36"
SEARCH = "api/3/action/package_search"


def ckan_page(results, count):  # ours: a package_search answer as CKAN writes it
    return json.dumps({"success": True, "result": {"count": count, "results": results, "sort": "name asc"}})


def udata_page(data, page, next_page):  # ours: the envelope of udata's /api/1/datasets/
    return json.dumps({"data": data, "page": page, "page_size": 10, "total": 19, "next_page": next_page,
                       "previous_page": None, "facets": {}})


def rows(db):
    return [r for b in read_records(db) for r in b.to_pylist()]


def quarantine(db):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select _source_file, position, reason, detail from raw.quarantine order by 2").fetchall()


def test_ckan_pages_with_rows_and_start_and_skips_a_dataset_whose_licence_is_not_open(write_spec, settings):
    show = json.loads((ENVIDAT / "package_show.json").read_text())["result"]  # license_id other-undefined
    with Replay() as replay:
        base = f"https://www.envidat.ch/{SEARCH}?rows=2&sort=name+asc"
        replay.add(f"{base}&start=0", ENVIDAT / "package_search.json")  # the real first page (count 858)
        replay.add(f"{base}&start=2", ckan_page([show], 3))  # ours: a last page
        spec = write_spec("envidat_pages", kind="ckan", ckan={"url": replay.url("https://www.envidat.ch"),
                                                               "page_size": 2})
        db, _ = land(spec, settings)
        assert len(replay.seen) == 2
    got = {r["name"]: r for r in rows(db)}
    real = [r["name"] for r in json.loads((ENVIDAT / "package_search.json").read_text())["result"]["results"]]
    assert sorted(got) == sorted(real) and show["name"] not in got
    for name, row in got.items():
        assert row["_licence"] == "CC-BY-4.0" and row["licence_id"] == "cc-by"
        assert row["_source_url"] == f"{replay.base}/www.envidat.ch/dataset/{name}" == row["url"]
        assert row["title"] and row["description"] and row["organization"] and row["tags"]
        assert json.loads(row["metadata"])["doi"].startswith("10.16904/envidat.")
    assert quarantine_counts(db) == {"closed_licence": 1}
    (file, _, _, detail), = quarantine(db)
    assert file == "datasets" and show["id"] in detail and "other-undefined" in detail


def test_ckan_filters_go_to_package_search_and_licences_narrow_what_is_kept(write_spec, settings):
    fq = '(num_resources:[1 TO *]) AND organization:("sdb" OR "x y") AND tags:("2016")'
    with Replay() as replay:
        replay.add(f"https://demo.ckan.org/{SEARCH}?q=età&fq={fq}&rows=100&start=0&sort=name asc",
                   DEMO / "packages.json")
        spec = write_spec("ckan_filters", kind="ckan", ckan={
            "url": replay.url("https://demo.ckan.org"), "query": "età", "fq": "num_resources:[1 TO *]",
            "organizations": ["sdb", "x y"], "tags": ["2016"], "licences": ["cc-zero"]})
        db, _ = land(spec, settings)
    # the capture holds three datasets: one under other-open (not known to be open), two under cc-by (not selected)
    assert rows(db) == [] and quarantine_counts(db) == {"closed_licence": 1, "licence_not_selected": 2}


def test_udata_follows_next_page_with_the_organization_filter(write_spec, settings):
    real = json.loads((UDATA / f"organization_{ANGERS}_datasets_list.json").read_text())
    notspecified = {"id": "0" * 24, "slug": "written-by-the-tests", "title": "Ours, under no stated licence",
                    "license": "notspecified", "page": "https://demo.data.gouv.fr/fr/datasets/written-by-the-tests/",
                    "resources": [], "tags": [], "organization": None}  # ours
    api = "https://demo.data.gouv.fr/api/1/datasets/"
    with Replay() as replay:
        replay.add(f"{api}?organization={ANGERS}&page_size=10&sort=created",
                   udata_page(real[:10], 1, f"{api}?organization={ANGERS}&page_size=10&sort=created&page=2"))
        replay.add(f"{api}?organization={ANGERS}&page_size=10&sort=created&page=2",
                   udata_page(real[10:] + [notspecified], 2, None))
        spec = write_spec("udata_pages", kind="udata", languages=["fr"], licence="ODbL-1.0", udata={
            "url": replay.url("https://demo.data.gouv.fr"), "organizations": [ANGERS], "page_size": 10})
        db, _ = land(spec, settings)
        assert len(replay.seen) == 2
        got = {r["id"]: r for r in rows(db)}
        assert sorted(got) == sorted(d["id"] for d in real)
        for d in real:
            row = got[d["id"]]
            assert row["_source_url"] == replay.rewrite(d["page"]) and row["_licence"] == "ODbL-1.0"
            assert row["title"] == d["title"] and row["organization"] == "Angers Loire Métropole"
            assert "metrics" not in json.loads(row["metadata"])  # view counters change every day
    (_, position, reason, detail), = quarantine(db)
    assert (position, reason) == ("dataset 19", "closed_licence") and "0" * 24 in detail and "notspecified" in detail


def test_resources_of_matching_datasets_are_read_and_not_fetched_again_when_unchanged(write_spec, settings):
    search = json.loads((DEMO / "packages.json").read_text())["result"]["results"]
    urls = {d["name"]: [r["url"] for r in d["resources"]] for d in search}
    csv_url, = urls["2016-regione-asia-est-oceania-classi-di-eta"]
    with Replay() as replay:
        replay.add(f"https://demo.ckan.org/{SEARCH}", DEMO / "packages.json", any_query=True)
        replay.add(csv_url, "classe,maschi,femmine\n0-14,10,12\n15-64,40,41\n", content_type="text/csv")  # ours
        spec = write_spec("ckan_resources", kind="ckan", ckan={
            "url": replay.url("https://demo.ckan.org"), "datasets": False,
            "resources": {"formats": ["csv"], "format": "csv"}})
        db, plan = land(spec, settings)
        fetched = [s for s in replay.seen if "/download/" in s]
        assert [u.url for u in plan.read] == [replay.url("https://demo.ckan.org"), replay.rewrite(csv_url)]
        got = rows(db)
        assert [r["classe"] for r in got] == ["0-14", "15-64"]
        assert {(r["_licence"], r["_source_url"]) for r in got} == {("CC-BY-4.0", replay.rewrite(csv_url))}
        # the other CSV belongs to a dataset under other-open, the PDF is not a CSV: neither is fetched
        assert len(fetched) == 1 and quarantine_counts(db) == {"closed_licence": 1}

        db, plan = land(spec, settings)
        assert not plan.read and len(plan.checked) == 2 and [r["classe"] for r in rows(db)] == ["0-14", "15-64"]

        replay.add(csv_url, "classe,maschi,femmine\n0-14,11,12\n", content_type="text/csv")  # ours
        db, plan = land(spec, settings)
        assert [u.path for u in plan.read] == [
            "2016-regione-asia-est-oceania-classi-di-eta/a5cd573b-5565-48f1-9b2d-8726004cb020/20161231_rase.csv"]
        assert [r["maschi"] for r in rows(db)] == ["11"]

        replay.add(csv_url, "gone", status=404, content_type="text/plain")
        db, plan = land(spec, settings)
        assert rows(db) == [] and quarantine_counts(db) == {"closed_licence": 1, "unreadable_file": 1}


def test_a_portal_error_names_the_yaml_field_and_public_url_and_changes_nothing(write_spec, settings):
    with Replay() as replay:
        error = json.dumps({"success": False, "error": {"__type": "Search Query Error"}})  # ours, as CKAN writes it
        replay.add(f"https://www.envidat.ch/{SEARCH}", ENVIDAT / "package_search.json", ckan_page([], 2), error,
                   status=[200, 200, 409], any_query=True)
        url = replay.url("https://www.envidat.ch").replace("http://", "http://reader:s3cret@")
        spec = write_spec("envidat_error", kind="ckan", ckan={"url": url, "page_size": 2})
        db, _ = land(spec, settings)
        before, files = rows(db), known_files(db)
        assert len(before) == 2 and all("s3cret" not in r["_source_url"] + r["url"] for r in before)
        with pytest.raises(FetchError) as err:
            land(spec, settings)
    message = str(err.value)
    assert str(spec.origin) in message and "field 'ckan.url'" in message and "HTTP 409" in message
    assert f"{replay.base}/www.envidat.ch/{SEARCH}?" in message and "s3cret" not in message
    assert rows(db) == before and known_files(db) == files


def test_every_host_is_checked_before_it_is_asked(write_spec, settings):
    def refuse(url):
        if "/download/" in url or "refused" in url:
            raise UrlError(f"{url}: refused by the test")

    with Replay() as replay:
        replay.add(f"https://demo.ckan.org/{SEARCH}", DEMO / "packages.json", any_query=True)
        spec = write_spec("ckan_refused", kind="ckan", ckan={
            "url": replay.url("https://demo.ckan.org"), "resources": {"formats": ["csv"], "format": "csv"}})
        db, _ = land(spec, settings, check=refuse)  # the API is allowed, the resource's host is not
        assert not [s for s in replay.seen if "/download/" in s]
        assert quarantine_counts(db) == {"closed_licence": 1, "unreadable_file": 1} and len(rows(db)) == 2
        refused = write_spec("ckan_refused_api", kind="ckan", ckan={"url": replay.url("https://refused.example")})
        with pytest.raises(FetchError, match="field 'ckan.url'.*refused by the test"):
            land(refused, settings, check=refuse)
        assert not [s for s in replay.seen if "refused" in s]


def test_a_503_is_retried_by_dlts_client(write_spec, settings):
    with Replay() as replay:
        replay.add(f"https://demo.ckan.org/{SEARCH}", "busy", DEMO / "packages.json", status=[503, 200],
                   headers={"Retry-After": "1"}, any_query=True)
        spec = write_spec("ckan_retry", kind="ckan", ckan={"url": replay.url("https://demo.ckan.org")})
        db, _ = land(spec, settings)
        assert len(replay.seen) == 2 and len(rows(db)) == 2


def test_envidat_and_data_gouv_publish_from_recorded_responses(tmp_path, settings):
    show = json.loads((ENVIDAT / "package_show.json").read_text())["result"]
    angers = json.loads((UDATA / f"organization_{ANGERS}_datasets_list.json").read_text())
    with Replay() as replay:
        # the real first page; ours: a page with the real package_show record (other-undefined), then an empty one
        replay.add(f"https://www.envidat.ch/{SEARCH}", ENVIDAT / "package_search.json", ckan_page([show], 859),
                   ckan_page([], 859), any_query=True)
        # ours: the udata envelope around the organization's real datasets (the capture has no search page)
        replay.add("https://www.data.gouv.fr/api/1/datasets/", udata_page(angers, 1, None), any_query=True)
        specs = load_catalog(replay.catalog(tmp_path, ["envidat", "data_gouv_angers"]))
        result = run_nightly(specs, settings)
        assert f"GET www.data.gouv.fr/api/1/datasets/?organization={ANGERS}&page_size=100&sort=created" in replay.seen
    assert result.success
    emails = set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", (ENVIDAT / "package_search.json").read_text()))
    assert len(emails) > 10
    pages = {"envidat": f"{replay.base}/www.envidat.ch/dataset/",
             "data_gouv_angers": "https://demo.data.gouv.fr/fr/datasets/"}
    for source_id, n, licence in (("envidat", 2, "CC-BY-4.0"), ("data_gouv_angers", len(angers), "ODbL-1.0")):
        assert published(result, source_id)["version"] == "v1"
        folder = settings.publish_dir / source_id / "current"
        table = pq.read_table(folder / "data")
        assert table.num_rows == n and set(table.column("_licence").to_pylist()) == {licence}
        assert all(u.startswith(pages[source_id]) for u in table.column("_source_url").to_pylist())
        text = str(table.to_pylist())
        assert not [e for e in emails if e in text]
        card = (folder / "README.md").read_text()
        assert specs[source_id].attribution.citation in card
        problems, _ = check_source(specs[source_id], settings)  # every column the YAML names has landed
        assert problems == []
