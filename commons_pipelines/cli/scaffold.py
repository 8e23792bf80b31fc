"""`commons new-source`: a source YAML written from a template per kind, and its recorded-response test.

Every template loads as it is written (it is parsed before anything is written), so a contributor starts from a
source that `commons check` reads; what only the contributor can know is marked with PLACEHOLDER, and `commons check`
lists the placeholders left. The test goes to `commons_pipelines_tests/test_source_<id>.py`, next to the test helpers
it uses (Replay, the Hub emulator): it serves the responses recorded in `commons_pipelines_tests/captures/<id>/` over
local HTTP, or reads a local file or SQLite database in place, and runs the source through the nightly job to v1.
"""

from __future__ import annotations

import csv
import json
import os
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import yaml

from ..licences import OPEN_LICENCES
from ..spec import CATALOG_DIR, KINDS, SpecError, allowed_roots, inside_roots, parse_spec

PLACEHOLDER = "TODO(new-source)"
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,62}$")  # spec.SourceId
TESTS_DIR = Path(__file__).resolve().parents[2] / "commons_pipelines_tests"
FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
           ".parquet": "parquet"}
CONTENT_TYPES = {"csv": "text/csv", "tsv": "text/tab-separated-values", "jsonl": "application/x-ndjson",
                 "json": "application/json", "parquet": "application/octet-stream"}
T = f"  # {PLACEHOLDER}"


class ScaffoldError(ValueError):
    """Why nothing was written, in one line."""


@dataclass
class Scaffolded:
    yaml: Path
    test: Path | None
    captures: Path | None
    notes: list[str] = field(default_factory=list)


def _title(source_id: str) -> str:
    return source_id.replace("_", " ").capitalize()


def _header(source_id: str, licence: str) -> str:
    title = _title(source_id)
    attribution = OPEN_LICENCES[licence].attribution
    return f"""\
# {title}: what the records are, who publishes them, and why they belong in the commons.{T}
# Written by `commons new-source`: replace each placeholder marked below, then delete its marker (`commons check`
# lists the markers left). The fields are explained in README.md, "Adding a source".
id: {source_id}
title: {title}{T}: a short title, as on the dataset card
description: >-{T}: what a record is, who publishes the data, what it is good for
  Records of {title.lower()}, scaffolded by commons new-source.
homepage: https://example.org/{source_id}{T}: the publisher's page about this data
licence: {licence}{T}: the licence the publisher states, as an SPDX id (open ones only: licences.py)
attribution:{"  # required by " + licence if attribution else "  # who made the data and how to cite it"}
  creator: The publisher{T}
  citation: "The publisher, {title}, https://example.org/{source_id}."{T}
  url: https://example.org/{source_id}{T}
languages: [en]{T}: BCP-47 tags of the text (en, fr, pt-BR ...)
domain: general{T}: education, health, care, science, culture, government, environment, economy or general
"""


def _footer(source_id: str, text_columns: list[str]) -> str:
    texts = f"[{', '.join(text_columns)}]" if text_columns else "[]"
    return f"""\
text_columns: {texts}{T}: the columns holding text (language, names, quality filters read them)
primary_key: []  # the columns that identify a record, if there are: then an edit publishes an edit
pii:
  policy: redact  # personal data found in any string column: redact, pseudonymize, drop_row or keep
expectations:  # what must hold for a version to be published: any Great Expectations expectation
  - expect_table_row_count_to_be_between: {{min_value: 1}}
publish:
  repo_id: commons-pipelines/{source_id.replace('_', '-')}
"""


@dataclass
class Local:
    """What a local file or folder says about itself: its format, its columns, its CSV delimiter."""
    path: str  # as written in the YAML: relative to the YAML's folder
    glob: str | None
    format: str
    columns: list[str]
    delimiter: str | None = None


def _format(name: str) -> str | None:
    suffixes = [s.lower() for s in Path(name).suffixes if s.lower() not in (".gz", ".zst")]
    return FORMATS.get(suffixes[-1]) if suffixes else None


