"""The `hf_dataset` kind: the Parquet files of a dataset repository on the Hugging Face Hub, one unit per file.

The revision (branch, tag or commit) is resolved to its commit first; the card, the listing and every download then
read that one commit. Which files make a config's split follows the conventions of `datasets.load_dataset`: the
README.md's YAML `configs:` (`data_files` per split, `data_dir`) when it has some, else one config `default` in the
default layout (`data/<split>-NNNNN-of-NNNNN.*`, else split names in folder names, then in file names, else every
file is `train`). The Hub's auto-converted branch `refs/convert/parquet` is read in its own layout,
`<config>/<split>/NNNN.parquet` (`partial-<split>` for a split converted in part). Only Parquet is read: a selected
split holding another file is an error, not a silent gap.

A unit's content identity is the LFS sha256 of the tree listing (for a file stored in git itself, its git blob id), so
a file with the same bytes at a new commit is `checked`, not downloaded. Files to read are downloaded by
huggingface_hub into the ingest's work folder (never the user's cache) and read by the Parquet reader. `_source_url`
is the file's /resolve/<commit>/ URL.

The endpoint is the YAML's, else HF_ENDPOINT, else https://huggingface.co, always given to HfApi (huggingface_hub
reads HF_ENDPOINT only when imported). The token is HF_TOKEN, else none (never a cached login); it is in no message,
row or URL. A missing repository, revision, config or split raises HubSourceError naming the YAML, the field and the
public URL; a network failure, 429 or 5xx raises FetchError (Dagster retries; the warehouse keeps its rows).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx2
import yaml
from huggingface_hub import HfApi, hf_hub_url
from huggingface_hub.errors import (GatedRepoError, HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError,
                                   RevisionNotFoundError)
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.repocard import metadata_load

from ..spec import FilesConfig, HfDatasetConfig, SourceSpec
from ..urls import public_url
from .http import FetchError
from .listing import Known, Listed, Plan
from .readers import read_file
from .runner import SourceError

__all__ = ["HubSourceError", "location", "plan", "read"]

DEFAULT_ENDPOINT = "https://huggingface.co"
CONVERTED = "refs/convert/parquet"
PARQUET = FilesConfig(path=".", format="parquet")
TRANSIENT = {408, 429, 500, 502, 503, 504}

# datasets.data_files (fsspec >= 2023.12): the default layout, tried in this order
SHARDED = re.compile(r"data/(\w+(?:\.\w+)*)-[0-9]{5}-of-[0-9]{5}[^/]*\.[^/]*")
KEYWORDS = {"train": ["train", "training"], "validation": ["validation", "valid", "dev", "val"],
            "test": ["test", "testing", "eval", "evaluation"]}
SEP = "[-._ 0-9]"
IN_DIR = ["**/{k}/**", "**/{k}{s}*/**", "**/*{s}{k}/**", "**/*{s}{k}{s}*/**"]
IN_NAME = ["**/{k}{s}*", "**/*{s}{k}{s}*"]
IGNORED = {"README.md", "config.json", "dataset_info.json", "dataset_infos.json", "dummy_data.zip",
           "dataset_dict.json"}


class HubSourceError(SourceError, FileNotFoundError):
    """A repository, revision, config or split that is not there (or not readable with the token given)."""


def endpoint(cfg: HfDatasetConfig) -> str:
    return (cfg.endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def location(spec: SourceSpec) -> str:
    cfg = spec.config
    return public_url(f"{endpoint(cfg)}/datasets/{cfg.repo_id}/tree/{quote(cfg.revision, safe='')}")


def read(spec: SourceSpec, unit: Listed, notes: dict) -> Iterator:
    with open(unit.open_path, "rb") as raw:
        yield from read_file(raw, unit.path, PARQUET, notes)


def plan(spec: SourceSpec, known: dict[str, Known], work: Path, check: Callable[[str], None]) -> Plan:
    cfg = spec.config
    hub = endpoint(cfg)
    check(hub)
    token = os.environ.get("HF_TOKEN") or False
    api = HfApi(endpoint=hub, token=token)
    repo = dict(repo_id=cfg.repo_id, repo_type="dataset")
    where = public_url(f"{hub}/datasets/{cfg.repo_id}")
    with _answers(spec, where, token):
        commit = api.dataset_info(cfg.repo_id, revision=cfg.revision).sha
        files = {f.path: f for f in api.list_repo_tree(**repo, revision=commit, recursive=True)
                 if isinstance(f, RepoFile)}
        card = {}
        if "README.md" in files:
            card = metadata_load(api.hf_hub_download(**repo, filename="README.md", revision=commit,
                                                     cache_dir=work / "hub")) or {}
        listed = [Listed(path=p, url=public_url(hf_hub_url(**repo, filename=p, revision=commit, endpoint=hub)),
                         size=files[p].size, sha256=files[p].lfs.sha256 if files[p].lfs else f"git:{files[p].blob_id}")
                  for p in _select(spec, sorted(files), card, f"{where}/tree/{commit}")]
        out = Plan(listed, vanished=sorted(set(known) - {f.path for f in listed}))
        for f in listed:
            before = known.get(f.path)
            if before is not None and before.current and before.sha256 == f.sha256:
                out.checked.append(f)
                continue
            f.open_path = Path(api.hf_hub_download(**repo, filename=f.path, revision=commit, cache_dir=work / "hub"))
            out.read.append(f)
    return out


@contextmanager
def _answers(spec: SourceSpec, where: str, token: str | bool) -> Iterator[None]:
    """The Hub's refusals as errors naming the YAML and the field; network failures as FetchError. No message of
    huggingface_hub is passed on: the type and the HTTP status say enough and cannot hold a credential."""
    cfg, at = spec.config, f"{spec.origin}: field 'hf_dataset"
    try:
        yield
    except GatedRepoError:
        raise HubSourceError(f"{at}.repo_id': {where} is gated: accept its conditions on the Hub with the account "
                             f"whose token is in HF_TOKEN") from None
    except RepositoryNotFoundError:
        why = "or HF_TOKEN cannot read it" if token else "or it is private: set HF_TOKEN to a token that reads it"
        raise HubSourceError(f"{at}.repo_id': no dataset {cfg.repo_id!r} at {where} ({why})") from None
    except RevisionNotFoundError:
        raise HubSourceError(f"{at}.revision': no branch, tag or commit {cfg.revision!r} in {where}") from None
    except (HfHubHTTPError, httpx2.TransportError, LocalEntryNotFoundError) as err:
        cause = next((e for e in _chain(err) if getattr(e, "response", None) is not None), None)
        status = getattr(getattr(cause, "response", None), "status_code", None)
        said = f"{where}: {type(err).__name__}" + (f" (HTTP {status})" if status else "")
        if status in TRANSIENT or any(isinstance(e, httpx2.TransportError) for e in _chain(err)):
            raise FetchError(f"{at}': cannot read {said}") from None
        if status == 401 and token:
            raise HubSourceError(f"{at}': {where} refuses the token in HF_TOKEN (HTTP 401): set a valid one") from None
        raise HubSourceError(f"{at}': the Hub refused {said}") from None
    except yaml.YAMLError:
        raise HubSourceError(f"{at}': the README.md of {where} at {cfg.revision!r} is not valid YAML") from None


def _chain(err: BaseException | None) -> Iterator[BaseException]:
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        err = err.__cause__ or err.__context__


def _select(spec: SourceSpec, paths: list[str], card: dict, where: str) -> list[str]:
    """The Parquet files of the config(s) and split(s) the YAML asks for."""
    cfg, at = spec.config, f"{spec.origin}: field 'hf_dataset"
    try:
        configs = layout(paths, card, cfg.revision == CONVERTED)
    except (KeyError, TypeError, AttributeError):
        raise HubSourceError(f"{at}': the README.md 'configs:' of {where} are not in the Hub's format (a list of "
                             f"{{config_name, data_files, data_dir}})") from None
    if cfg.config is not None and cfg.config not in configs:
        raise HubSourceError(f"{at}.config': no config {cfg.config!r} in {where} (configs: "
                             f"{', '.join(configs) or 'none'})")
    chosen = {n: s for n, s in configs.items() if cfg.config in (None, n)}
    if cfg.split is not None:
        if not any(cfg.split in s for s in chosen.values()):
            splits = sorted({k for s in chosen.values() for k in s})
            raise HubSourceError(f"{at}.split': no split {cfg.split!r} in {where} (splits: "
                                 f"{', '.join(splits) or 'none'})")
        chosen = {n: {cfg.split: s[cfg.split]} for n, s in chosen.items() if cfg.split in s}
    out = {p for s in chosen.values() for files in s.values() for p in files}
    other = sorted(p for p in out if not p.endswith(".parquet"))
    if other:
        raise HubSourceError(f"{at}': only Parquet files are read; {where} has {other[0]} in the config and "
                             f"split asked for (choose them with 'config' and 'split')")
    if not out:
        raise HubSourceError(f"{at}': no Parquet file for the config and split asked for in {where}")
    return sorted(out)


def layout(paths: list[str], card: dict, converted: bool = False) -> dict[str, dict[str, list[str]]]:
    """{config: {split: files}} as `datasets` reads the repository: see the module docstring."""
    paths = [p for p in paths if not any(part.startswith((".", "__")) for part in p.split("/"))]
    if converted:
        out: dict[str, dict[str, list[str]]] = {}
        for p in paths:
            if p.endswith(".parquet") and p.count("/") == 2:
                config, split, _ = p.split("/")
                out.setdefault(config, {}).setdefault(split.removeprefix("partial-"), []).append(p)
        return out
    configs = card.get("configs") if isinstance(card.get("configs"), list) else []
    if not configs:
        return {"default": _default(paths)}
    out = {}
    for c in configs:
        base = c.get("data_dir", "").strip("/")
        inside = [p.removeprefix(base + "/") for p in paths if not base or p.startswith(base + "/")]
        files = c.get("data_files")
        split = _default(inside) if files is None else {
            s: [p for p in inside if any(_glob(g).fullmatch(p) for g in gs)] for s, gs in _patterns(files).items()}
        out[c["config_name"]] = {s: [f"{base}/{p}" if base else p for p in ps] for s, ps in split.items()}
    return out


def _patterns(files) -> dict[str, list[str]]:
    """`data_files` in each form the card allows: a path, a list of paths, a list of {split, path}, a mapping."""
    if isinstance(files, str):
        return {"train": [files]}
    if isinstance(files, dict):
        return {s: [p] if isinstance(p, str) else list(p) for s, p in files.items()}
    if all(isinstance(f, dict) for f in files):
        return {f["split"]: [f["path"]] if isinstance(f["path"], str) else list(f["path"]) for f in files}
    return {"train": list(files)}


def _default(paths: list[str]) -> dict[str, list[str]]:
    paths = [p for p in paths if p.rsplit("/", 1)[-1] not in IGNORED]
    sharded: dict[str, list[str]] = {}
    for p in paths:
        if m := SHARDED.fullmatch(p):
            sharded.setdefault(m[1], []).append(p)
    if sharded:
        order = list(KEYWORDS)
        return {s: sharded[s] for s in sorted(sharded, key=lambda s: (order.index(s) if s in order else 3, s))}
    for forms in (IN_DIR, IN_NAME):
        found = {}
        for split, words in KEYWORDS.items():
            globs = [_glob(f.format(k=k, s=SEP)) for k in words for f in forms]
            if files := [p for p in paths if any(g.fullmatch(p) for g in globs)]:
                found[split] = files
        if found:
            return found
    return {"train": paths} if paths else {}


def _glob(pattern: str) -> re.Pattern:
    """fsspec's glob as a regex: `**/` is any folders (or none), `**` anything, `*` and `?` stay in one folder."""
    out, i = "", 0
    pattern = pattern.removeprefix("./")
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] in "*?":
            out, i = out + ("[^/]*" if pattern[i] == "*" else "[^/]"), i + 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) > 0:
            body = pattern[i + 1:end]
            out, i = out + "[" + ("^" + body[1:] if body[0] == "!" else body).replace("\\", "\\\\") + "]", end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)
