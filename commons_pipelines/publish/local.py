"""The local folder target (the embedded default). Layout, every version kept and complete:

    <root>/<source id>/versions/v1/{data/, README.md, croissant.json, version.json}
    <root>/<source id>/versions/v2/...
    <root>/<source id>/current -> versions/v2

A version folder is written under a temporary name and renamed into place, then `current` is swapped with
os.replace, so a crash leaves either the old or the new version live, never half of one.
version.json (inside the version folder, so it arrives with the same rename) records the version's identity.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import replace
from pathlib import Path

from ..spec import SourceSpec
from .targets import VERSION_FILE, VERSION_NAME, PublishConflict, Version


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


class LocalTarget:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalTarget({str(self.root)!r})"

    def folder(self, spec: SourceSpec) -> Path:
        return self.root / spec.id

    def current(self, spec: SourceSpec) -> Path:
        return self.folder(spec) / "current"

    def url(self, spec: SourceSpec) -> str | None:
        return None

    def history(self, spec: SourceSpec) -> list[Version]:
        versions = self.folder(spec) / "versions"
        found = []
        for path in versions.iterdir() if versions.is_dir() else ():
            if VERSION_NAME.match(path.name):
                try:
                    record = json.loads((path / VERSION_FILE).read_text(encoding="utf-8"))
                    found.append(Version(path.name, record["content_sha256"], record["rows"], record["date"], str(path)))
                except (OSError, ValueError, KeyError):
                    found.append(Version(path.name, "", 0, "", str(path)))
        return sorted(found, key=lambda v: v.number)

    def commit(self, spec: SourceSpec, staged: Path, version: Version, message: str) -> Version:
        versions = self.folder(spec) / "versions"
        versions.mkdir(parents=True, exist_ok=True)
        history = self.history(spec)
        if history and history[-1].number >= version.number:
            raise PublishConflict(f"{versions}: {history[-1].name} exists already, cannot add {version.name}")

        final = versions / version.name
        tmp = versions / f".{version.name}.{uuid.uuid4().hex}.tmp"
        shutil.copytree(staged, tmp, copy_function=_link_or_copy)
        record = {"version": version.name, "content_sha256": version.content_sha256, "rows": version.rows,
                  "date": version.date, "message": message}
        (tmp / VERSION_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        try:
            os.rename(tmp, final)
        except OSError as err:
            shutil.rmtree(tmp, ignore_errors=True)
            raise PublishConflict(f"{final}: cannot create this version ({err.strerror})") from None

        link = self.folder(spec) / f".current.{uuid.uuid4().hex}.tmp"
        link.symlink_to(Path("versions") / version.name, target_is_directory=True)
        os.replace(link, self.current(spec))
        return replace(version, ref=str(final))
