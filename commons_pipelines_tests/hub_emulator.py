"""In-process emulator of the Hugging Face Hub HTTP API, for tests.

`HubEmulator` serves, on http://127.0.0.1:<free port> from a background thread (stdlib ThreadingHTTPServer,
in-memory storage), the part of the Hub API that the unmodified huggingface_hub 2.4 client (HfApi,
hf_hub_download, snapshot_download, HfFileSystem) and `datasets.load_dataset` use: repos with git-like
history (real git blob/tree/commit ids), branches and tags, the preupload + git-lfs batch (basic transfer)
+ commit upload flow, /resolve downloads (HEAD, Range), tree/paths-info listings, token auth and the
X-Error-Code headers the client turns into RepositoryNotFoundError / RevisionNotFoundError /
RemoteEntryNotFoundError. It never advertises Xet.

Client setup:
- REQUIRED: os.environ["HF_HUB_DISABLE_XET"] = "1" before huggingface_hub is first imported (it is read
  into huggingface_hub.constants at import time). With hf_xet installed the client would otherwise upload
  LFS content with the Xet protocol, which this emulator does not speak. `start()` raises if Xet is enabled.
- Pass `endpoint=hub.url` to HfApi, hf_hub_download, snapshot_download and HfFileSystem.
- Code that only knows the default endpoint (datasets.load_dataset / push_to_hub, RepoCard.validate,
  fsspec "hf://" URLs) reads HF_ENDPOINT at import time into huggingface_hub.constants and datasets.config.
  Run it inside `with hub.as_default_endpoint():`, which points those module constants (and
  os.environ["HF_ENDPOINT"], for modules imported later) at the emulator and restores them on exit; this
  works whatever the import order (a module first imported inside the block keeps the emulator URL).
  `serve()` does this for a pytest fixture. For subprocesses, use `env={**os.environ, **hub.env()}`.
- Pass tokens explicitly (`token=...`, or `token=False` for anonymous calls): like the Hub, the emulator
  answers 401 to any token it does not know, e.g. an HF_TOKEN or cached login of the developer.

Faults: `hub.inject(method, path_regex, fault, times=1)` makes the next `times` matching requests fail, e.g.
`hub.inject("POST", r"/commit/main$", 503)`. A fault is an HTTP status (429 carries `Retry-After`), "reset" (the
connection is reset with a TCP RST; before the request is applied, only half of its body has been read, so a large
upload is cut mid-body), "timeout" (no answer for `delay` seconds, then the connection is closed: set the client's
timeout below `delay`) or "conflict" (another commit lands on the branch just before the request is applied: a
commit with a `parentCommit` then gets the Hub's 412). With `when="after"` the request is applied first and only its
answer is lost or replaced: the ambiguous case of a commit that landed although the client saw a failure.
`hub.injected` lists the faults that fired.

Super-squash (`HfApi.super_squash_history`, POST /api/{type}s/{repo}/super-squash/{branch} with {"message": ...};
the client reads nothing from the answer): the branch becomes one parentless commit with the same files, titled with
the message's first line (the rest is the commit's description). As in git, and as the Hub's storage docs imply
(PR refs keep files alive after a squash), tags and other refs are left alone: they keep pointing at the old commits,
which stay readable through them. Whatever no branch or tag reaches any more is dropped, commits and LFS objects
alike, after a squash or a tag or branch deletion ("LFS file history will be removed"); the real Hub frees the space
within hours, and whether it also keeps every line of a multi-line squash message is not documented.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import fnmatch
import hashlib
import importlib.util
import json
import os
import re
import secrets
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import yaml  # dependency of huggingface_hub itself; parses README.md metadata

_LFS_PATTERNS = (
    "*.7z *.arrow *.bin *.bz2 *.ckpt *.ftz *.gz *.h5 *.joblib *.lfs.* *.lz4 *.mds *.mlmodel *.model *.msgpack"
    " *.npy *.npz *.onnx *.ot *.parquet *.pb *.pickle *.pkl *.pt *.pth *.rar *.safetensors saved_model/**/*"
    " *.tar.* *.tar *.tflite *.tgz *.wasm *.xz *.zip *.zst *tfevents* *.pcm *.sam *.raw *.aac *.flac *.mp3"
    " *.ogg *.wav *.bmp *.gif *.png *.tiff *.jpg *.jpeg *.webp *.mp4 *.webm"
).split()
DEFAULT_GITATTRIBUTES = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in _LFS_PATTERNS).encode()

_KINDS = {"models": "model", "datasets": "dataset", "spaces": "space", None: "model"}
_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_REPO = r"/api/(?P<kind>models|datasets|spaces)/(?P<repo>[^/]+/[^/]+)"
_GIT_REPO = r"/(?:(?P<kind>datasets|spaces)/)?(?P<repo>[^/]+/[^/]+)"
_ROUTES = [
    ("GET", r"/api/whoami-v2", "_whoami"),
    ("POST", r"/api/repos/create", "_create_repo"),
    ("DELETE", r"/api/repos/delete", "_delete_repo"),
    ("POST", r"/api/validate-yaml", "_validate_yaml"),
    ("GET", _REPO + r"(?:/revision/(?P<rev>[^/]+))?", "_info"),
    ("GET", _REPO + r"/refs", "_refs"),
    ("GET", _REPO + r"/tree/(?P<rev>[^/]+)(?:/(?P<path>.+))?", "_tree"),
    ("POST", _REPO + r"/paths-info/(?P<rev>[^/]+)", "_paths_info"),
    ("GET", _REPO + r"/commits/(?P<rev>[^/]+)", "_list_commits"),
    ("POST", _REPO + r"/preupload/(?P<rev>[^/]+)", "_preupload"),
    ("POST", _REPO + r"/commit/(?P<rev>[^/]+)", "_commit"),
    ("POST", _REPO + r"/tag/(?P<rev>[^/]+)", "_create_tag"),
    ("DELETE", _REPO + r"/tag/(?P<rev>[^/]+)", "_delete_tag"),
    ("POST", _REPO + r"/branch/(?P<rev>[^/]+)", "_create_branch"),
    ("DELETE", _REPO + r"/branch/(?P<rev>[^/]+)", "_delete_branch"),
    ("POST", _REPO + r"/super-squash/(?P<rev>[^/]+)", "_super_squash"),
    ("POST", _GIT_REPO + r"\.git/info/lfs/objects/batch", "_lfs_batch"),
    ("POST", _GIT_REPO + r"\.git/info/lfs/objects/verify", "_lfs_verify"),
    ("PUT", r"/_emulator/lfs/(?P<ticket>[0-9a-f]+)", "_lfs_upload"),  # stands for the S3 presigned URL
    ("GET HEAD", _GIT_REPO + r"/resolve/(?P<rev>[^/]+)/(?P<path>.+)", "_resolve"),
]


def _git_oid(kind: str, body: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(body)}\0".encode() + body).hexdigest()


def _iso(date: datetime) -> str:
    return date.strftime("%Y-%m-%dT%H:%M:%S.") + f"{date.microsecond // 1000:03d}Z"


def _flag(query: dict, name: str) -> bool:
    return query.get(name, ["false"])[-1].lower() in ("1", "true")


class StoredFile:
    """Content of a file in a commit; `lfs` tells whether it is stored as an LFS pointer."""

    def __init__(self, data: bytes, lfs: bool):
        self.data, self.lfs, self.size = data, lfs, len(data)
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\nsize {self.size}\n"
        self.oid = _git_oid("blob", self.pointer.encode() if lfs else data)  # the git blob id the Hub reports

    def __repr__(self) -> str:
        return f"StoredFile(size={self.size}, lfs={self.lfs}, oid={self.oid})"


@dataclass(frozen=True)
class Commit:
    id: str
    parents: tuple[str, ...]
    title: str
    message: str
    author: str
    date: datetime
    files: Mapping[str, StoredFile]  # full snapshot of the repo at this commit


@dataclass
class _Repo:
    type: str
    id: str
    private: bool
    created: datetime
    commits: dict[str, Commit]
    branches: dict[str, str]
    tags: dict[str, str]
    lfs: dict[str, bytes]  # LFS object store, by sha256


class _HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.headers, self.extra = status, message, dict(headers or {}), extra
        if code:
            self.headers["X-Error-Code"] = code
        self.headers["X-Error-Message"] = message


_FAULT_KINDS = ("reset", "timeout", "conflict")


@dataclass
class Fault:
    """A fault waiting for requests, see HubEmulator.inject. `fired` counts the requests it hit."""

    method: str  # "POST", "GET HEAD" or "*"
    path: str  # a regex, searched in the request's path (without the query)
    kind: int | str  # an HTTP status, or one of _FAULT_KINDS
    times: int | None  # None: every matching request
    when: str = "before"
    retry_after: int | None = None
    delay: float = 2.0
    fired: int = 0

    def catches(self, method: str, path: str) -> bool:
        return ((self.times is None or self.fired < self.times)
                and (self.method == "*" or method in self.method.split()) and re.search(self.path, path) is not None)


@dataclass(frozen=True)
class Injected:
    method: str
    path: str
    fault: str  # "429", "503", "reset", "timeout", "conflict"
    when: str
    at: float = field(default_factory=time.monotonic)


def _tree_oid(files: Mapping[str, StoredFile], prefix: str = "") -> str:
    children: dict[str, bool] = {}  # name -> is a directory
    for path in files:
        if path.startswith(prefix):
            name, sep, _ = path[len(prefix) :].partition("/")
            children[name] = children.get(name, False) or bool(sep)
    body = b""
    for name in sorted(children, key=lambda n: n + "/" if children[n] else n):  # git's tree entry order
        if children[name]:
            mode, oid = "40000", _tree_oid(files, f"{prefix}{name}/")
        else:
            mode, oid = "100644", files[prefix + name].oid
        body += f"{mode} {name}\0".encode() + bytes.fromhex(oid)
    return _git_oid("tree", body)


def _front_matter(readme: str) -> str | None:
    match = re.match(r"---\r?\n(.*?)(?:\r?\n)?^---\s*$", readme, re.S | re.M)
    return match.group(1) if match else None


def _config_problems(configs) -> list[str]:
    """The Hub's checks of a dataset card's `configs` (see hub-docs datasetcard.md and "Manual Configuration")."""
    if not isinstance(configs, list):
        return ['"configs" must be an array']
    problems, names = [], []
    for i, config in enumerate(configs):
        if not isinstance(config, dict) or not isinstance(config.get("config_name"), str):
            problems.append(f'"configs[{i}].config_name" is required and must be a string')
            continue
        names.append(config["config_name"])
        files = config.get("data_files")
        split_form = isinstance(files, list) and all(
            isinstance(f, dict) and isinstance(f.get("split"), str)
            and (isinstance(f.get("path"), str)
                 or (isinstance(f.get("path"), list) and all(isinstance(x, str) for x in f["path"])))
            for f in files)
        if files is not None and not (isinstance(files, str) or split_form
                                      or (isinstance(files, list) and all(isinstance(f, str) for f in files))):
            problems.append(f'"configs[{i}].data_files" must be a path, a list of paths or a list of {{split, path}}')
        if "data_dir" in config and not isinstance(config["data_dir"], str):
            problems.append(f'"configs[{i}].data_dir" must be a string')
        if "default" in config and not isinstance(config["default"], bool):
            problems.append(f'"configs[{i}].default" must be a boolean')
    if len(set(names)) != len(names):
        problems.append('"configs" has two configs with the same config_name')
    if sum(1 for c in configs if isinstance(c, dict) and c.get("default") is True) > 1:
        problems.append('"configs" has several default configs')
    return problems


def _check_metadata(metadata: str) -> None:
    """Raise the Hub's 400 for README.md metadata it would reject."""
    try:
        data = yaml.safe_load(metadata)
    except yaml.YAMLError as e:
        raise _HubError(400, f"Invalid YAML in README.md metadata: {e}", errors=[{"message": f"Invalid YAML: {e}"}])
    problems = []
    if not isinstance(data, dict):
        problems.append('"metadata" must be an object')
    else:
        if "license" in data and not (
            isinstance(data["license"], str)
            or (isinstance(data["license"], list) and all(isinstance(x, str) for x in data["license"]))
        ):
            problems.append('"license" must be a string or an array of strings')
        if "configs" in data:
            problems += _config_problems(data["configs"])
    if problems:
        raise _HubError(400, "; ".join(problems), errors=[{"message": p} for p in problems])