def _columns(path: Path, fmt: str) -> tuple[list[str], str | None]:
    """The column names of a file (the first record or the header), and a CSV's delimiter when it is not a comma."""
    if path.suffix in (".gz", ".zst"):
        return [], None
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.read_schema(path).names, None
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            head = f.read(1 << 16)
        if fmt in ("csv", "tsv"):
            first = head.splitlines()[0] if head else ""
            delimiter = "\t" if fmt == "tsv" else csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
            return next(csv.reader([first], delimiter=delimiter)), (None if delimiter in (",", "\t") else delimiter)
        if fmt == "jsonl":
            first = next(line for line in head.splitlines() if line.strip())
            record = json.loads(first)
            return (list(record) if isinstance(record, dict) else []), None
        if fmt == "json" and path.stat().st_size < 50_000_000:
            data = json.loads(path.read_text(encoding="utf-8"))
            records = data if isinstance(data, list) else next((v for v in data.values() if isinstance(v, list)), [])
            return (list(records[0]) if records and isinstance(records[0], dict) else []), None
    except (OSError, ValueError, StopIteration, csv.Error):
        pass
    return [], None


def _local(origin: str, yaml_dir: Path) -> Local:
    path = Path(origin).expanduser().absolute()
    if not path.exists():
        raise ScaffoldError(f"--from {origin}: no such file or folder")
    roots = allowed_roots(yaml_dir / "x.yaml")
    if not inside_roots(path, roots):
        folder = path.resolve() if path.is_dir() else path.resolve().parent
        raise ScaffoldError(f"--from {origin}: {path.resolve()} is outside the folders sources may read "
                            f"({', '.join(map(str, roots))}); allow its folder with `export COMMONS_DATA_ROOTS="
                            f"{folder}` (several folders: separated by {os.pathsep!r}) and run this again")
    # relative to the YAML when the data is in the catalog's project (it moves with it), else absolute
    inside = path.resolve().is_relative_to(roots[0])
    relative = os.path.relpath(path, yaml_dir.absolute()) if inside else str(path.resolve())
    if path.is_file():
        fmt = _format(path.name)
        if fmt is None:
            raise ScaffoldError(f"--from {origin}: which format is it? name it .csv, .tsv, .jsonl, .json or .parquet")
        columns, delimiter = _columns(path, fmt)
        return Local(relative, None, fmt, columns, delimiter)
    files = sorted(p for p in path.rglob("*") if p.is_file() and _format(p.name) and not p.name.startswith("."))
    if not files:
        raise ScaffoldError(f"--from {origin}: no .csv, .tsv, .jsonl, .json or .parquet file in this folder")
    fmt = _format(files[0].name)
    suffix = "".join(files[0].suffixes[-2:]) if files[0].suffix in (".gz", ".zst") else files[0].suffix
    columns, delimiter = _columns(files[0], fmt)
    return Local(relative, f"**/*{suffix}" if any(p.parent != path for p in files) else f"*{suffix}", fmt, columns,
                 delimiter)


def _note(given: bool, text: str) -> str:
    """A value's comment: a placeholder marker when the value is the template's, not the person's."""
    return f"  # {text}" if given else f"  # {PLACEHOLDER}: {text}"


def _q(value: str) -> str:
    """A scalar as YAML reads it back unchanged: plain when it is safe, else double-quoted."""
    plain = yaml.safe_load(f"k: {value}") if not re.search(r"(: |\s#|^[\[\]{}&*!|>'\"%@`,?-])", value) else None
    return value if isinstance(plain, dict) and plain.get("k") == value else json.dumps(value, ensure_ascii=False)


def _remote(origin: str | None) -> bool:
    return bool(origin) and urlsplit(origin).scheme in ("http", "https")


