"""The Hugging Face Hub target: one commit per version on `main`, tagged vN.

A version's identity lives in its commit's description as `key: value` lines (the trailer: version, content-sha256,
rows, date, changelog), so the whole history is two requests (the refs, and main's commits) instead of a download
per tag, and it cannot drift from the commit it describes. Commits written before `version` and `changelog` existed
still parse: the tag names the version.

Publishing is three steps: upload (LFS files go to storage, failpoint "publish.uploaded"), commit on `main` with
`parent_commit` set to the head we read (failpoint "publish.committed"), tag. A crash between the last two leaves a
commit whose trailer names a version no tag names: `repair` tags it, and publish calls repair first.

Faults: every call is retried on 429, 5xx (408, 500, 502, 503, 504), connection errors and timeouts, with exponential
backoff that waits at least what a `Retry-After` header asks. Uploads, preupload checks and paginated listings
already retry inside huggingface_hub (5 retries, 1 s doubling to 8 s, Retry-After + 1 s); every other call (refs,
repo creation, commit, tags, squash, downloads) goes through tenacity with this target's limits. A commit whose
answer is lost (timeout, reset, 5xx) may still have landed: before retrying, main's new commits are read, and one
carrying our trailer is ours. 409 and 412 (a tag or a commit got there first) raise PublishConflict for the caller to
re-read the history. What still fails is a HubError: one line, token scrubbed, nothing chained that holds the request;
the previous version is then still the newest tag (if the commit landed and only its tag failed, main is one untagged
commit ahead until the next run's repair).

Timeouts: huggingface_hub shares one HTTP client per process and sets no timeout on most calls, so `timeout` is
installed process-wide (`set_request_timeout`): no request made through huggingface_hub in this process waits longer
than that for a connection, a read or a write.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, set_client_factory
from huggingface_hub.errors import RepositoryNotFoundError
from huggingface_hub.utils import _http
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from ..faults import failpoint
from ..spec import SourceSpec
from .shards import DATA_DIR
from .targets import VERSION_NAME, PublishConflict, Version

REPO_TYPE = "dataset"
BRANCH = "main"
TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})
CONFLICT = frozenset({409, 412})
_NETWORK = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError)
_MISSING = object()

log = logging.getLogger(__name__)


class HubError(RuntimeError):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def version_trailer(version: Version) -> str:
    lines = [f"version: {version.name}", f"content-sha256: {version.content_sha256}", f"rows: {version.rows}",
             f"date: {version.date}"]
    if changelog := " ".join(version.changelog.split()):
        lines.append(f"changelog: {changelog}")
    return "\n".join(lines) + "\n"


def parse_trailer(text: str) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def _trailer(commit: Any) -> dict[str, str]:
    return parse_trailer(f"{commit.title}\n{commit.message}")


def _carries(commit: Any, version: Version) -> bool:
    fields = _trailer(commit)
    return fields.get("version") == version.name and fields.get("content-sha256") == version.content_sha256


# --- the process-wide request timeout ---

_timeout: float | None = None
_installed = False


def _cap_timeout(request: httpx2.Request) -> None:
    if _timeout is None:
        return
    current = request.extensions.get("timeout") or httpx2.Timeout(None).as_dict()
    capped = {kind: _timeout if value is None else min(value, _timeout) for kind, value in current.items()}
    request.extensions = {**request.extensions, "timeout": capped}


def set_request_timeout(seconds: float | None) -> None:
    """Cap every request huggingface_hub makes in this process at `seconds` per connect, read and write (None: its
    own defaults again: no timeout on most calls, HF_HUB_DOWNLOAD_TIMEOUT / HF_HUB_ETAG_TIMEOUT on downloads).

    huggingface_hub 2.4 takes no timeout per HfApi: its one shared client comes from a factory, which is wrapped here
    once (keeping a factory someone installed before) with a request hook; paginated listings pass an explicit
    `timeout=None`, which only a hook can override."""
    global _timeout, _installed
    _timeout = seconds
    if not _installed and seconds is not None:
        make = _http._GLOBAL_CLIENT_FACTORY  # huggingface_hub is pinned; there is no public getter

        def factory() -> httpx2.Client:
            client = make()
            client.event_hooks["request"].append(_cap_timeout)
            return client

        set_client_factory(factory)
        _installed = True


# --- classifying failures ---

def _chain(err: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        err = err.__cause__ or err.__context__


def _cause(err: BaseException) -> BaseException | None:
    """The HTTP answer or network failure behind `err`: itself, or what it wraps (LFS failures arrive as a
    RuntimeError raised from it; a failed download as a cache miss raised from it)."""
    return next((e for e in _chain(err) if isinstance(e, _NETWORK) or getattr(e, "response", None) is not None), None)


def _status(err: BaseException) -> int | None:
    return getattr(getattr(_cause(err), "response", None), "status_code", None)


def _transient(err: BaseException) -> bool:
    return isinstance(_cause(err), _NETWORK) or _status(err) in TRANSIENT


def _retry_after(err: BaseException) -> float:
    response = getattr(_cause(err), "response", None)
    value = str(response.headers.get("Retry-After", "")).strip() if response is not None else ""
    return float(value) if value.isdigit() else 0.0


def _describe(err: BaseException) -> str:
    """`Type: first line`, followed by the failure it wraps if it only wraps one."""
    def line(e: BaseException) -> str:
        text = str(e).strip().splitlines()
        return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__

    cause = _cause(err)
    return line(err) if cause is None or cause is err else f"{line(err)} <- {line(cause)}"


class HubTarget:
    """The Hugging Face Hub: one commit per version on `main`, with all its files, tagged v1, v2, ...

    `attempts` bounds the tries of each call retried here; waits start at `wait` seconds and double up to `max_wait`
    (a Retry-After header raises a wait, still capped at `max_wait`). `timeout` is the process-wide request timeout
    (see `set_request_timeout`; None leaves it alone). The token stays out of reprs, messages and errors.
    """

    def __init__(self, endpoint: str, token: str | None = None, namespace: str | None = None, *, attempts: int = 5,
                 wait: float = 1.0, max_wait: float = 60.0, timeout: float | None = 90.0):
        self.endpoint = endpoint.rstrip("/")
        self.namespace = namespace
        self.attempts, self.wait, self.max_wait = attempts, wait, max_wait
        self._token = token if token is not None else os.environ.get("HF_TOKEN")
        self._api = HfApi(endpoint=self.endpoint, token=self._token)
        if timeout is not None:
            set_request_timeout(timeout)

    def __repr__(self) -> str:
        return f"HubTarget(endpoint={self.endpoint!r}, namespace={self.namespace!r})"

    def repo_id(self, spec: SourceSpec) -> str:
        owner, name = spec.publish.repo_id.split("/", 1)
        return f"{self.namespace or owner}/{name}"

    def url(self, spec: SourceSpec) -> str:
        return f"{self.endpoint}/datasets/{self.repo_id(spec)}"

    def staging(self, spec: SourceSpec) -> None:
        return None

    # --- calls ---

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def _backoff(self, state: RetryCallState) -> float:
        doubling = self.wait * 2 ** (state.attempt_number - 1) * random.uniform(0.5, 1.0)
        return min(self.max_wait, max(doubling, _retry_after(state.outcome.exception())))

    def _call(self, what: str, method: str | Callable[..., Any], *args: Any, on_missing: Any = _MISSING,
              retry: bool = True, **kwargs: Any) -> Any:
        """Call an HfApi method (by name) or a function; `retry=False` for calls huggingface_hub retries itself."""
        call = getattr(self._api, method) if isinstance(method, str) else method

        def before_sleep(state: RetryCallState) -> None:
            log.warning("%s: %s; retry %d of %d in %.1f s", what, self._scrub(_describe(state.outcome.exception())),
                        state.attempt_number, self.attempts - 1, state.upcoming_sleep)

        retrying = Retrying(stop=stop_after_attempt(self.attempts if retry else 1), wait=self._backoff,
                            retry=retry_if_exception(_transient), before_sleep=before_sleep, reraise=True)
        try:
            return retrying(call, *args, **kwargs)
        except (HubError, PublishConflict):
            raise
        except RepositoryNotFoundError as err:
            if on_missing is not _MISSING:
                return on_missing
            failure, status, transient = _describe(err), 404, False
        except Exception as err:  # noqa: BLE001 - every failure leaves here without the request (and its token)
            failure, status, transient = _describe(err), _status(err), _transient(err)
        if transient:
            tries = retrying.statistics.get("attempt_number", 1)
            failure += f" (gave up after {tries} attempts)" if retry else " (gave up after huggingface_hub's retries)"
        failure = self._scrub(f"{what}: {failure}")
        if status in CONFLICT:
            raise PublishConflict(failure)
        raise HubError(failure, status)

    def _refs(self, repo: str) -> tuple[dict[str, str], str | None]:
        """Version tags (name -> commit) and main's head; nothing when the repo does not exist."""
        refs = self._call(f"{repo}: list refs", "list_repo_refs", repo, repo_type=REPO_TYPE, on_missing=None)
        if refs is None:
            return {}, None
        tags = {t.name: t.target_commit for t in refs.tags if VERSION_NAME.match(t.name)}
        return tags, next((b.target_commit for b in refs.branches if b.name == BRANCH), None)

    def _commits(self, repo: str, revision: str = BRANCH, what: str = "") -> list[Any]:
        return self._call(what or f"{repo}: list commits of {revision}", "list_repo_commits", repo,
                          repo_type=REPO_TYPE, revision=revision, retry=False)

    def _tag(self, repo: str, name: str, oid: str) -> None:
        """Tag `oid`; a 409 is fine when the tag is ours (an earlier attempt whose answer was lost)."""
        try:
            self._call(f"{repo}: tag {name}", "create_tag", repo, tag=name, revision=oid, repo_type=REPO_TYPE)
            return
        except PublishConflict as err:
            taken = err
        if self._refs(repo)[0].get(name) != oid:
            raise taken

    def _untag(self, repo: str, name: str) -> None:
        try:
            self._call(f"{repo}: delete tag {name}", "delete_tag", repo, tag=name, repo_type=REPO_TYPE)
        except HubError as err:
            if err.status != 404:  # 404: gone already, an earlier attempt's answer was lost
                raise

    # --- the Target interface ---

    def history(self, spec: SourceSpec) -> list[Version]:
        repo = self.repo_id(spec)
        tags, _ = self._refs(repo)
        if not tags:
            return []
        commits = {c.commit_id: c for c in self._commits(repo)}
        versions = []
        for name, oid in tags.items():
            commit = commits.get(oid) or self._commits(repo, oid)[0]  # a tag off main's history
            fields = _trailer(commit)
            try:
                rows = int(fields.get("rows", ""))
            except ValueError:
                rows = 0
            date = fields.get("date", commit.created_at.isoformat())
            versions.append(Version(name, fields.get("content-sha256", ""), rows, date, oid,
                                    fields.get("changelog", "")))
        return sorted(versions, key=lambda v: v.number)

    def repair(self, spec: SourceSpec) -> None:
        """Tag every commit on main whose trailer names a version no tag names (a crash between commit and tag).
        When two commits name the same version, the newer gets the tag."""
        repo = self.repo_id(spec)
        tags, head = self._refs(repo)
        if head is None:
            return
        tagged = set(tags.values())
        for commit in self._commits(repo):  # newest first
            name = _trailer(commit).get("version", "")
            if VERSION_NAME.match(name) and name not in tags and commit.commit_id not in tagged:
                log.warning("%s: %s was committed but never tagged; tagging %s", repo, name, commit.commit_id)
                self._tag(repo, name, commit.commit_id)
                tags[name] = commit.commit_id

    def commit(self, spec: SourceSpec, staged: Path, version: Version, message: str) -> Version:
        repo = self.repo_id(spec)
        self._call(f"{repo}: create repo", "create_repo", repo, repo_type=REPO_TYPE,
                   private=spec.publish.private, exist_ok=True)
        tags, head = self._refs(repo)
        newest = max((int(VERSION_NAME.match(name).group(1)) for name in tags), default=0)
        if newest >= version.number:
            raise PublishConflict(f"{repo}: v{newest} exists already, cannot add {version.name}")
        present = self._call(f"{repo}: list files", "list_repo_files", repo, repo_type=REPO_TYPE, revision=head,
                             retry=False) if head else []

        files = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())
        additions = [CommitOperationAdd(path_in_repo=f, path_or_fileobj=str(staged / f)) for f in files]
        deletions = [CommitOperationDelete(path_in_repo=f) for f in present
                     if f.startswith(f"{DATA_DIR}/") and f not in files]
        self._call(f"{repo}: upload {version.name}", "preupload_lfs_files", repo, additions, repo_type=REPO_TYPE,
                   revision=BRANCH, free_memory=False, retry=False)
        failpoint("publish.uploaded")
        oid = self._call(f"{repo}: commit {version.name}", self._commit_once, repo, [*additions, *deletions],
                         message, version, head)
        failpoint("publish.committed")
        self._tag(repo, version.name, oid)
        return replace(version, ref=oid)

    def _commit_once(self, repo: str, operations: list, message: str, version: Version, parent: str | None) -> str:
        try:
            oid = self._api.create_commit(repo, operations, commit_message=message,
                                          commit_description=version_trailer(version), repo_type=REPO_TYPE,
                                          revision=BRANCH, parent_commit=parent).oid
        except Exception as err:
            if not (_transient(err) or _status(err) in CONFLICT):
                raise
            failure = err
        else:
            if oid == parent:  # huggingface_hub skips a commit that changes nothing and answers the head
                raise HubError(f"{repo}: {version.name} changes no file")
            return oid
        # The answer was lost or refused: our commit may be on main all the same.
        landed = self._landed(repo, version, parent)
        if landed is None:
            raise failure
        log.warning("%s: %s landed although its commit call failed", repo, version.name)
        return landed

    def _landed(self, repo: str, version: Version, parent: str | None) -> str | None:
        for commit in self._commits(repo, what=f"{repo}: commit {version.name} failed, then checking if it landed"):
            if commit.commit_id == parent:
                return None
            if _carries(commit, version):
                return commit.commit_id
        return None

    def purge_history(self, spec: SourceSpec, keep: Version) -> Version:
        """Erase every version but `keep`, which must be the newest (main's head): main is squashed into one commit
        carrying keep's trailer (HfApi.super_squash_history), every other version's tag is deleted and keep's tag
        moves to the new commit. Returns keep with its new ref.

        The cost, for everyone and for good: every older version disappears with its files (the point: erased rows
        leave the Hub once no ref holds them), its tag and its commit id (`revision=` an old tag or oid stops
        resolving, clones must be made again), and main's history is one commit. Other branches, tags not named vN
        and pull-request refs are left alone and still hold old files: remove those separately.
        Safe to run again after a crash: a head that carries keep's trailer is already squashed.
        """
        repo = self.repo_id(spec)
        tags, head = self._refs(repo)
        commits = self._commits(repo) if head else []
        if not commits or (tags.get(keep.name) != head and not _carries(commits[0], keep)):
            raise PublishConflict(f"{repo}: {keep.name} is not main's head; only the newest version can be kept")
        if len(commits) > 1:
            self._call(f"{repo}: squash history", "super_squash_history", repo, branch=BRANCH, repo_type=REPO_TYPE,
                       commit_message=f"History purged: only {keep.name} remains\n\n{version_trailer(keep)}")
            tags, head = self._refs(repo)
        for name, oid in sorted(tags.items()):
            if oid != head:
                self._untag(repo, name)
        if tags.get(keep.name) != head:
            self._tag(repo, keep.name, head)
        return replace(keep, ref=head)
