"""The `ckan` kind: any CKAN portal's datasets through its Action API, `/api/3/action/package_search`, paged with
`rows` and `start` in a stable order (by name). `query` is the full-text `q`; `organizations` (names) and `tags` match
any of their values, and go with `fq` (a Solr filter) into one filter where all must hold. Rows, licences and
resources: see portal.py; a dataset's `_source_url` is its page, `<portal>/dataset/<name>`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from dlt.sources.helpers.rest_client.paginators import OffsetPaginator

from ..spec import CkanConfig, SourceSpec
from ..urls import public_url
from . import portal
from .listing import Known, Plan

__all__ = ["location", "plan", "read"]

PATH = "api/3/action/package_search"
FLAT = ("id", "name", "title", "notes", "organization", "tags", "license_id", "metadata_modified")
location = portal.location
read = portal.read


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def solr_filter(cfg: CkanConfig) -> str | None:
    parts = [f"({cfg.fq})"] if cfg.fq else []
    for name, values in (("organization", cfg.organizations), ("tags", cfg.tags)):
        if values:
            parts.append(f"{name}:({' OR '.join(map(_quoted, values))})")
    return " AND ".join(parts) or None


def search(spec: SourceSpec, pages: portal.Pages) -> Iterator:
    cfg = spec.config
    params = {k: v for k, v in {"q": cfg.query, "fq": solr_filter(cfg), "sort": "name asc"}.items() if v}
    paginator = OffsetPaginator(limit=cfg.page_size, offset_param="start", limit_param="rows",
                                total_path="result.count", maximum_offset=cfg.max_datasets)
    for page in pages(PATH, params, paginator, "result.results"):
        yield from page


def flatten(spec: SourceSpec, record: dict) -> dict:
    org = record.get("organization")
    name = record.get("name") or record.get("id")
    return {
        "id": record.get("id"), "name": record.get("name"), "title": record.get("title"),
        "description": record.get("notes"),
        "organization": (org.get("title") or org.get("name")) if isinstance(org, dict) else None,
        "tags": portal.tags(record.get("tags")), "licence_id": record.get("license_id"),
        "url": public_url(f"{spec.config.url.rstrip('/')}/dataset/{quote(str(name), safe='')}") if name else None,
        "modified": record.get("metadata_modified"), "metadata": portal.metadata(record, FLAT),
    }


def plan(spec: SourceSpec, known: dict[str, Known], work: Path, check) -> Plan:
    return portal.plan(spec, known, work, check, search, flatten)
