"""What the `ckan` and `udata` kinds share: a portal's dataset search becomes one unit `datasets` (a row per dataset:
id, name, title, description, organization, tags, licence_id, url, modified flattened, the rest kept as JSON in
`metadata`) and, with `resources:`, one unit per resource file of a matching format.

Decisions:
- The listing asks the API for every matching dataset (dlt's RESTClient with its paginators and retries; the host of
  every request and redirect is checked first) and writes them to the work folder. The unit's sha256 is that of what
  was written, so unchanged metadata is not read again. Counters that move every day (views, visits) are dropped
  first, or every night would publish a new version.
- A dataset's licence is mapped with licences.portal_licence(): an open one goes in each of its rows' `_licence`
  (SPDX), with `_source_url` the dataset's page on the portal; a closed or unknown one is skipped and counted as a
  `closed_licence` quarantine entry of the unit `datasets` (also with `datasets: false`), and its resources are not
  listed. A `licences:` list narrows the accepted ids; the others are counted as `licence_not_selected`.
- Resource files are fetched like the `files` kind's remote file (conditional GET, sha256 of the bytes) and read with
  its readers; their rows carry the resource URL and their dataset's licence. A resource the server answers with 4xx
  (a dead link, common on portals) or on a host that may not be read (`check`) is listed as unreadable: its rows go,
  one `unreadable_file` entry says why. Any other failure (the API, the network, a 5xx) fails the ingest with the
  YAML, the field and the public URL, before anything is loaded, so the warehouse stays as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlencode, urlsplit

import pyarrow as pa
import requests
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator

from ..columns import LICENCE, SOURCE_URL
from ..licences import portal_licence
from ..spec import SourceSpec
from ..urls import UrlError, public_url
from .http import FetchError, checked_session, fetch
from .listing import Known, Listed, Plan, compare
from .readers import UNREADABLE, Quarantined, Unreadable, open_stream, read_file, records, select

DATASETS = "datasets"
CLOSED, NOT_SELECTED = "closed_licence", "licence_not_selected"
VOLATILE = frozenset({"metrics", "tracking_summary"})  # views and visits: they change every day, the data does not
ATTEMPTS = 4  # dlt's retries of a request on 429, 5xx and dropped connections (backoff 1, 2, 4 s or Retry-After)
CHUNK = 1000

Search = Callable[[SourceSpec, "Pages"], Iterator]
Flatten = Callable[[SourceSpec, dict], dict]


@dataclass
class Unit(Listed):
    licence: str | None = None  # a resource's: its dataset's licence (SPDX)
    error: str | None = None  # a resource the server refused (HTTP 4xx)


def field(spec: SourceSpec, name: str = "url") -> str:
    return f"{spec.origin}: field '{spec.kind}.{name}'"


class Pages:
    """The portal's API through dlt's REST client: every request's host (and every redirect's) checked first, errors
    raised as FetchError naming the YAML, the field and the public URL."""

    def __init__(self, spec: SourceSpec, check: Callable[[str], None]) -> None:
        session = checked_session(Client(raise_for_status=False, request_max_attempts=ATTEMPTS, request_backoff_factor=1,
                                         request_max_retry_delay=30).session, check)
        self.spec = spec
        self.client = RESTClient(base_url=spec.config.url, session=session)

    def __call__(self, path: str, params: dict, paginator: BasePaginator, selector: str) -> Iterator[list]:
        """Every page of records of the search at `path`."""
        url = self.client.base_url.rstrip("/") + "/" + path.lstrip("/") + "?" + urlencode(params)
        try:
            for page in self.client.paginate(path, params=params, paginator=paginator, data_selector=selector):
                try:
                    select(page.response.json(), selector, "the answer")
                except Unreadable as err:
                    raise FetchError(f"{field(self.spec)}: {public_url(page.response.url)} did not answer as a "
                                     f"{self.spec.kind} API: {err}") from None
                yield page
        except requests.HTTPError as err:
            answer = err.response
            raise FetchError(f"{field(self.spec)}: the portal's API failed at {public_url(answer.url)}: "
                             f"HTTP {answer.status_code} {answer.reason}") from None
        except (requests.RequestException, UrlError, OSError, ValueError) as err:  # messages may hold secrets
            url = getattr(getattr(err, "request", None), "url", None) or url
            said = f": {err}" if isinstance(err, UrlError) else ""
            raise FetchError(f"{field(self.spec)}: the portal's API failed at {public_url(url)}: "
                             f"{type(err).__name__}{said}") from None


def _steady(value):
    if isinstance(value, dict):
        return {k: _steady(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_steady(v) for v in value]
    return value


def metadata(record: dict, flat: Iterable[str]) -> str:
    """The record's fields not flattened, as JSON."""
    return json.dumps({k: v for k, v in record.items() if k not in flat}, ensure_ascii=False, sort_keys=True)


def tags(values) -> str | None:
    names = [t.get("name") if isinstance(t, dict) else t for t in values or []]
    return ", ".join(str(n) for n in names if n) or None


def _accepted(spec: SourceSpec, licence_id: str | None) -> tuple[str | None, str | None]:
    """(SPDX id, None) for a licence the source takes, else (None, the quarantine reason)."""
    spdx = portal_licence(licence_id)
    if spdx is None:
        return None, CLOSED
    wanted = spec.config.licences
    if wanted and (licence_id or "").strip().lower() not in {w.strip().lower() for w in wanted}:
        return None, NOT_SELECTED
    return spdx, None