def kind_block(kind: str, source_id: str, origin: str | None, yaml_dir: Path) -> tuple[str, str]:
    """The kind's block of the YAML, and a note for the person (the columns found in local data)."""
    if kind == "files":
        if origin is None:
            return (f"files:\n  path: ../data/{source_id}{T}: a folder or a file, relative to this YAML's folder, "
                    "or one http(s) URL\n  glob: \"*.csv\"  # the files of the folder to read\n"
                    "  format: csv  # csv, tsv, jsonl, json or parquet; .gz and .zst files are decompressed\n", "")
        if _remote(origin):
            known = _format(urlsplit(origin).path)
            return (f"files:\n  path: {_q(origin)}  # one http(s) file: read again when its ETag or bytes change\n"
                    f"  format: {known or 'csv'}{_note(bool(known), 'csv, tsv, jsonl, json or parquet')}\n", "")
        local = _local(origin, yaml_dir)
        where = ("absolute: outside this catalog's project" if os.path.isabs(local.path)
                 else "relative to this YAML's folder")
        lines = ["files:", f"  path: {_q(local.path)}  # {where}"]
        if local.glob:
            lines.append(f"  glob: \"{local.glob}\"")
        lines.append(f"  format: {local.format}")
        if local.format == "json":
            lines.append("  # record_path: data  # where the array of records is in the document, if not at the top")
        if local.delimiter:
            lines.append(f"  csv: {{delimiter: \"{local.delimiter}\"}}")
        note = ""
        if local.columns:
            shown = ", ".join(local.columns[:60]) + (", …" if len(local.columns) > 60 else "")
            lines += textwrap.wrap(f"the columns found in the data: {shown}", 114, initial_indent="# ",
                                   subsequent_indent="#   ")
            note = f"columns found: {shown}"
        return "\n".join(lines) + "\n", note
    if kind == "rest_api":
        base = origin or "https://api.example.org/v1"
        return (f"rest_api:\n  base_url: {_q(base)}{_note(bool(origin), 'the API address')}\n"
                "  resources:  # one unit per endpoint\n"
                "    - name: items  # lower case, digits and _\n"
                f"      path: items{T}: relative to base_url\n"
                "      params: {per_page: 100}\n"
                f"      record_path: data{T}: where the records are in a response (dotted keys); remove it to let "
                "dlt find them\n"
                "      paginator: auto  # auto, single_page, json_link, header_link, page_number, offset, cursor\n"
                "  max_pages: 5  # a bound while you try it out; remove it for a full run\n", "")
    if kind == "sql":
        url = origin or f"sqlite:///../data/{source_id}.db"
        said = ("a SQLAlchemy URL without a password (a relative SQLite path starts at this YAML's folder); a URL "
                "with credentials goes in an environment variable named by url_env")
        return (f"sql:\n  url: {_q(url)}{_note(bool(origin), said)}\n"
                f"  tables: [records]{T}: the tables to read (or `query:` one SELECT)\n", "")
    if kind in ("ckan", "udata"):
        url = origin or ("https://demo.ckan.org" if kind == "ckan" else "https://demo.data.gouv.fr")
        return (f"{kind}:\n  url: {_q(url)}{_note(bool(origin), 'the portal address')}\n"
                f"  query: water{T}: a full-text search, or remove it and name organizations or tags\n"
                "  organizations: []\n  tags: []\n  page_size: 100\n"
                "  max_datasets: 200  # a bound while you try it out; remove it for a full run\n", "")
    if kind == "hf_dataset":
        repo = origin or "owner/dataset"
        return (f"hf_dataset:\n  repo_id: {_q(repo)}{_note(bool(origin), 'the dataset repository on the Hub')}\n"
                "  revision: main  # a branch, tag or commit\n"
                "  # config: default  # one config of the repository; default every one\n"
                "  # split: train  # one split; default every one\n", "")
    raise ScaffoldError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")


def source_yaml(source_id: str, kind: str, yaml_dir: Path, origin: str | None = None,
                licence: str = "CC-BY-4.0") -> tuple[str, str]:
    """The YAML text of a new source, and a note for the person (the columns found)."""
    block, note = kind_block(kind, source_id, origin, yaml_dir)
    text = _header(source_id, licence) + f"kind: {kind}\n" + block + _footer(source_id, [])
    return text, note


# ---------------------------------------------------------------------------------------------------------------------
# the recorded-response test


def _in_place(spec) -> bool:
    """Local data is its own recording: the test reads it where the YAML says."""
    if spec.kind == "files":
        return not spec.config.is_remote
    if spec.kind == "sql":
        return (spec.config.url or "").startswith("sqlite")
    return False


