"""Captured responses of real services, served over local HTTP, so that the real kind code runs against them.

    with Replay() as replay:
        replay.add("https://www.ebi.ac.uk/europepmc/webservices/rest/search?query=x&format=json", CAPTURE)
        catalog = replay.catalog(tmp_path, ["europe_pmc"])   # the shipped YAMLs, pointed at the replay

A route is a real URL: the method, host, path and query (in any order) must match, or the route is added with
`any_query=True`. A route given several responses serves them in turn and then repeats the last (a 429, then the
page). Served bodies have every real URL of a routed host rewritten to the replay, so that "next page" links stay
local. Unknown requests get a 404 naming the request, and every request is kept in `seen`, its headers and body in
`received`.
"""

from __future__ import annotations

import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from commons_pipelines.spec import CATALOG_DIR

Body = bytes | str | Path


class Replay:
    def __init__(self) -> None:
        self.routes: dict[tuple, list[tuple[int, dict, Body]]] = {}
        self.hosts: set[str] = set()
        self.seen: list[str] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                replay._answer(self, "GET")

            def do_POST(self) -> None:
                replay._answer(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __enter__(self) -> Replay:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def _key(method: str, host: str, path: str, query: str | None) -> tuple:
        return method, host, path.rstrip("/") or "/", None if query is None else frozenset(parse_qsl(query, True))

    def add(self, url: str, *bodies: Body, status: int | list[int] = 200, headers: dict | None = None,
            content_type: str = "application/json", any_query: bool = False, method: str = "GET") -> None:
        parts = urlsplit(url)
        self.hosts.add(parts.netloc)
        statuses = status if isinstance(status, list) else [status] * len(bodies)
        answers = [(s, {"Content-Type": content_type, **(headers or {})}, b) for s, b in zip(statuses, bodies)]
        self.routes[self._key(method, parts.netloc, parts.path, None if any_query else parts.query)] = answers

    def url(self, real: str) -> str:
        """The replay's address of a real URL."""
        parts = urlsplit(real)
        return f"{self.base}/{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def rewrite(self, text: str) -> str:
        """Every http(s) URL of a routed host in `text`, pointed at the replay."""
        for host in sorted(self.hosts, key=len, reverse=True):
            text = re.sub(rf"https?://{re.escape(host)}(?=[/?\"'\s]|$)", f"{self.base}/{host}", text)
        return text

    def catalog(self, folder: Path, ids: list[str], source: Path = CATALOG_DIR) -> Path:
        """The shipped YAMLs of `ids`, pointed at the replay, in a catalog folder of their own."""
        catalog = Path(folder) / "catalog"
        catalog.mkdir(parents=True, exist_ok=True)
        for source_id in ids:
            (catalog / f"{source_id}.yaml").write_text(
                self.rewrite((source / f"{source_id}.yaml").read_text(encoding="utf-8")), encoding="utf-8")
        samples = source.parent / "samples"
        if samples.is_dir() and not (catalog.parent / "samples").exists():
            shutil.copytree(samples, catalog.parent / "samples")
        return catalog

    def _answer(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        self.received.append((dict(handler.headers), handler.rfile.read(length) if length else b""))
        host, _, rest = handler.path.lstrip("/").partition("/")
        parts = urlsplit("/" + rest)
        self.seen.append(f"{method} {host}{parts.path}" + (f"?{parts.query}" if parts.query else ""))
        answers = (self.routes.get(self._key(method, host, parts.path, parts.query))
                   or self.routes.get(self._key(method, host, parts.path, None)))
        if not answers:
            body = f"no capture for {method} https://{host}{parts.path}?{parts.query}".encode()
            handler.send_response(404)
            handler.send_header("Content-Type", "text/plain")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        status, headers, body = answers.pop(0) if len(answers) > 1 else answers[0]
        data = body.read_bytes() if isinstance(body, Path) else body.encode() if isinstance(body, str) else body
        if headers.get("Content-Type", "").startswith(("application/json", "text/", "application/xml")):
            data = self.rewrite(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
