import logging
import os

# Read at import time by huggingface_hub and GX: set before anything imports them.
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["GX_ANALYTICS_ENABLED"] = "False"
os.environ.pop("HF_TOKEN", None)
# pytest-xdist's workers say COLUMNS=80: the CLI's output in a pipe must not depend on how the tests are run
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
# Tests read ../shared/data in place and serve sources from 127.0.0.1; tests of refusals turn these off.
os.environ["COMMONS_DATA_ROOTS"] = str(SHARED_DATA)
os.environ["COMMONS_ALLOW_LOCAL_URLS"] = "1"
# Frog reads Dutch names when installed; the tests of it turn it on (test_frog.py), the others find the same names on
# every machine.
os.environ["COMMONS_FROG"] = "off"

import pytest  # noqa: E402
import yaml  # noqa: E402

from commons_pipelines.settings import Settings  # noqa: E402
from commons_pipelines.spec import load_spec  # noqa: E402

OTL = SHARED_DATA / "opendata" / "open_textbook_library" / "OTL.csv"
BDPM = SHARED_DATA / "opendata" / "fr_medicines_bdpm" / "CIS_bdpm.txt"
BDPM_COLUMNS = ["cis", "denomination", "form", "routes", "authorisation_status", "procedure", "marketing_status",
                "amm_date", "bdm_status", "eu_number", "holders", "reinforced_monitoring"]


def base_spec(source_id: str, **overrides) -> dict:
    """A source's YAML fields. Name detection by model (`pii.ner`) is off unless a test passes `pii`: a test that
    checks names asks for it; the others would spend most of their time in spaCy (curating the Open Textbook Library
    catalogue takes 43 s with it, 4 s without)."""
    spec = {
        "id": source_id, "title": f"Test source {source_id}", "description": "A source written by a test.",
        "licence": "CC0-1.0", "languages": ["en"], "domain": "education", "kind": "files",
        "publish": {"repo_id": f"tester/{source_id.replace('_', '-')}"},
        "attribution": {"creator": "The test authors", "citation": f"The test authors, {source_id}, a test source."},
        "pii": {"ner": "off"},
    }
    spec.update(overrides)
    return spec


@pytest.fixture
def write_spec(tmp_path):
    """Write a source YAML into a temporary catalog and load it, as a contributor would."""
    catalog = tmp_path / "catalog"
    catalog.mkdir(exist_ok=True)

    def write(source_id: str, **overrides):
        path = catalog / f"{source_id}.yaml"
        path.write_text(yaml.safe_dump(base_spec(source_id, **overrides), allow_unicode=True))
        return load_spec(path)

    write.catalog = catalog
    return write


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Curation in one process: each worker of a pool loads the models again (10 s of CPU). The tests of the pool
    (test_curate, the French medicines end to end, the Ray comparison, the REST sources' nightly) set their own."""
    return Settings.from_env({"COMMONS_HOME": str(tmp_path / "home"), "COMMONS_ALLOW_LOCAL_URLS": "1",
                              "COMMONS_WORKERS": "1"})


def readable(path: Path) -> str:
    """What a file holds, as text a search can trust: Parquet and DuckDB files compress their strings, so they are
    read back value by value; anything else is its bytes (undecodable ones escaped)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return str(pq.read_table(path).to_pylist())
    if path.suffix == ".duckdb":
        import duckdb

        with duckdb.connect(str(path), read_only=True) as con:
            tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
            return "\n".join(str(con.execute(f'select * from "{s}"."{t}"').fetchall()) for s, t in tables)
    return path.read_bytes().decode("utf-8", "backslashreplace")


BUCKET = "commons-test"
KEY_ID, SECRET = "AKIACOMMONSCANARY01", "canary/secret+8c1f0e"  # must show nowhere: logs, errors, metadata, card


@pytest.fixture(scope="session")
def s3():
    """moto's S3 server on loopback with the bucket BUCKET; its state is the process's, so one per session."""
    import s3fs
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://{host}:{port}"}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    fs = s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False)
    fs.mkdir(BUCKET)
    yield SimpleNamespace(fs=fs, env=env)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    server.stop()


def pytest_collection_modifyitems(items):
    """The files holding `slow` tests first: `make test` hands whole files to its two workers in this order
    (--no-loadscope-reorder), so the longest start first and short files fill in at the end."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)
