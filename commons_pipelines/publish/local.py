"""The local folder target (the embedded default). Layout, every version kept and complete:

    <root>/<source id>/versions/v1/{data/, README.md, croissant.json, version.json}
    <root>/<source id>/versions/v2/...
    <root>/<source id>/current -> versions/v2

A version is staged inside `versions/` under a hidden name (so its files never cross a filesystem), its version.json
written into it, then renamed into place; `current` is then moved by renaming a new link over it. A crash leaves
either the old or the new version live, never half of one; `repair` (called before every publish) removes hidden
leftovers and moves `current` to the newest complete version if a crash came between the two renames.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import replace
from pathlib import Path

from ..faults import failpoint
from ..spec import SourceSpec
from .targets import VERSION_FILE, VERSION_NAME, PublishConflict, Version

CURRENT, VERSIONS = "current", "versions"


class LocalTarget:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalTarget({str(self.root)!r})"

    def folder(self, spec: SourceSpec) -> Path:
        return self.root / spec.id

    def current(self, spec: SourceSpec) -> Path:
        return self.folder(spec) / CURRENT

    def url(self, spec: SourceSpec) -> str | None:
        return None

    def staging(self, spec: SourceSpec) -> Path:
        """Where publish stages a version: a hidden folder next to the versions, on the same filesystem."""
        path = self.folder(spec) / VERSIONS
        path.mkdir(parents=True, exist_ok=True)
        return path

    def history(self, spec: SourceSpec) -> list[Version]:
        versions = self.folder(spec) / VERSIONS
        found = []
        for path in versions.iterdir() if versions.is_dir() else ():
            if VERSION_NAME.match(path.name):
                try:
                    record = json.loads((path / VERSION_FILE).read_text(encoding="utf-8"))
                    found.append(Version(path.name, record["content_sha256"], record["rows"], record["date"],
                                         str(path), record.get("changelog", "")))
                except (OSError, ValueError, KeyError):
                    found.append(Version(path.name, "", 0, "", str(path)))
        return sorted(found, key=lambda v: v.number)

    def repair(self, spec: SourceSpec) -> None:
        folder = self.folder(spec)
        for path in folder.glob(f".{CURRENT}.*"):
            path.unlink(missing_ok=True)
        for path in (folder / VERSIONS).glob(".*"):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        complete = [v for v in self.history(spec) if v.content_sha256]
        if complete and (not self.current(spec).exists() or self.current(spec).resolve().name != complete[-1].name):
            self._point(spec, complete[-1].name)

    def commit(self, spec: SourceSpec, staged: Path, version: Version, message: str) -> Version:
        versions = self.folder(spec) / VERSIONS
        history = self.history(spec)
        if history and history[-1].number >= version.number:
            raise PublishConflict(f"{versions}: {history[-1].name} exists already, cannot add {version.name}")
        record = {"version": version.name, "content_sha256": version.content_sha256, "rows": version.rows,
                  "date": version.date, "changelog": version.changelog, "message": message}
        (staged / VERSION_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        final = versions / version.name
        if Path(staged).parent.resolve() != versions.resolve():  # staged elsewhere: copy in, then rename
            tmp = versions / f".{version.name}.{uuid.uuid4().hex}"
            shutil.copytree(staged, tmp)
            staged = tmp
        try:
            os.rename(staged, final)
        except OSError as err:
            raise PublishConflict(f"{final}: cannot create this version ({err.strerror})") from None
        failpoint("publish.committed")
        self._point(spec, version.name)
        return replace(version, ref=str(final))

    def _point(self, spec: SourceSpec, name: str) -> None:
        link = self.folder(spec) / f".{CURRENT}.{uuid.uuid4().hex}"
        link.symlink_to(Path(VERSIONS) / name, target_is_directory=True)
        failpoint("publish.linking")
        os.replace(link, self.current(spec))

    def remove(self, spec: SourceSpec, names: list[str]) -> None:
        """Delete whole versions (erasure); never the live one."""
        live = self.current(spec).resolve().name if self.current(spec).exists() else None
        for name in names:
            if name == live:
                raise ValueError(f"{spec.id}: {name} is the live version; publish a new one before removing it")
            shutil.rmtree(self.folder(spec) / VERSIONS / name)
