"""The object store target: any fsspec URL that is not a local folder (`s3://bucket/prefix`; the `s3` extra), in the
local target's layout:

    <root>/<source id>/versions/v1/{data/, README.md, croissant.json, version.json}
    <root>/<source id>/current.json        {"version": "v2"}: the live version

An object store can neither rename nor link, so a version is staged in a local temporary folder, its files uploaded,
`version.json` written last (only a version that has one is complete; it is created only if absent, so two writers
cannot both make vN), then `current.json` is written. A crash leaves either the old version live or a new complete
version not yet pointed at, plus perhaps an incomplete one; `repair` (called before every publish) deletes incomplete
versions and points `current.json` at the newest complete one. Erasure deletes `version.json` first, so a version
half deleted is an incomplete one, never a complete one missing shards.

Credentials and the endpoint come from the environment, as botocore reads them (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_ENDPOINT_URL, AWS_PROFILE ...), never from the URL: a URL with
credentials is refused. Errors are one line naming the URL, with any credential value from the environment masked.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

from ..faults import failpoint
from ..settings import is_store  # noqa: F401  (publish/__init__ offers it)
from ..spec import SourceSpec
from .hub import HubError
from .targets import VERSION_FILE, VERSION_NAME, PublishConflict, Version

CURRENT, VERSIONS = "current.json", "versions"
SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID")


class StoreError(HubError):
    """The object store could not be read or written. A HubError, so that every caller that copes with an
    unreachable target (publish retried then failed, curation warned) copes with this one too."""


class Bucket:
    """An object store at an fsspec URL: its filesystem, its root, and calls whose errors are one line."""

    def __init__(self, location: str):
        scheme, _, rest = location.partition("://")
        if "@" in rest:  # user:secret@bucket; a secret may hold "/", so the URL is not even parsed: never echoed
            raise ValueError(f"{scheme}://…: a URL with '@' is refused: credentials go in the environment "
                             "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), not in the URL")
        from fsspec.core import url_to_fs

        self.location = location.rstrip("/")
        try:  # listings are not cached: other processes and machines publish too
            self.fs, self.root = url_to_fs(self.location, skip_instance_cache=True, use_listings_cache=False)
        except ImportError as err:
            raise ValueError(f"{self.location}: {err} (pip install 'commons-pipelines[s3]')") from None
        self.root = self.root.rstrip("/")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"

    def _call(self, what: str, method: str, *args, **kwargs):
        try:
            return getattr(self.fs, method)(*args, **kwargs)
        except FileExistsError:
            raise
        except Exception as err:  # noqa: BLE001  whatever the backend raises becomes one line naming the URL
            reason = " ".join(str(err).split()) or type(err).__name__
            for name in SECRETS:
                if len(os.environ.get(name, "")) >= 8:  # real ones are 16+; masking "x" would mangle the message
                    reason = reason.replace(os.environ[name], "***")
            raise StoreError(f"{self.location}: {what}: {reason}") from None


class ObjectTarget(Bucket):
    def folder(self, spec: SourceSpec) -> str:
        return f"{self.location}/{spec.id}"

    def url(self, spec: SourceSpec) -> str | None:
        return None

    def staging(self, spec: SourceSpec) -> None:
        return None

    def _key(self, spec: SourceSpec, *parts: str) -> str:
        return "/".join([self.root, spec.id, *parts])

    def _versions(self, spec: SourceSpec) -> dict[str, list[str]]:
        """Every object under versions/, by version name."""
        found: dict[str, list[str]] = {}
        base = self._key(spec, VERSIONS)
        for path in self._call(f"cannot list {spec.id}'s versions", "find", base):
            name = path[len(base) + 1:].split("/", 1)[0]
            if VERSION_NAME.match(name):
                found.setdefault(name, []).append(path)
        return found

    def history(self, spec: SourceSpec) -> list[Version]:
        """The complete versions (those with a version.json), oldest first."""
        records = [self._key(spec, VERSIONS, name, VERSION_FILE) for name, paths in self._versions(spec).items()
                   if self._key(spec, VERSIONS, name, VERSION_FILE) in paths]
        found = []
        for path, data in (self._call(f"cannot read {spec.id}'s versions", "cat", records).items() if records
                           else ()):
            name = path.split("/")[-2]
            ref = f"{self.folder(spec)}/{VERSIONS}/{name}"
            try:
                record = json.loads(data)
                found.append(Version(name, record["content_sha256"], record["rows"], record["date"], ref,
                                     record.get("changelog", "")))
            except (ValueError, KeyError, TypeError):
                found.append(Version(name, "", 0, "", ref))
        return sorted(found, key=lambda v: v.number)

    def live(self, spec: SourceSpec) -> str | None:
        """The version `current.json` names, None before the first publish."""
        path = self._key(spec, CURRENT)
        if not self._call(f"cannot read {spec.id}'s current version", "exists", path):
            return None
        return json.loads(self._call(f"cannot read {spec.id}'s current version", "cat_file", path))["version"]

    def repair(self, spec: SourceSpec) -> None:
        for name, paths in self._versions(spec).items():
            if self._key(spec, VERSIONS, name, VERSION_FILE) not in paths:
                self._call(f"cannot remove {spec.id}'s incomplete {name}", "rm", paths)
        complete = [v for v in self.history(spec) if v.content_sha256]
        if complete and self.live(spec) != complete[-1].name:
            self._point(spec, complete[-1].name)

    def commit(self, spec: SourceSpec, staged: Path, version: Version, message: str) -> Version:
        history = self.history(spec)
        if history and history[-1].number >= version.number:
            raise PublishConflict(f"{self.folder(spec)}: {history[-1].name} exists already, cannot add {version.name}")
        if version.name in self._versions(spec):
            raise PublishConflict(f"{self.folder(spec)}/{VERSIONS}/{version.name}: another publish is uploading it")
        record = {"version": version.name, "content_sha256": version.content_sha256, "rows": version.rows,
                  "date": version.date, "changelog": version.changelog, "message": message}
        files = sorted(p for p in Path(staged).rglob("*") if p.is_file() and p.name != VERSION_FILE)
        keys = [self._key(spec, VERSIONS, version.name, *p.relative_to(staged).parts) for p in files]
        self._call(f"cannot upload {spec.id} {version.name}", "put", [str(p) for p in files], keys)
        failpoint("publish.uploaded")
        try:
            self._call(f"cannot write {spec.id} {version.name}'s {VERSION_FILE}", "pipe_file",
                       self._key(spec, VERSIONS, version.name, VERSION_FILE),
                       (json.dumps(record, indent=2) + "\n").encode(), mode="create")
        except FileExistsError:
            raise PublishConflict(f"{self.folder(spec)}/{VERSIONS}/{version.name}: published by another run") from None
        failpoint("publish.committed")
        self._point(spec, version.name)
        return replace(version, ref=f"{self.folder(spec)}/{VERSIONS}/{version.name}")

    def _point(self, spec: SourceSpec, name: str) -> None:
        self._call(f"cannot write {spec.id}'s {CURRENT}", "pipe_file", self._key(spec, CURRENT),
                   json.dumps({"version": name}).encode() + b"\n")

    def remove(self, spec: SourceSpec, names: list[str]) -> None:
        """Delete whole versions (erasure); never the live one. version.json goes first: see the module's doc."""
        live = self.live(spec)
        for name in names:
            if name == live:
                raise ValueError(f"{spec.id}: {name} is the live version; publish a new one before removing it")
        for name in names:
            self._call(f"cannot remove {spec.id} {name}", "rm_file", self._key(spec, VERSIONS, name, VERSION_FILE))
            self._call(f"cannot remove {spec.id} {name}", "rm", self._key(spec, VERSIONS, name), recursive=True)

    def shards(self, spec: SourceSpec, name: str) -> list[str]:
        """The Parquet shards of a version, as paths in `self.fs`."""
        data = self._key(spec, VERSIONS, name, "data")
        return sorted(p for p in self._call(f"cannot list {spec.id} {name}", "find", data) if p.endswith(".parquet"))

    def download(self, paths: list[str], folder: Path) -> list[Path]:
        """Copies of `paths` in `folder`, for readers that need local files (DuckDB in `commons versions --diff`)."""
        local = [folder / p[len(self.root) + 1:] for p in paths]
        if paths:
            self._call("cannot download", "get", paths, [str(p) for p in local])
        return local
