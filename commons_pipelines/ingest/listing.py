"""What a `files` source lists now, compared with what the warehouse holds: which files to read, which are unchanged,
which are gone.

A local file is unchanged when its size, modification time, change time and inode are those recorded (git's stat
test: `cp -p` and `rsync -t` keep the modification time, but never the change time); otherwise its bytes are hashed,
and a file whose sha256 is the recorded one (a `touch`, a copy of the same bytes) is not read again. An http(s) file is
fetched with If-None-Match / If-Modified-Since when the server gave an ETag or Last-Modified; a 304 means unchanged,
and otherwise its bytes are downloaded to a work folder and hashed the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import requests

from ..code import code_version
from ..spec import SourceSpec, allowed_roots, inside_roots
from ..urls import UrlError, public_url
from .http import FetchError, fetch


@dataclass
class Listed:
    """One file as listed now. `open_path` is where its bytes are read from (the file itself, or a download)."""
    path: str  # inside the listing, POSIX: the `_source_file` of its records
    url: str  # public, for `_source_url`: file:// or http(s) without credentials
    size: int | None = None
    mtime_ns: int | None = None
    ctime_ns: int | None = None
    inode: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None
    open_path: Path | None = None
    append: bool = False  # incremental: the read brings only new records, the unit's earlier rows stay
    cursor: str | None = None  # incremental: the last cursor value recorded, where this read starts


@dataclass
class Known:
    """A file as the warehouse recorded it after the last ingest that read or checked it."""
    path: str
    size: int | None
    mtime_ns: int | None
    ctime_ns: int | None
    inode: int | None
    etag: str | None
    last_modified: str | None
    sha256: str | None
    status: str
    code: str | None = None  # the ingest code version that read it
    cursor: str | None = None  # an incremental unit's last cursor value

    @property
    def current(self) -> bool:
        """Read successfully by this ingest code: same bytes means same rows."""
        return self.status == "ok" and self.code == code_version("ingest")

    def same_stat(self, f: Listed) -> bool:
        return self.current and (self.size, self.mtime_ns, self.ctime_ns, self.inode) == (
            f.size, f.mtime_ns, f.ctime_ns, f.inode) and None not in (f.size, f.mtime_ns)


@dataclass
class Plan:
    listed: list[Listed]
    read: list[Listed] = field(default_factory=list)  # new files, and files whose bytes changed or failed last time
    checked: list[Listed] = field(default_factory=list)  # listed again with new stat or headers, same bytes
    vanished: list[str] = field(default_factory=list)  # recorded, not listed any more: their rows go


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _local(spec: SourceSpec) -> Iterator[Listed]:
    root = Path(spec.files_location())
    if root.is_file():
        files, base = [root], root.parent
    elif root.is_dir():
        files = sorted(p for p in root.glob(spec.files.glob)
                       if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))
        base = root
    else:
        raise FileNotFoundError(f"{spec.origin}: field 'files.path': {root} does not exist")
    roots = allowed_roots(spec.origin) if spec.origin else ()
    for path in files:
        if roots and not inside_roots(path, roots):  # a link inside the folder that points out of the roots
            raise FileNotFoundError(f"{spec.origin}: field 'files.path': {path} leads outside the allowed roots "
                                    f"({', '.join(map(str, roots))})")
        stat = path.stat()
        yield Listed(path=path.relative_to(base).as_posix(), url=path.resolve().as_uri(), size=stat.st_size,
                     mtime_ns=stat.st_mtime_ns, ctime_ns=stat.st_ctime_ns, inode=stat.st_ino, open_path=path)


def _fetch(spec: SourceSpec, url: str, dest: Path, check, before: Known | None):
    ok = before is not None and before.current
    try:
        return fetch(url, dest, check, etag=before.etag if ok else None,
                     last_modified=before.last_modified if ok else None)
    except (requests.RequestException, FetchError, UrlError, OSError) as err:  # requests' messages may hold secrets
        said = f": {err}" if isinstance(err, (FetchError, UrlError)) else ""
        raise FetchError(f"{spec.origin}: field 'files.path': cannot fetch {public_url(url)}: "
                         f"{type(err).__name__}{said}") from None


def plan_files(spec: SourceSpec, known: dict[str, Known], work: Path, check: Callable[[str], None]) -> Plan:
    """List the source and decide, file by file, what this ingest reads. Remote files are downloaded into `work`
    after `check` accepted each host they come from."""
    if spec.files.is_remote:
        url = spec.files_location()
        name = PurePosixPath(unquote(urlsplit(url).path)).name or "index"
        before = known.get(name)
        got = _fetch(spec, url, work / name, check, before)
        listed = [Listed(path=name, url=public_url(url), size=got.size, etag=got.etag,
                         last_modified=got.last_modified, sha256=got.sha256 or (before.sha256 if before else None),
                         open_path=got.path)]
    else:
        listed = list(_local(spec))
    return compare(listed, known)


def compare(listed: list[Listed], known: dict[str, Known]) -> Plan:
    """Which of the files listed now to read: new ones, and those whose bytes changed or failed last time. A file
    with `open_path` None was not modified (HTTP 304)."""
    plan = Plan(listed)
    names = {f.path for f in listed}
    plan.vanished = sorted(p for p in known if p not in names)
    for f in listed:
        before = known.get(f.path)
        if f.open_path is None:  # 304 Not Modified
            plan.checked.append(f)
            continue
        if before is not None and before.same_stat(f):
            continue
        f.sha256 = f.sha256 or sha256_of(f.open_path)
        if before is not None and before.current and before.sha256 == f.sha256:
            plan.checked.append(f)
        else:
            plan.read.append(f)
    return plan