def _lfs_tracked(path: str, gitattributes: StoredFile | None) -> bool:
    lines = gitattributes.data.decode(errors="replace").splitlines() if gitattributes else []
    patterns = [line.split()[0].lstrip("/") for line in lines if "filter=lfs" in line and not line.startswith("#")]
    return any(fnmatch.fnmatchcase(path if "/" in p else path.rsplit("/", 1)[-1], p) for p in patterns)


def _xet_enabled() -> bool:
    constants = sys.modules.get("huggingface_hub.constants")
    disabled = (
        constants.HF_HUB_DISABLE_XET
        if constants
        else os.environ.get("HF_HUB_DISABLE_XET", "").upper() in ("1", "ON", "YES", "TRUE")
    )
    return not disabled and importlib.util.find_spec("hf_xet") is not None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # client went away mid-response; handler errors are reported through HubEmulator.errors


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms delayed-ACK stalls
    timeout = 5  # seconds; ends the threads of idle keep-alive connections once their emulator is stopped

    def do_GET(self):
        self.server.hub._handle(self)

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, format, *args):
        pass


class HubEmulator:
    """Emulated Hub. `tokens` maps valid tokens to user names; `orgs` maps org names to member user names.

    Files of at least `lfs_threshold` bytes, binary files and files matching the repo's .gitattributes LFS
    patterns are uploaded as LFS (the Hub's rule); lower the threshold to force LFS on small files.
    """

    def __init__(
        self,
        tokens: Mapping[str, str],
        *,
        orgs: Mapping[str, Iterable[str]] | None = None,
        lfs_threshold: int = 10 * 1024 * 1024,
        port: int = 0,
    ):
        self.tokens = dict(tokens)
        self.orgs = {org: set(members) for org, members in (orgs or {}).items()}
        self.lfs_threshold = lfs_threshold
        self.port = port
        self.url = ""
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status) of every request; 0: no answer
        self.injected: list[Injected] = []  # the faults that fired, in order
        self._faults: list[Fault] = []
        self.errors: list[str] = []  # tracebacks of emulator crashes (answered with HTTP 500)
        self._repos: dict[tuple[str, str], _Repo] = {}
        self._tickets: dict[str, tuple[str, str, str, int]] = {}  # LFS upload ticket -> (type, repo id, oid, size)
        self._lock = threading.RLock()
        self._server: _Server | None = None

    # --- lifecycle and test helpers ---

    def start(self) -> HubEmulator:
        if _xet_enabled():
            raise RuntimeError(
                "HubEmulator does not speak the Xet protocol: set os.environ['HF_HUB_DISABLE_XET'] = '1'"
                " before huggingface_hub is imported."
            )
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.hub = self
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        server = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        server.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> HubEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """Environment variables pointing a fresh (sub)process's huggingface_hub and datasets at the emulator."""
        return {"HF_ENDPOINT": self.url, "HF_HUB_DISABLE_XET": "1"}

    @contextlib.contextmanager
    def as_default_endpoint(self) -> Iterator[HubEmulator]:
        """Make the emulator the default endpoint of already imported huggingface_hub / datasets modules."""
        patches = {
            "huggingface_hub.constants": {
                "ENDPOINT": self.url,
                "HUGGINGFACE_CO_URL_TEMPLATE": self.url + "/{repo_id}/resolve/{revision}/{filename}",
            },
            "datasets.config": {
                "HF_ENDPOINT": self.url,
                "HUB_DATASETS_URL": self.url + "/datasets/{repo_id}/resolve/{revision}/{path}",
            },
        }
        saved_env, saved = os.environ.get("HF_ENDPOINT"), []
        os.environ["HF_ENDPOINT"] = self.url
        try:
            for module_name, values in patches.items():
                if module := sys.modules.get(module_name):
                    for name, value in values.items():
                        saved.append((module, name, getattr(module, name)))
                        setattr(module, name, value)
            yield self
        finally:
            for module, name, value in reversed(saved):
                setattr(module, name, value)
            if saved_env is None:
                os.environ.pop("HF_ENDPOINT", None)
            else:
                os.environ["HF_ENDPOINT"] = saved_env

    def inject(self, method: str, path: str, fault: int | str, times: int | None = 1, *, when: str = "before",
               retry_after: int | None = None, delay: float = 2.0) -> Fault:
        """Make the next `times` requests of `method` whose path matches the regex `path` fail with `fault` (see the
        module docstring). A 429 says `Retry-After: 1` unless `retry_after` is given; other statuses send it only
        when given. Faults are tried in the order they were injected; the first that catches a request wins."""
        if not ((isinstance(fault, int) and 400 <= fault < 600) or fault in _FAULT_KINDS):
            raise ValueError(f"unknown fault {fault!r}: an HTTP status or one of {_FAULT_KINDS}")
        if when not in ("before", "after") or (fault == "conflict" and when == "after"):
            raise ValueError(f"fault {fault!r} cannot happen {when!r} the request")
        if fault == 429 and retry_after is None:
            retry_after = 1
        pending = Fault(method.upper(), path, fault, times, when, retry_after, delay)
        with self._lock:
            self._faults.append(pending)
        return pending

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.catches(method, path):
                    fault.fired += 1
                    self.injected.append(Injected(method, path, str(fault.kind), fault.when))
                    return fault
        return None

    def commits(self, repo_id: str, repo_type: str = "dataset", revision: str = "main") -> list[Commit]:
        """History of `revision`, newest first."""
        with self._lock:
            repo = self._repos[(repo_type, repo_id)]
            return self._history(repo, self._rev(repo, revision))

    def files(self, repo_id: str, repo_type: str = "dataset", revision: str = "main") -> dict[str, StoredFile]:
        with self._lock:
            repo = self._repos[(repo_type, repo_id)]
            return dict(self._rev(repo, revision).files)

    def refs(self, repo_id: str, repo_type: str = "dataset") -> dict[str, dict[str, str]]:
        with self._lock:
            repo = self._repos[(repo_type, repo_id)]
            return {"branches": dict(repo.branches), "tags": dict(repo.tags)}

    def lfs_objects(self, repo_id: str, repo_type: str = "dataset") -> dict[str, bytes]:
        """LFS objects uploaded to the repo (by sha256), committed or not."""
        with self._lock:
            return dict(self._repos[(repo_type, repo_id)].lfs)

    def commits_or_none(self, repo_id: str, repo_type: str = "dataset") -> list[Commit] | None:
        with self._lock:
            return self.commits(repo_id, repo_type) if (repo_type, repo_id) in self._repos else None

    def copy_repo(self, repo_id: str, new_id: str, repo_type: str = "dataset") -> None:
        """A second repo with the same history, refs and LFS objects (a fork), for tests that start from one state."""
        with self._lock:
            old = self._repos[(repo_type, repo_id)]
            self._repos[(repo_type, new_id)] = dataclasses.replace(
                old, id=new_id, commits=dict(old.commits), branches=dict(old.branches), tags=dict(old.tags),
                lfs=dict(old.lfs))

    # --- HTTP plumbing ---

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        split = urlsplit(req.path)
        fault = self._take_fault(req.command, split.path)
        if fault is not None and fault.when == "before" and fault.kind != "conflict":
            self._misbehave(req, split.path, fault, body_read=False)
            return
        try:
            body = self._read_body(req)
            for methods, pattern, name in _ROUTES:
                if req.command in methods.split() and (match := re.fullmatch(pattern, split.path)):
                    break
            else:
                raise _HubError(404, f"Cannot {req.command} {split.path}")
            args = {key: value and unquote(value) for key, value in match.groupdict().items()}
            with self._lock:
                if fault is not None and fault.kind == "conflict":
                    self._interlope(**args)
                user = self._user(req.headers.get("Authorization"))
                result = getattr(self, name)(
                    user=user, query=parse_qs(split.query), headers=req.headers, body=body, raw_path=split.path, **args
                )
            status, headers, payload = result if isinstance(result, tuple) else (200, {}, result)
        except json.JSONDecodeError as e:
            status, headers, payload = 400, {}, {"error": f"Malformed JSON body: {e}"}
        except _HubError as e:
            status, headers, payload = e.status, e.headers, {"error": e.message, **e.extra}
            if "text/plain" in req.headers.get("Accept", ""):
                payload = e.message
        except Exception:
            self.errors.append(traceback.format_exc())
            status, headers, payload = 500, {}, {"error": self.errors[-1]}
        if fault is not None and fault.when == "after":
            self._misbehave(req, split.path, fault, body_read=True)
            return
        self.requests.append((req.command, split.path, status))
        self._send(req, status, headers, payload)

    @staticmethod
    def _send(req: BaseHTTPRequestHandler, status: int, headers: Mapping[str, str], payload) -> None:
        if isinstance(payload, (bytes, bytearray)):
            content, content_type = bytes(payload), "application/octet-stream"
        elif isinstance(payload, str):
            content, content_type = payload.encode(), "text/plain; charset=utf-8"
        else:
            content, content_type = json.dumps(payload).encode(), "application/json; charset=utf-8"
        req.send_response(status)
        for key, value in {"Content-Type": content_type, **headers, "Content-Length": str(len(content))}.items():
            req.send_header(key, value.encode("latin-1", "replace").decode("latin-1").replace("\n", " "))
        req.end_headers()
        if req.command != "HEAD":
            req.wfile.write(content)

    def _misbehave(self, req: BaseHTTPRequestHandler, path: str, fault: Fault, body_read: bool) -> None:
        if fault.kind == "reset":
            if not body_read:  # stop reading half-way through the body: the upload is cut mid-stream
                if length := int(req.headers.get("Content-Length") or 0):
                    req.rfile.read(length // 2)
                elif req.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    req.rfile.readline()
            self.requests.append((req.command, path, 0))
            req.close_connection = True
            req.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
            req.rfile.close()
            req.connection.close()
            return
        if not body_read:
            self._read_body(req)
        if fault.kind == "timeout":
            self.requests.append((req.command, path, 0))
            time.sleep(fault.delay)
            req.close_connection = True
            return
        self.requests.append((req.command, path, fault.kind))
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        self._send(req, fault.kind, headers, {"error": f"injected fault: HTTP {fault.kind}"})

    def _interlope(self, kind: str | None = None, repo: str | None = None, rev: str | None = None, **_) -> None:
        """Someone else's commit lands on the request's branch (same files, new commit)."""
        r = self._repos[(_KINDS[kind], repo)]
        branch = rev.removeprefix("refs/heads/")
        self._add_commit(r, branch, dict(r.commits[r.branches[branch]].files), "Concurrent commit", "", "someone-else")

    @staticmethod
    def _read_body(req: BaseHTTPRequestHandler) -> bytes:
        if req.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return req.rfile.read(int(req.headers.get("Content-Length") or 0))
        chunks = []
        while size := int(req.rfile.readline().split(b";")[0], 16):
            chunks.append(req.rfile.read(size))
            req.rfile.readline()
        while req.rfile.readline().strip():  # trailers
            pass
        return b"".join(chunks)

    def _user(self, authorization: str | None) -> str | None:
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in self.tokens:
            raise _HubError(401, "Invalid credentials in Authorization header")
        return self.tokens[token.strip()]

    # --- model ---

    def _can_write(self, user: str | None, namespace: str) -> bool:
        return user is not None and (namespace == user or user in self.orgs.get(namespace, ()))

    def _repo(self, kind: str | None, repo: str, user: str | None, write: bool = False) -> _Repo:
        found = self._repos.get((_KINDS[kind], repo))
        namespace = repo.split("/")[0]
        if found is None or (found.private and not self._can_write(user, namespace)):
            raise _HubError(401 if user is None else 404, "Repository not found", "RepoNotFound")
        if write and user is None:
            raise _HubError(401, "You must be authenticated to write to this repository")
        if write and not self._can_write(user, namespace):
            raise _HubError(403, f"You don't have write access to {found.type} {repo}")
        return found

    def _rev(self, repo: _Repo, rev: str) -> Commit:
        for prefix, refs in (("refs/heads/", repo.branches), ("refs/tags/", repo.tags)):
            if (name := rev.removeprefix(prefix)) in refs:
                return repo.commits[refs[name]]
        if re.fullmatch(r"[0-9a-f]{7,40}", rev):
            matches = [commit for oid, commit in repo.commits.items() if oid.startswith(rev)]
            if len(matches) == 1:
                return matches[0]
        raise _HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")

    @staticmethod
    def _history(repo: _Repo, head: Commit) -> list[Commit]:
        history = [head]
        while history[-1].parents:
            history.append(repo.commits[history[-1].parents[0]])
        return history

    def _add_commit(self, repo: _Repo, branch: str, files: dict, title: str, message: str, author: str) -> Commit:
        date = datetime.now(timezone.utc)
        parents = (repo.branches[branch],) if branch in repo.branches else ()
        who = f"{author} <{author}@users.noreply.huggingface.co> {int(date.timestamp())} +0000"
        text = f"tree {_tree_oid(files)}\n" + "".join(f"parent {p}\n" for p in parents)
        text += f"author {who}\ncommitter {who}\n\n{title}\n" + (f"\n{message}\n" if message else "")
        commit = Commit(_git_oid("commit", text.encode()), parents, title, message, author, date, files)
        repo.commits[commit.id] = commit
        repo.branches[branch] = commit.id
        return commit

    @staticmethod
    def _collect(repo: _Repo) -> None:
        """Drop the commits no branch or tag reaches any more, and the LFS objects only they referenced."""
        reachable: set[str] = set()
        for oid in [*repo.branches.values(), *repo.tags.values()]:
            while oid not in reachable:
                reachable.add(oid)
                if not repo.commits[oid].parents:
                    break
                oid = repo.commits[oid].parents[0]
        gone = [repo.commits.pop(oid) for oid in list(repo.commits) if oid not in reachable]
        kept = {f.sha256 for commit in repo.commits.values() for f in commit.files.values() if f.lfs}
        for sha256 in {f.sha256 for commit in gone for f in commit.files.values() if f.lfs} - kept:
            repo.lfs.pop(sha256, None)

    def _repo_url(self, repo: _Repo) -> str:
        return f"{self.url}/{_URL_PREFIX[repo.type]}{repo.id}"

    def _entry(self, repo: _Repo, head: Commit, path: str, expand: bool) -> dict:
        files = head.files
        if path in files:
            f = files[path]
            entry = {"type": "file", "oid": f.oid, "size": f.size, "path": path}
            if f.lfs:
                entry["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": len(f.pointer)}
        else:
            entry = {"type": "directory", "oid": _tree_oid(files, path + "/"), "size": 0, "path": path}
        if expand:
            def state(commit: Commit):
                return sorted((p, f.oid) for p, f in commit.files.items() if p == path or p.startswith(path + "/"))

            history = self._history(repo, head)
            pairs = zip(history, history[1:] + [None])
            last = next(commit for commit, parent in pairs if not parent or state(commit) != state(parent))
            entry["lastCommit"] = {"id": last.id, "title": last.title, "date": _iso(last.date)}
        return entry

    def _paginate(self, items: list, limit: int, query: dict, raw_path: str):
        start = int(query.get("cursor", ["0"])[-1])
        headers = {}
        if start + limit < len(items):
            next_query = urlencode({**{k: v[-1] for k, v in query.items()}, "cursor": start + limit})
            headers["Link"] = f'<{self.url}{raw_path}?{next_query}>; rel="next"'
        return 200, headers, items[start : start + limit]

    # --- endpoints ---

    def _whoami(self, user, **_):
        if user is None:
            raise _HubError(401, "Invalid username or password.")
        orgs = [{"type": "org", "name": org, "fullname": org} for org, members in self.orgs.items() if user in members]
        return {
            "type": "user", "id": user, "name": user, "fullname": user, "email": f"{user}@example.com",
            "emailVerified": True, "isPro": False, "canPay": False, "avatarUrl": "", "orgs": orgs,
            "auth": {"type": "access_token", "accessToken": {"displayName": "hub-emulator", "role": "write"}},
        }

    def _create_repo(self, user, body, **_):
        payload = json.loads(body)
        kind, namespace, name = payload.get("type") or "model", payload.get("organization") or user, payload["name"]
        if kind not in _URL_PREFIX:
            raise _HubError(400, f"Invalid repo type: {kind}")
        if user is None:
            raise _HubError(401, "You must be authenticated to create a repository")
        if not self._can_write(user, namespace):
            raise _HubError(403, f'You don\'t have the rights to create a {kind} under the namespace "{namespace}"')
        if not re.fullmatch(r"[\w.-]{1,96}", name) or "--" in name or ".." in name:
            raise _HubError(400, f"Invalid repo name: {name}")
        repo_id = f"{namespace}/{name}"
        if (kind, repo_id) in self._repos:
            url = f"{self.url}/{_URL_PREFIX[kind]}{repo_id}"
            raise _HubError(409, f"You already created this {kind} repo", url=url)
        private = payload.get("visibility", "private" if payload.get("private") else "public") == "private"
        repo = _Repo(kind, repo_id, private, datetime.now(timezone.utc), {}, {}, {}, {})
        initial_files = {".gitattributes": StoredFile(DEFAULT_GITATTRIBUTES, lfs=False)}
        self._add_commit(repo, "main", initial_files, "initial commit", "", "system")
        self._repos[(kind, repo_id)] = repo
        return {"url": self._repo_url(repo), "name": repo_id, "id": repo_id}

    def _delete_repo(self, user, body, **_):
        payload = json.loads(body)
        kind = payload.get("type") or "model"
        repo = self._repo(kind + "s", f"{payload.get('organization') or user}/{payload['name']}", user, write=True)
        del self._repos[(repo.type, repo.id)]
        return {}

    def _validate_yaml(self, body, **_):
        metadata = _front_matter(json.loads(body).get("content", ""))
        if not metadata or not metadata.strip():
            return {"errors": [], "warnings": [{"message": "Empty or missing yaml metadata in repo card"}]}
        _check_metadata(metadata)
        return {"errors": [], "warnings": []}

    def _info(self, user, kind, repo, rev, query, **_):
        r = self._repo(kind, repo, user)
        head = self._rev(r, rev or "main")
        blobs = _flag(query, "blobs")
        siblings = []
        for path, f in sorted(head.files.items()):
            sibling = {"rfilename": path}
            if blobs:
                sibling.update(size=f.size, blobId=f.oid)
                if f.lfs:
                    sibling["lfs"] = {"size": f.size, "sha256": f.sha256, "pointerSize": len(f.pointer)}
            siblings.append(sibling)
        info = {
            "_id": hashlib.md5(r.id.encode()).hexdigest()[:24], "id": r.id, "author": r.id.split("/")[0],
            "sha": head.id, "lastModified": _iso(head.date), "createdAt": _iso(r.created), "private": r.private,
            "gated": False, "disabled": False, "downloads": 0, "likes": 0, "tags": [], "siblings": siblings,
        }
        with contextlib.suppress(Exception):
            card = yaml.safe_load(_front_matter(head.files["README.md"].data.decode()) or "")
            if isinstance(card, dict):
                info["cardData"] = card
        if expand := query.get("expand") or query.get("expand[]"):
            info = {key: value for key, value in info.items() if key in expand or key in ("_id", "id")}
        return info

    def _refs(self, user, kind, repo, query, **_):
        r = self._repo(kind, repo, user)

        def refs(names: dict, prefix: str) -> list:
            return [{"name": n, "ref": f"refs/{prefix}/{n}", "targetCommit": oid} for n, oid in sorted(names.items())]

        out = {"branches": refs(r.branches, "heads"), "converts": [], "tags": refs(r.tags, "tags")}
        return {**out, "pullRequests": []} if _flag(query, "include_prs") else out

    def _tree(self, user, kind, repo, rev, path, query, raw_path, **_):
        r = self._repo(kind, repo, user)
        head = self._rev(r, rev)
        path = (path or "").strip("/")
        prefix = path + "/" if path else ""
        recursive, expand = _flag(query, "recursive"), _flag(query, "expand")
        paths = set()
        for file in head.files:
            if file.startswith(prefix):
                parts = file[len(prefix) :].split("/")
                depth = len(parts) if recursive else 1
                paths.update(prefix + "/".join(parts[:i]) for i in range(1, depth + 1))
        if path and not paths:
            raise _HubError(404, f"{path} does not exist on {rev}", "EntryNotFound")
        status, headers, page = self._paginate(sorted(paths), 50 if expand else 1000, query, raw_path)
        return status, headers, [self._entry(r, head, p, expand) for p in page]

    def _paths_info(self, user, kind, repo, rev, headers, body, **_):
        r = self._repo(kind, repo, user)
        head = self._rev(r, rev)
        if "json" in headers.get("Content-Type", ""):
            payload = json.loads(body)
            paths, expand = payload.get("paths", []), bool(payload.get("expand"))
        else:
            form = parse_qs(body.decode())
            paths, expand = form.get("paths", []), _flag(form, "expand")
        paths = [p.strip("/") for p in ([paths] if isinstance(paths, str) else paths)]
        existing = [p for p in paths if p in head.files or any(f.startswith(p + "/") for f in head.files)]
        return [self._entry(r, head, p, expand) for p in existing]

    def _list_commits(self, user, kind, repo, rev, query, raw_path, **_):
        r = self._repo(kind, repo, user)
        items = [
            {"id": c.id, "title": c.title, "message": c.message, "date": _iso(c.date),
             "authors": [{"user": c.author, "avatar": None}]}
            for c in self._history(r, self._rev(r, rev))
        ]
        return self._paginate(items, 50, query, raw_path)

    def _preupload(self, user, kind, repo, rev, body, **_):
        r = self._repo(kind, repo, user, write=True)
        head = self._rev(r, rev)
        out = []
        for f in json.loads(body)["files"]:
            binary = b"\0" in base64.b64decode(f.get("sample") or "")
            lfs = f["size"] >= self.lfs_threshold or binary or _lfs_tracked(f["path"], head.files.get(".gitattributes"))
            entry = {"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False}
            if existing := head.files.get(f["path"]):  # lets the client drop unchanged files from the commit
                entry["oid"] = existing.sha256 if existing.lfs else existing.oid
            out.append(entry)
        return {"files": out, "commitOid": head.id}

    def _commit(self, user, kind, repo, rev, query, body, **_):
        r = self._repo(kind, repo, user, write=True)
        if _flag(query, "create_pr"):
            raise _HubError(400, "HubEmulator does not support create_pr")
        if rev.removeprefix("refs/heads/") not in r.branches:
            self._rev(r, rev)  # 404 if it is no revision at all
            raise _HubError(400, f"Can only commit to a branch, not to {rev}")
        branch = rev.removeprefix("refs/heads/")
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header" or not lines[0].get("value", {}).get("summary"):
            raise _HubError(400, "The first line of a commit must be a header with a summary")
        header, head_id = lines[0]["value"], r.branches[branch]
        if (parent := header.get("parentCommit")) and not head_id.startswith(parent.lower()):
            raise _HubError(412, "A commit has happened since. Please refresh and try again.")
        files = dict(r.commits[head_id].files)
        for line in lines[1:]:
            key, value = line.get("key"), line.get("value", {})
            path = value.get("path", "")
            if not path or path.startswith("/") or ".." in path.split("/") or path.split("/")[0] == ".git":
                raise _HubError(400, f"Invalid path: {path!r}")
            if key == "file":
                content = value["content"]
                data = base64.b64decode(content) if value.get("encoding") == "base64" else content.encode()
                files[path] = StoredFile(data, lfs=False)
            elif key == "lfsFile":
                data = r.lfs.get(value.get("oid", ""))
                if data is None or value.get("size", len(data)) != len(data):
                    raise _HubError(
                        400,
                        "Your push was rejected because an LFS pointer pointed to a file that does not exist."
                        f" Offending file: {path} (oid {value.get('oid')})",
                    )
                files[path] = StoredFile(data, lfs=True)
            elif key == "deletedFile":
                if files.pop(path, None) is None:
                    raise _HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
            elif key == "deletedFolder":
                folder = [p for p in files if p.startswith(path.rstrip("/") + "/")]
                if not folder:
                    raise _HubError(404, f"A folder with this name doesn't exist: {path}", "EntryNotFound")
                for p in folder:
                    del files[p]
            else:
                raise _HubError(400, f"Unknown commit operation: {key!r}")
        readme = files.get("README.md")
        if readme is not None and readme is not r.commits[head_id].files.get("README.md"):
            metadata = _front_matter(readme.data.decode(errors="replace"))
            if metadata and metadata.strip():  # like the Hub, refuse a push whose card metadata is invalid
                _check_metadata(metadata)
        commit = self._add_commit(r, branch, files, header["summary"], header.get("description", ""), user)
        return {
            "success": True, "commitOid": commit.id, "commitUrl": f"{self._repo_url(r)}/commit/{commit.id}",
            "hookOutput": "", "pullRequestUrl": None,
        }

    def _create_tag(self, user, kind, repo, rev, body, **_):
        r = self._repo(kind, repo, user, write=True)
        commit, tag = self._rev(r, rev), json.loads(body).get("tag", "")
        if not re.fullmatch(r"[\w.-]+(/[\w.-]+)*", tag) or ".." in tag:
            raise _HubError(400, f"Invalid tag name: {tag!r}")
        if tag in r.tags:
            raise _HubError(409, f"Tag {tag} already exists")
        r.tags[tag] = commit.id
        return {}

    def _delete_tag(self, user, kind, repo, rev, **_):
        r = self._repo(kind, repo, user, write=True)
        if r.tags.pop(rev.removeprefix("refs/tags/"), None) is None:
            raise _HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        self._collect(r)
        return {}

    def _create_branch(self, user, kind, repo, rev, body, **_):
        r = self._repo(kind, repo, user, write=True)
        start = self._rev(r, (json.loads(body or b"{}").get("startingPoint")) or "main")
        if not re.fullmatch(r"[\w.-]+(/[\w.-]+)*", rev) or ".." in rev:
            raise _HubError(400, f"Invalid branch name: {rev!r}")
        if rev in r.branches:
            raise _HubError(409, f"Branch {rev} already exists")
        r.branches[rev] = start.id
        return {}

    def _delete_branch(self, user, kind, repo, rev, **_):
        r = self._repo(kind, repo, user, write=True)
        if rev == "main":
            raise _HubError(403, "Cannot delete the default branch")
        if r.branches.pop(rev, None) is None:
            raise _HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        self._collect(r)
        return {}

    def _super_squash(self, user, kind, repo, rev, body, **_):
        r = self._repo(kind, repo, user, write=True)
        branch = rev.removeprefix("refs/heads/")
        if branch not in r.branches:
            self._rev(r, rev)  # 404 if it is no revision at all
            raise _HubError(400, f"Invalid reference for a branch: {rev}. You cannot squash history on tags")
        message = json.loads(body or b"{}").get("message") or f"Super-squash branch '{branch}'"
        title, _, description = message.partition("\n")
        files = dict(r.commits[r.branches.pop(branch)].files)  # popped: the squashed commit has no parent
        self._add_commit(r, branch, files, title, description.strip("\n"), user)
        self._collect(r)
        return {}

    def _lfs_batch(self, user, kind, repo, body, **_):
        r = self._repo(kind, repo, user, write=True)
        payload = json.loads(body)
        if payload.get("operation") != "upload":
            raise _HubError(400, "HubEmulator only implements the LFS upload operation")
        objects = []
        for obj in payload.get("objects", []):
            oid, size = obj.get("oid"), obj.get("size")
            if not (isinstance(size, int) and size >= 0 and re.fullmatch(r"[0-9a-f]{64}", str(oid))):
                error = {"code": 422, "message": "Invalid object"}
                objects.append({"oid": str(oid), "size": size if isinstance(size, int) else 0, "error": error})
            elif oid in r.lfs:
                objects.append({"oid": oid, "size": size})  # already stored: no actions, like git-lfs
            else:
                ticket = secrets.token_hex(16)
                self._tickets[ticket] = (r.type, r.id, oid, size)
                verify = f"{self._repo_url(r)}.git/info/lfs/objects/verify"
                actions = {"upload": {"href": f"{self.url}/_emulator/lfs/{ticket}"}, "verify": {"href": verify}}
                objects.append({"oid": oid, "size": size, "authenticated": True, "actions": actions})
        return 200, {"Content-Type": "application/vnd.git-lfs+json"}, {"transfer": "basic", "objects": objects}

    def _lfs_upload(self, ticket, body, **_):
        if ticket not in self._tickets:
            raise _HubError(403, "Invalid upload URL")
        kind, repo_id, oid, size = self._tickets[ticket]
        if len(body) != size or hashlib.sha256(body).hexdigest() != oid:
            raise _HubError(400, f"Uploaded content does not match oid {oid} and size {size}")
        if (repo := self._repos.get((kind, repo_id))) is None:
            raise _HubError(404, "Repository not found")
        repo.lfs[oid] = body
        return 200, {"ETag": f'"{hashlib.md5(body).hexdigest()}"'}, b""

    def _lfs_verify(self, user, kind, repo, body, **_):
        r = self._repo(kind, repo, user, write=True)
        payload = json.loads(body)
        if (data := r.lfs.get(payload.get("oid"))) is None or len(data) != payload.get("size"):
            raise _HubError(404, f"LFS object {payload.get('oid')} not found")
        return {"message": "verified"}

    def _resolve(self, user, kind, repo, rev, path, headers, **_):
        r = self._repo(kind, repo, user)
        head = self._rev(r, rev)
        if (f := head.files.get(path)) is None:
            raise _HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": head.id})
        out = {"X-Repo-Commit": head.id, "ETag": f'"{f.sha256 if f.lfs else f.oid}"', "Accept-Ranges": "bytes"}
        if f.lfs:
            out.update({"X-Linked-Etag": f'"{f.sha256}"', "X-Linked-Size": str(f.size)})
        match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", headers.get("Range") or "")
        if not match or not any(match.groups()):
            return 200, out, f.data
        if match[1]:
            start, end = int(match[1]), min(int(match[2] or f.size - 1), f.size - 1)
        else:
            start, end = max(f.size - int(match[2]), 0), f.size - 1
        if start >= f.size or start > end:
            raise _HubError(416, "Range Not Satisfiable", headers={**out, "Content-Range": f"bytes */{f.size}"})
        return 206, {**out, "Content-Range": f"bytes {start}-{end}/{f.size}"}, f.data[start : end + 1]


def serve(**kwargs) -> Iterator[HubEmulator]:
    """Body of a pytest fixture: `yield from serve(tokens={...})`.

    Runs a HubEmulator that is also the default endpoint (see `as_default_endpoint`), and fails the test at
    teardown if the emulator crashed while serving a request.
    """
    with HubEmulator(**kwargs) as hub, hub.as_default_endpoint():
        yield hub
    assert not hub.errors, "HubEmulator crashed:\n" + "\n".join(hub.errors)