def _routes(kind: str, source_id: str, spec) -> list[tuple[str, str, str]]:
    """(URL the source asks for first, capture file name, content type), from the scaffolded configuration."""
    cfg = spec.config
    if kind == "files":
        fmt = cfg.format
        return [(cfg.path, Path(urlsplit(cfg.path).path).name or f"{source_id}.{fmt}", CONTENT_TYPES[fmt])]
    if kind == "rest_api":
        out = []
        for r in cfg.resources:
            query = f"?{urlencode(r.params)}" if r.params else ""
            out.append((f"{cfg.base_url.rstrip('/')}/{r.path.lstrip('/')}{query}", f"{r.name}_page1.json",
                        "application/json"))
        return out
    if kind in ("ckan", "udata"):  # the first page of the search (ckan.py, udata.py)
        path, name, params = (("api/3/action/package_search", "package_search_page1.json",
                               {"q": cfg.query, "sort": "name asc", "rows": cfg.page_size, "start": 0})
                              if kind == "ckan" else
                              ("api/1/datasets/", "datasets_page1.json",
                               {"q": cfg.query, "page_size": cfg.page_size, "sort": "created"}))
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return [(f"{cfg.url.rstrip('/')}/{path}?{query}", name, "application/json")]
    return []


TEST_HEAD = '''\
"""{doc}
"""
{path_import}
import pytest
{extra_imports}
from commons_pipelines.publish import open_target
from commons_pipelines.publish.previous import live_table
from commons_pipelines.settings import Settings
from commons_pipelines.spec import {spec_imports}

from .test_pipeline import checks, published, run_nightly
{local_imports}
ID = "{id}"
{source}
'''

TEST_TAIL = '''

def test_publishes_v1_with_every_check_passed(nightly):
    result, _, seen = nightly
    failures = [e.message for e in result.all_events if e.is_failure]
    assert result.success, (failures, seen)  # `seen`: the requests the source made, to match against the routes
    assert published(result, ID)["version"] == "v1"
    assert all(checks(result).values()), checks(result)


def test_published_rows(nightly):
    _, settings, _ = nightly
    target = open_target(settings.target, str(settings.publish_dir), settings.hf_endpoint, settings.hub_namespace)
    table = live_table(target, load_spec(SOURCE))
    assert table.num_rows > 0
    assert set(table.column("_licence").to_pylist()) == {{load_spec(SOURCE).licence}}
    # {placeholder}: what this source must publish: a record you know is there, the columns a user needs, the
    # rows `where:` leaves out, what the PII step must have redacted ...
'''

IN_PLACE = '''

@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    """The source as its YAML says: its data is local, so it is read in place (the local file is the recording)."""
    tmp = tmp_path_factory.mktemp(ID)
    settings = Settings.from_env({{"COMMONS_HOME": str(tmp / "home")}})
    return run_nightly({{ID: load_spec(SOURCE)}}, settings), settings, []
'''

REPLAY = '''
# Every URL the source asks for -> the file in CAPTURES that answers it, and its content type. The first page is
# filled in from the YAML as it was scaffolded; add one route per further page (the last one ends the paging).
ROUTES = {{
{routes}
}}


@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    """The recorded responses served over local HTTP (Replay); the YAML, pointed at it, run by the nightly job."""
    tmp = tmp_path_factory.mktemp(ID)
    with Replay() as replay:
        for url, (name, content_type) in ROUTES.items():
            replay.add(url, CAPTURES / name, content_type=content_type)
        catalog = replay.catalog(tmp, [ID], source=SOURCE.parent)
        settings = Settings.from_env({{"COMMONS_HOME": str(tmp / "home"), "COMMONS_ALLOW_LOCAL_URLS": "1"}})
        yield run_nightly({{ID: load_spec(catalog / f"{{ID}}.yaml")}}, settings), settings, replay.seen
'''

