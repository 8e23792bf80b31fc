"""Where versions go: the interface every target offers, the local folder target (the embedded default) and the Hub.

Local layout, every version kept and complete:

    <root>/<source id>/versions/v1/{data/, README.md, croissant.json, version.json}
    <root>/<source id>/versions/v2/...
    <root>/<source id>/current -> versions/v2

A version folder is written under a temporary name and renamed into place, then `current` is swapped with
os.replace, so a crash leaves either the old or the new version live, never half of one.
version.json (inside the version folder, so it arrives with the same rename) records the version's identity.

On the Hub a version is one commit on `main` tagged `vN`; see HubTarget.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub.errors import RepositoryNotFoundError

from ..spec import SourceSpec
from .shards import DATA_DIR

VERSION_NAME = re.compile(r"^v([1-9][0-9]*)$")
VERSION_FILE = "version.json"


class PublishConflict(RuntimeError):
    """Someone else published this source between our reading its history and our commit."""


@dataclass(frozen=True)
class Version:
    name: str  # "v1", "v2", ...
    content_sha256: str  # "" when a version's record cannot be read: it then never matches new content
    rows: int
    date: str  # ISO 8601, UTC
    ref: str = ""  # the Hub commit oid, or the local version folder

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


REPO_TYPE = "dataset"
BRANCH = "main"
_MISSING = object()


class HubError(RuntimeError):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def version_trailer(version: Version) -> str:
    return f"content-sha256: {version.content_sha256}\nrows: {version.rows}\ndate: {version.date}\n"


def parse_trailer(text: str) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


class HubTarget:
    """The Hugging Face Hub: one commit per version on `main`, with all its files, tagged v1, v2, ...

    A version's identity (content sha256, rows, date) lives in its commit's description as `key: value` lines, so
    the whole history is two requests (the refs, and main's commits) instead of a download per tag, and it cannot
    drift from the commit it describes. The token stays out of reprs, messages and errors: every Hub failure is
    re-raised as HubError (or PublishConflict) with the token scrubbed and no chained exception holding the request.
    """

    def __init__(self, endpoint: str, token: str | None = None, namespace: str | None = None):
        self.endpoint = endpoint.rstrip("/")
        self.namespace = namespace
        self._token = token if token is not None else os.environ.get("HF_TOKEN")
        self._api = HfApi(endpoint=self.endpoint, token=self._token)

    def __repr__(self) -> str:
        return f"HubTarget(endpoint={self.endpoint!r}, namespace={self.namespace!r})"

    def repo_id(self, spec: SourceSpec) -> str:
        owner, name = spec.publish.repo_id.split("/", 1)
        return f"{self.namespace or owner}/{name}"

    def url(self, spec: SourceSpec) -> str:
        return f"{self.endpoint}/datasets/{self.repo_id(spec)}"

    def _call(self, what: str, method: str, *args: Any, on_missing: Any = _MISSING, **kwargs: Any) -> Any:
        try:
            return getattr(self._api, method)(*args, **kwargs)
        except RepositoryNotFoundError as err:
            if on_missing is not _MISSING:
                return on_missing
            failure, status = str(err), 404
        except Exception as err:  # noqa: BLE001 - every failure leaves here without the request (and its token)
            failure, status = f"{type(err).__name__}: {err}", getattr(getattr(err, "response", None), "status_code", None)
        if self._token:
            failure = failure.replace(self._token, "***")
        if status in (409, 412):  # a tag or a commit got there first (parent_commit no longer the head)
            raise PublishConflict(f"{what}: {failure}")
        raise HubError(f"{what}: {failure}", status)

    def history(self, spec: SourceSpec) -> list[Version]:
        repo = self.repo_id(spec)
        refs = self._call(f"{repo}: list refs", "list_repo_refs", repo, repo_type=REPO_TYPE, on_missing=None)
        if refs is None:
            return []
        tags = [t for t in refs.tags if VERSION_NAME.match(t.name)]
        if not tags:
            return []
        commits = {c.commit_id: c for c in self._call(f"{repo}: list commits", "list_repo_commits", repo,
                                                      repo_type=REPO_TYPE, revision=BRANCH)}
        versions = []
        for tag in tags:
            commit = commits.get(tag.target_commit)
            if commit is None:  # a tag off main's history
                commit = self._call(f"{repo}: commit of {tag.name}", "list_repo_commits", repo,
                                    repo_type=REPO_TYPE, revision=tag.target_commit)[0]
            fields = parse_trailer(f"{commit.title}\n{commit.message}")
            try:
                rows = int(fields.get("rows", ""))
            except ValueError:
                rows = 0
            versions.append(Version(tag.name, fields.get("content-sha256", ""), rows,
                                    fields.get("date", commit.created_at.isoformat()), tag.target_commit))
        return sorted(versions, key=lambda v: v.number)

    def commit(self, spec: SourceSpec, staged: Path, version: Version, message: str) -> Version:
        repo = self.repo_id(spec)
        self._call(f"{repo}: create repo", "create_repo", repo, repo_type=REPO_TYPE,
                   private=spec.publish.private, exist_ok=True)
        refs = self._call(f"{repo}: list refs", "list_repo_refs", repo, repo_type=REPO_TYPE)
        newest = max((int(m.group(1)) for t in refs.tags if (m := VERSION_NAME.match(t.name))), default=0)
        if newest >= version.number:
            raise PublishConflict(f"{repo}: v{newest} exists already, cannot add {version.name}")
        head = next((b.target_commit for b in refs.branches if b.name == BRANCH), None)
        present = self._call(f"{repo}: list files", "list_repo_files", repo, repo_type=REPO_TYPE,
                             revision=head) if head else []

        files = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())
        operations = [CommitOperationAdd(path_in_repo=f, path_or_fileobj=str(staged / f)) for f in files]
        operations += [CommitOperationDelete(path_in_repo=f) for f in present
                       if f.startswith(f"{DATA_DIR}/") and f not in files]
        info = self._call(f"{repo}: commit {version.name}", "create_commit", repo, operations,
                          commit_message=message, commit_description=version_trailer(version),
                          repo_type=REPO_TYPE, revision=BRANCH, parent_commit=head)
        self._call(f"{repo}: tag {version.name}", "create_tag", repo, tag=version.name, revision=info.oid,
                   repo_type=REPO_TYPE)
        return replace(version, ref=info.oid)
