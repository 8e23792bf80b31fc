"""Each source's warehouse file and curated folder, kept in an object store as well (COMMONS_STORE_URL, e.g.
`s3://bucket/prefix`), so that Dagster steps on machines that share no volume (dagster-k8s: a pod per run or per
step) find what the steps before them wrote.

COMMONS_HOME stays the working copy: DuckDB needs a local file, and a curation is written locally. A step fetches
what it reads before it starts, only what changed since this machine last had it, and keeps what it wrote when it
ends. The store's layout:

    <root>/warehouse/<source>.duckdb     the warehouse file, uploaded whole after each ingest
    <root>/warehouse/<source>.json       {"copy": <id>}, written after the file; the local file's `.copy` marker
                                         names the copy it is, so an unchanged warehouse is not fetched again
    <root>/curated/<source>/current.json                  {"run": <curation id>}, written after the run's files
    <root>/curated/<source>/runs/<curation id>/...        the current curation: data, quarantine, manifest, checks
    <root>/curated/<source>/partitions/<key>/current.json, runs/<id>/...   the same for each partition

A step that fails before it keeps leaves the store as it was, so the next step reads the last complete state. Steps of
one source never run at once (its pool, `factory.warehouse_pool`), so nothing here guards against two writers.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import duckdb

from ..curate.partitions import PARTITIONS, drop_others
from ..curate.runner import CURRENT, RUNS, make_current
from ..publish.objects import Bucket

POINTER = "current.json"
KEPT_AGAIN = (".json", ".html")
"""Files a step may rewrite inside a run (the checks' verdicts and pages, the compute record): uploaded or fetched
every time; the others (Parquet parts, quarantine) are never rewritten, so their size tells a copy from none."""


class Mirror(Bucket):
    def _key(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def _json(self, key: str, what: str) -> dict | None:
        if not self._call(what, "exists", key):
            return None
        return json.loads(self._call(what, "cat_file", key))

    def fetch_database(self, db: Path, source_id: str) -> bool:
        """The store's copy of the warehouse file in place of the local one, unless the local one is that copy.
        Whether it was fetched."""
        copy = self._json(self._key("warehouse", f"{source_id}.json"), f"cannot read {source_id}'s warehouse record")
        marker = _marker(db)
        if copy is None or (db.exists() and marker.exists() and marker.read_text() == copy["copy"]):
            return False
        db.parent.mkdir(parents=True, exist_ok=True)
        part = db.with_name(f".{db.name}.{os.getpid()}.part")
        self._call(f"cannot fetch {source_id}'s warehouse", "get_file",
                   self._key("warehouse", f"{source_id}.duckdb"), str(part))
        db.with_name(db.name + ".wal").unlink(missing_ok=True)
        os.replace(part, db)
        marker.write_text(copy["copy"])
        return True

    def keep_database(self, db: Path, source_id: str) -> None:
        """Upload the warehouse file, then the record that names this copy."""
        if db.with_name(db.name + ".wal").exists():  # fold the write-ahead log in: the file alone is the warehouse
            with duckdb.connect(str(db)) as con:
                con.execute("checkpoint")
        copy = uuid.uuid4().hex
        self._call(f"cannot keep {source_id}'s warehouse", "put_file", str(db),
                   self._key("warehouse", f"{source_id}.duckdb"))
        self._call(f"cannot keep {source_id}'s warehouse", "pipe_file", self._key("warehouse", f"{source_id}.json"),
                   json.dumps({"copy": copy}).encode())
        _marker(db).write_text(copy)

    def keep_curated(self, folder: Path, source_id: str, partition: str | None = None,
                     written: list[Path] | None = None) -> None:
        """Upload the current run of the source's folder and of each partition's, then point at it, then remove
        the store's other runs and the partitions the folder no longer has. With `partition`, that partition's
        only: partitions are staged in parallel runs, each keeps its own. With `written`, only these files of the
        current run: the checks run in parallel, each adds its verdict, page and footprint."""
        base = self._key("curated", source_id)
        if written:
            run = (folder / CURRENT).resolve()
            names = [p.resolve().relative_to(run).as_posix() for p in written]
            self._call(f"cannot keep {source_id}'s checks", "put", [str(p) for p in written],
                       [f"{base}/{RUNS}/{run.name}/{name}" for name in names])
            return
        folders = ([folder / PARTITIONS / partition] if partition else
                   [folder, *sorted(p for p in (folder / PARTITIONS).glob("*") if p.is_dir())])
        for local in folders:
            if not (local / CURRENT).exists():
                continue
            run = (local / CURRENT).resolve()
            remote = "/".join([base, *local.relative_to(folder).parts])
            have = self._sizes(f"{remote}/{RUNS}/{run.name}", source_id)
            files = [p for p in sorted(run.rglob("*")) if p.is_file() and not p.name.startswith(".")]
            sent = [p for p in files
                    if p.suffix in KEPT_AGAIN or have.get(p.relative_to(run).as_posix()) != p.stat().st_size]
            if sent:
                self._call(f"cannot keep {source_id}'s curation", "put", [str(p) for p in sent],
                           [f"{remote}/{RUNS}/{run.name}/{p.relative_to(run).as_posix()}" for p in sent])
            self._call(f"cannot keep {source_id}'s curation", "pipe_file", f"{remote}/{POINTER}",
                       json.dumps({"run": run.name}).encode())
            others = [d for d in self._ls(f"{remote}/{RUNS}", source_id) if d.rsplit("/", 1)[-1] != run.name]
            if others:
                self._call(f"cannot remove {source_id}'s older curations", "rm", others, recursive=True)
        if partition:
            return
        names = {p.name for p in folders[1:]}
        gone = [d for d in self._ls(f"{base}/{PARTITIONS}", source_id) if d.rsplit("/", 1)[-1] not in names]
        if gone:
            self._call(f"cannot remove {source_id}'s vanished partitions", "rm", gone, recursive=True)

    def fetch_curated(self, folder: Path, source_id: str, partition: str | None = None) -> bool:
        """Make the local folder hold the store's current runs (the source's and each partition's), fetching only
        the files it lacks; local partitions the store has not are removed. With `partition`, that partition's
        only. Whether the store had a curation."""
        base = self._key("curated", source_id)
        where = [f"{base}/{PARTITIONS}/{partition}/{POINTER}"] if partition else [
            f"{base}/{POINTER}", f"{base}/{PARTITIONS}/*/{POINTER}"]
        pointers = [p for pattern in where for p in self._call(f"cannot read {source_id}'s curation", "glob", pattern)]
        if not pointers:
            return False
        for pointer in pointers:
            rel = pointer[len(base) + 1:-len(POINTER)].strip("/")
            local = folder / rel if rel else folder
            cid = json.loads(self._call(f"cannot read {source_id}'s curation", "cat_file", pointer))["run"]
            remote, run = f"{pointer[:-len(POINTER)]}{RUNS}/{cid}", local / RUNS / cid
            wanted = [name for name, size in self._sizes(remote, source_id).items()
                      if Path(name).suffix in KEPT_AGAIN or not (run / name).exists()
                      or (run / name).stat().st_size != size]
            for name in wanted:
                (run / name).parent.mkdir(parents=True, exist_ok=True)
            if wanted:
                self._call(f"cannot fetch {source_id}'s curation", "get", [f"{remote}/{n}" for n in wanted],
                           [str(run / n) for n in wanted])
            if not (local / CURRENT).exists() or (local / CURRENT).resolve().name != cid:
                make_current(local, cid)
        if not partition:
            drop_others(folder, [p[len(base) + 1:].split("/")[1] for p in pointers
                                 if p.startswith(f"{base}/{PARTITIONS}/")])
        return True

    def _sizes(self, prefix: str, source_id: str) -> dict[str, int]:
        found = self._call(f"cannot list {source_id}'s curation", "find", prefix, detail=True)
        return {path[len(prefix) + 1:]: info["size"] for path, info in found.items()}

    def _ls(self, prefix: str, source_id: str) -> list[str]:
        if not self._call(f"cannot list {source_id}'s curation", "exists", prefix):
            return []
        return [e["name"] for e in self._call(f"cannot list {source_id}'s curation", "ls", prefix, detail=True)
                if e["type"] == "directory"]


def _marker(db: Path) -> Path:
    return db.with_name(db.name + ".copy")