HUB = '''
TOKEN = "hf_recorded_response_test"


@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    """The recorded files (the repository's Parquet shards and README.md, as downloaded from the Hub) pushed to the
    Hub emulator; the YAML, pointed at the emulator, run by the nightly job."""
    tmp = tmp_path_factory.mktemp(ID)
    data = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    repo = data["hf_dataset"]["repo_id"]
    for hub in serve(tokens={{TOKEN: repo.split("/")[0]}}):
        api = HfApi(endpoint=hub.url, token=TOKEN)
        api.create_repo(repo, repo_type="dataset")
        api.upload_folder(repo_id=repo, repo_type="dataset", folder_path=CAPTURES, ignore_patterns=["SOURCE.txt"])
        data["hf_dataset"]["endpoint"] = hub.url
        catalog = tmp / "catalog"
        catalog.mkdir()
        (catalog / f"{{ID}}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        settings = Settings.from_env({{"COMMONS_HOME": str(tmp / "home"), "COMMONS_ALLOW_LOCAL_URLS": "1"}})
        yield run_nightly({{ID: load_spec(catalog / f"{{ID}}.yaml")}}, settings), settings, hub.requests
'''

SQL_EXTRACT = '''

@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    """A server database is not replayed over HTTP: a small extract of its tables, saved as a SQLite file
    (CAPTURES/{{ID}}.db, same table and column names), stands for it."""
    tmp = tmp_path_factory.mktemp(ID)
    data = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    (tmp / "data").mkdir()
    (tmp / "data" / f"{{ID}}.db").write_bytes((CAPTURES / f"{{ID}}.db").read_bytes())
    data["sql"] = {{**data["sql"], "url": f"sqlite:///../data/{{ID}}.db"}}
    data["sql"].pop("url_env", None)
    catalog = tmp / "catalog"
    catalog.mkdir()
    (catalog / f"{{ID}}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    settings = Settings.from_env({{"COMMONS_HOME": str(tmp / "home")}})
    return run_nightly({{ID: load_spec(catalog / f"{{ID}}.yaml")}}, settings), settings, []
'''


def source_test(spec) -> str:
    """The text of the source's recorded-response test."""
    kind = spec.kind
    shipped = spec.origin.parent.resolve() == CATALOG_DIR.resolve()
    in_place = _in_place(spec)
    source = ('SOURCE = CATALOG_DIR / f"{ID}.yaml"' if shipped else
              "# a catalog outside the project: this test is yours, not the project's\n"
              f"SOURCE = Path({str(spec.origin.absolute())!r})")
    if not in_place:
        source += ("\n# real recorded responses are kept outside the project, with a SOURCE.txt saying where they come from\n"
                   "# (URL, date, licence), and read in place; responses we write ourselves may live in the test\n"
                   "CAPTURES = SHARED_DATA / \"api_captures\" / ID")
    fill = {"id": spec.id, "extra_imports": "", "local_imports": "" if in_place else "from .conftest import SHARED_DATA\n",
            "placeholder": PLACEHOLDER, "source": source,
            "spec_imports": "CATALOG_DIR, load_spec" if shipped else "load_spec",
            "path_import": "\nfrom pathlib import Path\n" if not (shipped and in_place) else ""}
    if in_place:
        what = "file" if kind == "files" else "SQLite database"
        how = f"its local {what} is read in place"
        todo = (f"Its data is local, so the {what} is its own recording: the test runs the YAML as it is. Write in "
                "test_published_rows what the published rows must hold.")
        body = IN_PLACE
    elif kind == "hf_dataset":
        how = "the dataset's recorded files are pushed to the Hub emulator"
        todo = ("To finish it: download a few of the repository's files (`hf download <repo> README.md "
                "--repo-type dataset --include '<config>/*.parquet' --local-dir <CAPTURES>`, a small config or "
                "split), keep them in CAPTURES with a SOURCE.txt (repository, revision, date, licence), and write in "
                "test_published_rows what the published rows must hold.")
        fill.update(extra_imports="import yaml\nfrom huggingface_hub import HfApi\n",
                    local_imports=fill["local_imports"] + "from .hub_emulator import serve\n")
        body = HUB
    elif kind == "sql":
        how = "an extract of the database, saved as SQLite, is read instead of the server"
        todo = ("To finish it: save a small extract of the tables into CAPTURES/<id>.db (SQLite, the same names), "
                "with a SOURCE.txt, and write in test_published_rows what the published rows must hold.")
        fill.update(extra_imports="import yaml\n")
        body = SQL_EXTRACT
    else:
        routes = _routes(kind, spec.id, spec)
        lines = "\n".join(f"    {url!r}: ({name!r}, {ctype!r}),  # {PLACEHOLDER}: record it into CAPTURES/{name}"
                          for url, name, ctype in routes)
        how = "the responses recorded from the real service are served over local HTTP"
        todo = ("To finish it: record the responses the source asks for (`curl -sS -o <CAPTURES>/<file> '<url>'`, a "
                "page or two, kept small) with a SOURCE.txt (URL, date, licence), list each in ROUTES, and write in "
                "test_published_rows what the published rows must hold. A failing run lists the requests it made.")
        fill.update(local_imports=fill["local_imports"] + "from .replay import Replay\n")
        body = REPLAY.replace("{routes}", lines.replace("{", "{{").replace("}", "}}"))
    doc = (f"Recorded-response test of the `{spec.id}` source (kind `{kind}`), written by `commons new-source`: "
           f"{how}, and the source runs through the whole nightly job to a published v1 with every check passed.")
    fill["doc"] = "\n\n".join(textwrap.fill(p, 116) for p in (doc, todo))
    return TEST_HEAD.format(**fill) + body.format(**fill) + TEST_TAIL.format(**fill)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def is_shipped(catalog: Path) -> bool:
    """Whether `catalog` is the project's own catalog, where a pull request adds sources."""
    return Path(catalog).resolve() == CATALOG_DIR.resolve()


