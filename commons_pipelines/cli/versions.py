"""`commons versions`: the published versions of a source, and what changed between two."""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from ..spec import SourceSpec

if TYPE_CHECKING:
    pass

from . import (_catalog, _pick, _settings, _target, app, fail, out, say)


# ---------------------------------------------------------------------------------------------------------------------
# commons versions: the published versions of a source, and what changed between two


def _version_files(target, spec: SourceSpec, version, folder: Path) -> list[Path]:
    """The Parquet shards of one version as local files: the version's folder, the Hub's files at the version's tag
    (through huggingface_hub's download cache), or copies of an object store's in `folder`."""
    from ..publish import ObjectTarget
    from ..publish.previous import shard_files

    paths = shard_files(target, spec, version.name)
    return target.download(paths, folder / version.name) if isinstance(target, ObjectTarget) else paths


@dataclass
class VersionDiff:
    key: list[str]
    by_language: dict[str, Counter]
    columns_added: list[str]
    columns_removed: list[str]

    @property
    def total(self) -> Counter:
        total: Counter = Counter()
        for counts in self.by_language.values():
            total.update(counts)
        return total


def diff_versions(old: list[Path], new: list[Path], key: list[str]) -> VersionDiff:
    """Rows added, removed, changed (same key, other content) and unchanged, per language (`_lang` of the newer row,
    or of the removed one). The key is the primary key when both versions have its columns, else `_row_sha256`."""
    import duckdb

    from ..columns import LANG, ROW_SHA256, sql_string

    def names(files: list[Path]) -> list[str]:
        import pyarrow.parquet as pq

        return pq.read_schema(files[0]).names if files else []

    before, after = names(old), names(new)
    if not key or not all(k in before and k in after for k in key):
        key = [ROW_SHA256]

    def quote(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    with duckdb.connect() as con:
        for view, files, cols in (("a", old, before), ("b", new, after)):
            lang = quote(LANG) if LANG in cols else "'all'"
            if files:
                paths = ", ".join(sql_string(str(f)) for f in files)
                con.execute(f"create view {view} as select {', '.join(quote(k) for k in key)}, "
                            f"{quote(ROW_SHA256)} as h, {lang} as l from read_parquet([{paths}], union_by_name = true)")
            else:
                con.execute(f"create view {view} as select {', '.join('null as ' + quote(k) for k in key)}, "
                            "null::varchar as h, null::varchar as l where false")
        on = " and ".join(f"a.{quote(k)} is not distinct from b.{quote(k)}" for k in key)
        rows = con.execute(f"""
            select coalesce(b.l, a.l, 'und') as lang,
                   count(*) filter (where a.h is null) as added,
                   count(*) filter (where b.h is null) as removed,
                   count(*) filter (where a.h is not null and b.h is not null and a.h <> b.h) as changed,
                   count(*) filter (where a.h = b.h) as unchanged
            from a full outer join b on {on} group by 1 order by 1""").fetchall()
    by_language = {lang: Counter(added=a, removed=r, changed=c, unchanged=u) for lang, a, r, c, u in rows}
    system = {ROW_SHA256}
    return VersionDiff(key, by_language, [c for c in after if c not in before and c not in system],
                       [c for c in before if c not in after and c not in system])


@app.command()
def versions(
    source: Annotated[str, typer.Argument(help="The source id.")],
    diff: Annotated[tuple[str, str] | None, typer.Option("--diff", "--compare", metavar="OLD NEW",
                                                          help="Compare two versions: rows added, removed and changed "
                                                               "per language.", show_default=False)] = None,
) -> None:
    """List a source's published versions (local folder or object store, or the Hub with COMMONS_TARGET=hub) with
    their rows and dates; with --diff v1 v2, what changed between two of them."""
    settings = _settings()
    specs, broken = _catalog()
    spec = _pick([source], specs, broken)[source]
    target = _target(settings)
    from ..publish import HubError

    try:
        history = target.history(spec)
    except HubError as error:
        fail(str(error))
    where = target.url(spec) or str(target.folder(spec))
    if not history:
        fail(f"{source}: nothing published yet in {where} (run `commons run {source}`)")
    by_name = {v.name: v for v in history}
    if diff is None:
        say(f"{source}: {len(history)} version(s) in {where}")
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        for name, justify in (("version", "left"), ("date", "left"), ("rows", "right"), ("changes", "left")):
            table.add_column(name, justify=justify, overflow="fold")
        for v in history:
            live = " (live)" if v is history[-1] else ""
            table.add_row(f"{v.name}{live}", v.date or "?", f"{v.rows:,}", v.changelog or "")
        out().print(table)
        return
    missing = [n for n in diff if n not in by_name]
    if missing:
        fail(f"{source}: no version {', '.join(map(repr, missing))}; versions: {', '.join(by_name)}", code=2)
    old, new = (by_name[n] for n in diff)
    try:
        with tempfile.TemporaryDirectory(prefix="commons-versions-") as tmp:
            result = diff_versions(_version_files(target, spec, old, Path(tmp)),
                                   _version_files(target, spec, new, Path(tmp)), [_column(c) for c in spec.primary_key])
    except HubError as error:
        fail(str(error))
    key = ", ".join(result.key)
    say(f"{source}: {old.name} ({old.rows:,} rows, {old.date}) -> {new.name} ({new.rows:,} rows, {new.date}); "
        f"a row is identified by {key}" + (" (an edit counts as one row removed and one added)"
                                             if result.key == ["_row_sha256"] else ""))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in ("language", "added", "removed", "changed", "unchanged"):
        table.add_column(name, justify="left" if name == "language" else "right")
    for lang, counts in [*result.by_language.items(), ("total", result.total)]:
        table.add_row(lang, *(f"{counts[k]:,}" for k in ("added", "removed", "changed", "unchanged")),
                      style="bold" if lang == "total" else None)
    out().print(table)
    if result.columns_added or result.columns_removed:
        say(f"columns added: {', '.join(result.columns_added) or 'none'}; "
            f"removed: {', '.join(result.columns_removed) or 'none'}")


def _column(name: str) -> str:
    from ..naming import column_name

    return column_name(name)
