"""Fetch one http(s) file for ingest: conditional, streamed to disk and hashed, redirects checked hop by hop.

Every hop's host is checked before it is contacted (`check`), so that neither the YAML nor a redirect can point
ingest at loopback or link-local addresses (cloud metadata services) unless that is allowed. Credentials in the URL
(user:password@) are sent as basic auth by requests and never written anywhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests

MAX_REDIRECTS = 5
TIMEOUT = (10, 60)  # connect, read: seconds


@dataclass
class Fetched:
    path: Path | None  # None: 304 Not Modified, nothing downloaded
    sha256: str | None
    size: int | None
    etag: str | None
    last_modified: str | None


class FetchError(RuntimeError):
    pass


def fetch(url: str, dest: Path, check: Callable[[str], None], etag: str | None = None,
          last_modified: str | None = None) -> Fetched:
    """GET `url` into `dest`; with `etag` / `last_modified` from the last fetch, a 304 downloads nothing."""
    headers = {"If-None-Match": etag} if etag else {}
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    with requests.Session() as http:
        return _follow(http, url, dest, check, headers, etag, last_modified)


def _follow(http: requests.Session, url: str, dest: Path, check: Callable[[str], None], headers: dict,
            etag: str | None, last_modified: str | None) -> Fetched:
    for _ in range(MAX_REDIRECTS + 1):
        check(url)
        with http.get(url, headers=headers, stream=True, allow_redirects=False, timeout=TIMEOUT) as answer:
            if answer.is_redirect:
                url = urljoin(url, answer.headers["Location"])
                continue
            if answer.status_code == 304:
                return Fetched(None, None, None, etag, last_modified)
            if answer.status_code != 200:
                raise FetchError(f"HTTP {answer.status_code} {answer.reason}")
            digest, size = hashlib.sha256(), 0
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(dest, "wb") as out:
                for chunk in answer.iter_content(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            return Fetched(dest, digest.hexdigest(), size, answer.headers.get("ETag"),
                           answer.headers.get("Last-Modified"))
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def checked_session(session: requests.Session, check: Callable[[str], None]) -> requests.Session:
    """`session`, calling `check` on the URL of every request before it is sent: requests sends each redirect through
    `session.send` too, so no hop reaches a host that may not be read."""
    send = session.send

    def checked(request, **kwargs):
        check(request.url)
        return send(request, **kwargs)

    session.send = checked
    return session