def new_source(source_id: str, kind: str, catalog: Path, origin: str | None = None, licence: str = "CC-BY-4.0",
               tests: Path | None = TESTS_DIR) -> Scaffolded:
    """Write `<catalog>/<id>.yaml` and, when `tests` is a folder, its test `test_source_<id>.py` there; refuse a bad
    or taken id, an unknown kind or licence, and anything that would not load, before writing anything."""
    if not ID_PATTERN.match(source_id):
        raise ScaffoldError(f"{source_id!r} is not a source id: lower case letters, digits and _, starting with a "
                            "letter, 2 to 63 characters (it is also the YAML's file name)")
    if kind not in KINDS:
        raise ScaffoldError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    if licence not in OPEN_LICENCES:
        raise ScaffoldError(f"{licence!r} is not an open licence; allowed: {', '.join(OPEN_LICENCES)}")
    catalog = Path(catalog)
    path = catalog / f"{source_id}.yaml"
    if path.exists():
        raise ScaffoldError(f"{path} exists already: source {source_id!r} is taken")
    test = tests / f"test_source_{source_id}.py" if tests is not None and Path(tests).is_dir() else None
    if test is not None and test.exists():
        raise ScaffoldError(f"{test} exists already")
    text, note = source_yaml(source_id, kind, catalog, origin, licence)
    try:
        spec = parse_spec(yaml.safe_load(text), path)
    except yaml.YAMLError as error:
        raise ScaffoldError(f"--from {origin!r} does not fit in the template: {error}") from None
    except SpecError as error:  # e.g. a local path outside the allowed roots: say how to allow it
        raise ScaffoldError(str(error)) from None
    catalog.mkdir(parents=True, exist_ok=True)
    _write(path, text)
    done = Scaffolded(path, None, None, [note] if note else [])
    if test is not None:
        done.test, done.captures = write_test(spec, tests)
    return done


def write_test(spec, tests: Path = TESTS_DIR) -> tuple[Path, Path | None]:
    """Write the recorded-response test of a source (and the folder its recordings go in, when it has some)."""
    test = Path(tests) / f"test_source_{spec.id}.py"
    if test.exists():
        raise ScaffoldError(f"{test} exists already")
    _write(test, source_test(spec))
    if _in_place(spec):
        return test, None
    captures = Path(tests) / "captures" / spec.id
    captures.mkdir(parents=True, exist_ok=True)
    return test, captures
