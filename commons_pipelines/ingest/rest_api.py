"""The `rest_api` kind: JSON APIs read with dlt's REST client, one unit per resource.

Decisions:
- Pages are fetched while planning, with dlt's `RESTClient` and paginators (`paginator` is given to dlt as written,
  `record_path` is dlt's data_selector), and written to the work folder; `read` turns them into rows. So an HTTP
  failure (refused, a 4xx, a 429 or 5xx still failing after dlt's retries) is a `FetchError` before dlt loads
  anything: the warehouse keeps the previous rows, and Dagster retries the step as a network failure. The error
  names the YAML, the resource and the public URL; never a response body, header or credential.
- Retries, backoff (honouring Retry-After) and timeouts are dlt's, configured as dlt's are
  (RUNTIME__REQUEST_MAX_ATTEMPTS, RUNTIME__REQUEST_BACKOFF_FACTOR, RUNTIME__REQUEST_MAX_RETRY_DELAY,
  RUNTIME__REQUEST_TIMEOUT). Every request, page link and redirect is checked (`check`) before it is sent.
- Credentials come from the environment variables the YAML names; a missing one is a SpecError naming the field.
- A resource has no digest of its content: the runner hashes what was read, so an unchanged answer keeps the
  data version.
- Incremental resources do not use dlt's incremental state (dlt commits it with the load, before `reconcile`: a
  crash in between would skip records for ever). The unit is `append`; the read starts at its recorded cursor (or
  `initial_value`), sent as `start_param`, and `read` reports the largest cursor value seen, which `reconcile`
  records in the same transaction as the rows.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import requests
from dlt.common import jsonpath
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs import RuntimeConfiguration
from dlt.sources.helpers.requests.retry import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.utils import join_url
from dlt.sources.rest_api.config_setup import create_auth, create_paginator

from ..spec import Endpoint, SourceSpec, SpecError
from ..urls import UrlError, public_url
from .http import FetchError, checked_session
from .listing import Known, Listed, Plan
from .readers import records

__all__ = ["location", "plan", "read"]


def location(spec: SourceSpec) -> str:
    return public_url(spec.config.base_url)


def endpoint_url(spec: SourceSpec, ep: Endpoint) -> str:
    """The resource's public URL: base_url, path and the YAML's own parameters (not the cursor, no credentials)."""
    url = join_url(spec.config.base_url, ep.path)
    return public_url(f"{url}?{urlencode(ep.params)}" if ep.params else url)


def _secret(spec: SourceSpec, field: str) -> str:
    name = getattr(spec.config.auth, field)
    value = os.environ.get(name)
    if not value:
        raise SpecError(f"{spec.origin}: field 'rest_api.auth.{field}': the environment variable {name} is not set")
    return value


def _auth(spec: SourceSpec):
    auth = spec.config.auth
    if auth is None:
        return None
    if auth.type == "bearer":
        return create_auth({"type": "bearer", "token": _secret(spec, "token_env")})
    if auth.type == "api_key":
        return create_auth({"type": "api_key", "name": auth.name, "location": auth.location,
                            "api_key": _secret(spec, "token_env")})
    return create_auth({"type": "http_basic", "username": _secret(spec, "username_env"),
                        "password": _secret(spec, "password_env")})


def _session(check: Callable[[str], None]) -> requests.Session:
    """dlt's retrying session, configured from dlt's runtime settings, that checks every URL before sending."""
    client = Client(raise_for_status=False)
    client.update_from_config(resolve_configuration(RuntimeConfiguration()))
    return checked_session(client.session, check)


def plan(spec: SourceSpec, known: dict[str, Known], work: Path, check: Callable[[str], None]) -> Plan:
    cfg = spec.config
    try:
        check(cfg.base_url)
    except (UrlError, OSError) as err:  # OSError: the host does not resolve
        raise FetchError(f"{spec.origin}: field 'rest_api.base_url': {err}") from None
    auth = _auth(spec)
    client = RESTClient(cfg.base_url, headers=dict(cfg.headers), auth=auth, session=_session(check))
    listed = []
    for ep in cfg.resources:
        before = known.get(ep.name)
        start = None
        if ep.incremental:
            start = before.cursor if before and before.cursor is not None else ep.incremental.initial_value
        unit = Listed(path=ep.name, url=endpoint_url(spec, ep), open_path=work / ep.name,
                      append=ep.incremental is not None, cursor=None if start is None else str(start))
        _fetch(spec, client, ep, unit)
        listed.append(unit)
    names = {u.path for u in listed}
    return Plan(listed, read=list(listed), vanished=sorted(p for p in known if p not in names))


def _fetch(spec: SourceSpec, client: RESTClient, ep: Endpoint, unit: Listed) -> None:
    """Every page of one resource, as the JSON list of its records, into unit.open_path/<n>.json."""
    shutil.rmtree(unit.open_path, ignore_errors=True)
    unit.open_path.mkdir(parents=True)
    params = dict(ep.params)
    if unit.cursor is not None:
        params[ep.incremental.start_param] = unit.cursor
    paginator = create_paginator(dict(ep.paginator) if isinstance(ep.paginator, dict) else ep.paginator)
    number = 0
    where = f"{spec.origin}: resource '{ep.name}': cannot fetch {unit.url}"
    try:
        pages = client.paginate(ep.path, method=ep.method, params=params, json=ep.json_body, paginator=paginator,
                                data_selector=ep.record_path)
        for number, page in enumerate(pages, 1):
            if ep.record_path and not jsonpath.find_values(ep.record_path, page.response.json()):
                body = page.response.json()
                got = f"keys {', '.join(list(body)[:8])}" if isinstance(body, dict) else type(body).__name__
                raise FetchError(f"{where}: page {number} has no record path {ep.record_path!r} ({got})")
            (unit.open_path / f"{number:06d}.json").write_text(json.dumps(list(page)), encoding="utf-8")
            if spec.config.max_pages and number >= spec.config.max_pages:
                break
    except FetchError:
        raise
    except requests.HTTPError as err:  # its message may quote the response body
        answer = err.response
        raise FetchError(f"{where}: page {number + 1}: HTTP {answer.status_code} {answer.reason}") from None
    except UrlError as err:
        raise FetchError(f"{where}: {err}") from None
    except (requests.RequestException, OSError, ValueError) as err:  # messages of requests may hold the URL
        raise FetchError(f"{where}: page {number + 1}: {type(err).__name__}") from None


def _at(value, path: str):
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def read(spec: SourceSpec, unit: Listed, notes: dict) -> Iterator:
    ep = next(r for r in spec.config.resources if r.name == unit.path)
    top: list = []

    def values() -> Iterator:
        for page in sorted(unit.open_path.glob("*.json")):
            for value in json.loads(page.read_text(encoding="utf-8")):
                if ep.incremental and isinstance(value, dict):
                    seen = _at(value, ep.incremental.cursor_path)
                    if seen is not None and (not top or _later(seen, top[0])):
                        top[:] = [seen]
                yield value

    yield from records(values(), unit.path, notes.setdefault("renamed", {}))
    if top:
        notes["cursor"] = str(top[0])


def _later(a, b) -> bool:
    try:
        return a > b
    except TypeError:  # a number and a text: compare as text
        return str(a) > str(b)
