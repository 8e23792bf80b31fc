"""The Hugging Face Hub target: one commit per version on `main`, tagged vN."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub.errors import RepositoryNotFoundError

from ..spec import SourceSpec
from .shards import DATA_DIR
from .targets import VERSION_NAME, PublishConflict, Version


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
