"""The `udata` kind: a udata portal's datasets (data.gouv.fr and others) through `/api/1/datasets/`, paged with
`page_size`, following each answer's `next_page`, oldest first (`sort=created`). `query` is `q`; `organizations`
(ids) and `tags` match any of their values: one search per organization and tag, a dataset found twice is kept once.
Rows, licences and resources: see portal.py; a dataset's `_source_url` is its `page`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator

from ..spec import SourceSpec
from ..urls import public_url
from . import portal
from .listing import Known, Plan

__all__ = ["location", "plan", "read"]

PATH = "api/1/datasets/"
FLAT = ("id", "slug", "title", "description", "organization", "tags", "license", "page", "last_modified")
location = portal.location
read = portal.read


def search(spec: SourceSpec, pages: portal.Pages) -> Iterator:
    cfg = spec.config
    seen: set[str] = set()
    for org in cfg.organizations or [None]:
        for tag in cfg.tags or [None]:
            params = {"q": cfg.query, "organization": org, "tag": tag, "page_size": cfg.page_size, "sort": "created"}
            for page in pages(PATH, {k: v for k, v in params.items() if v}, JSONLinkPaginator("next_page"), "data"):
                for record in page:
                    key = record.get("id") if isinstance(record, dict) else None
                    if key is None or key not in seen:
                        seen.add(key)
                        yield record


def flatten(spec: SourceSpec, record: dict) -> dict:
    org = record.get("organization")
    slug = record.get("slug") or record.get("id")
    page = record.get("page") or (f"{spec.config.url.rstrip('/')}/datasets/{quote(str(slug), safe='')}/"
                                  if slug else None)
    return {
        "id": record.get("id"), "name": record.get("slug"), "title": record.get("title"),
        "description": record.get("description"),
        "organization": org.get("name") if isinstance(org, dict) else None,
        "tags": portal.tags(record.get("tags")), "licence_id": record.get("license"),
        "url": public_url(page) if isinstance(page, str) else None,
        "modified": record.get("last_modified"), "metadata": portal.metadata(record, FLAT),
    }


def plan(spec: SourceSpec, known: dict[str, Known], work: Path, check) -> Plan:
    return portal.plan(spec, known, work, check, search, flatten)
