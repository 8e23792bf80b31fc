"""Where versions go: what a version is, and the interface every target offers (local.py: a folder, the embedded
default; hub.py: the Hugging Face Hub)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..spec import SourceSpec

VERSION_NAME = re.compile(r"^v([1-9][0-9]*)$")
VERSION_FILE = "version.json"


class PublishConflict(RuntimeError):
    """Someone else published this source between our reading its history and our commit."""


@dataclass(frozen=True)
class Version:
    name: str  # "v1", "v2", ...
    content_sha256: str  # the data's identity (see release.py); "" when unreadable: it then never matches new content
    rows: int
    date: str  # ISO 8601, UTC
    ref: str = ""  # the Hub commit oid, or the local version folder
    changelog: str = ""  # one line for the card's changelog (rows added, removed, erased and why); never row content

    @property
    def number(self) -> int:
        return int(VERSION_NAME.match(self.name).group(1))

    @staticmethod
    def named(number: int) -> str:
        return f"v{number}"


class Target(Protocol):
    def history(self, spec: SourceSpec) -> list[Version]:
        """The published versions, oldest first."""

    def commit(self, spec: SourceSpec, staged: Path, version: Version, message: str) -> Version:
        """Publish the staged dataset folder atomically as `version`; returns it with its ref filled in."""

    def url(self, spec: SourceSpec) -> str | None:
        """The dataset's public web page, if it has one."""

    def staging(self, spec: SourceSpec) -> Path | None:
        """Where publish writes a version before committing it (None: a temporary folder, see release.staging)."""

    def repair(self, spec: SourceSpec) -> None:
        """Finish what a crashed publish left: the newest complete version made live (local `current`, Hub tag),
        temporary files removed. Idempotent; called before every publish."""