def _resources(spec: SourceSpec, record: dict) -> Iterator[tuple[str, str]]:
    """(resource id, url) of the record's resources in the formats asked for."""
    formats = {f.strip().lower() for f in spec.config.resources.formats}
    for r in record.get("resources") or []:
        if isinstance(r, dict) and str(r.get("format") or "").strip().lower() in formats and r.get("url"):
            yield str(r.get("id") or hashlib.sha256(r["url"].encode()).hexdigest()[:16]), r["url"]


def plan(spec: SourceSpec, known: dict[str, Known], work: Path, check: Callable[[str], None], search: Search,
         flatten: Flatten) -> Plan:
    cfg = spec.config
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"{DATASETS}.jsonl"
    digest, wanted = hashlib.sha256(), []
    with open(path, "w", encoding="utf-8") as out:
        for n, record in enumerate(search(spec, Pages(spec, check))):
            if cfg.max_datasets and n >= cfg.max_datasets:
                break
            line = {"record": record}
            if isinstance(record, dict):
                record = _steady(record)
                row = flatten(spec, record)
                spdx, why = _accepted(spec, row.get("licence_id"))
                line = {"row": row, "licence": spdx, "skip": why}
                if spdx and cfg.resources:
                    wanted += [(row["name"] or row["id"], rid, url, spdx) for rid, url in _resources(spec, record)]
            text = json.dumps(line, ensure_ascii=False, sort_keys=True, default=str) + "\n"
            digest.update(text.encode())
            out.write(text)
    listed = [Unit(path=DATASETS, url=location(spec), sha256=digest.hexdigest(), open_path=path)]
    listed += _fetch_resources(spec, wanted[:cfg.resources.max_files] if cfg.resources else [], known, work, check)
    return compare(listed, known)


def _fetch_resources(spec: SourceSpec, wanted: list, known: dict[str, Known], work: Path,
                     check: Callable[[str], None]) -> list[Unit]:
    units = []
    for dataset, rid, url, spdx in wanted:
        name = PurePosixPath(unquote(urlsplit(url).path)).name or "index"
        path = f"{dataset}/{rid}/{name}"
        before = known.get(path)
        ok = before is not None and before.current
        dest = work / "resources" / re.sub(r"[^\w.-]", "_", f"{dataset}-{rid}-{name}")
        unit = Unit(path=path, url=public_url(url), licence=spdx)
        try:
            got = fetch(url, dest, check, etag=before.etag if ok else None,
                        last_modified=before.last_modified if ok else None)
        except (FetchError, UrlError) as err:
            if isinstance(err, FetchError) and not str(err).startswith("HTTP 4"):
                raise FetchError(f"{field(spec, 'resources')}: cannot fetch {public_url(url)}: {err}") from None
            unit.error, unit.open_path = str(err), dest  # a dead or refused link: its rows go, one entry says why
            unit.sha256 = hashlib.sha256(unit.error.encode()).hexdigest()
        except (requests.RequestException, OSError) as err:  # requests' messages may hold secrets
            raise FetchError(f"{field(spec, 'resources')}: cannot fetch {public_url(url)}: "
                             f"{type(err).__name__}") from None
        else:
            unit.size, unit.etag, unit.last_modified = got.size, got.etag, got.last_modified
            unit.sha256, unit.open_path = got.sha256 or (before.sha256 if before else None), got.path
        units.append(unit)
    return units


def location(spec: SourceSpec) -> str:
    """The portal's address, without credentials."""
    return public_url(spec.config.url)


def read(spec: SourceSpec, unit: Unit, notes: dict) -> Iterator:
    if unit.path != DATASETS:
        yield from _read_resource(spec, unit, notes)
        return
    renamed = notes.setdefault("renamed", {})
    chunk: list[dict] = []
    first = 1

    def flush() -> Iterator:
        for part in records([c["row"] if "row" in c else c["record"] for c in chunk], DATASETS, renamed, first,
                            "dataset"):
            if isinstance(part, list):
                for row in part:
                    row[SOURCE_URL] = row.get("url") or unit.url
                    row[LICENCE] = portal_licence(row.get("licence_id"))
            yield part

    with open(unit.open_path, encoding="utf-8") as lines:
        for n, text in enumerate(lines, 1):
            line = json.loads(text)
            if line.get("skip"):
                yield from flush()
                chunk, first = [], n + 1
                row = line["row"]
                yield Quarantined(DATASETS, f"dataset {n}", line["skip"],
                                  f"dataset {row.get('id')}: licence {row.get('licence_id')!r} is not accepted",
                                  json.dumps({k: row.get(k) for k in ("id", "name", "licence_id")}))
                continue
            if "row" in line and not spec.config.datasets:
                continue
            chunk.append(line)
            if len(chunk) >= CHUNK:
                yield from flush()
                chunk, first = [], n + 1
    yield from flush()


def _read_resource(spec: SourceSpec, unit: Unit, notes: dict) -> Iterator:
    if unit.error:
        yield Quarantined(unit.path, "byte 0", UNREADABLE, f"{unit.url}: {unit.error}", "")
        return
    with open(unit.open_path, "rb") as raw:
        for part in read_file(open_stream(raw, unit.path, "auto"), unit.path, spec.config.resources, notes):
            if isinstance(part, list):
                part = [{**r, LICENCE: unit.licence} for r in part]
            elif not isinstance(part, Quarantined):
                part = part.append_column(pa.field(LICENCE, pa.string()), pa.array([unit.licence] * part.num_rows,
                                                                                    pa.string()))
            yield part
