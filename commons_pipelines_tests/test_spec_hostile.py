"""Source YAMLs written to harm: refused when they load, with the file and the field named."""

import os
import socket
import time

import pytest
import yaml

from commons_pipelines.settings import Settings
from commons_pipelines.spec import SpecError, load_catalog, load_spec, scan_catalog
from commons_pipelines.urls import UrlError, check_host, literal_ip, public_url

from .conftest import SHARED_DATA, base_spec

CSV = {"format": "csv"}


@pytest.fixture
def catalog(tmp_path):
    folder = tmp_path / "catalog"
    folder.mkdir()
    return folder


@pytest.fixture
def no_local_urls(monkeypatch):
    monkeypatch.setenv("COMMONS_ALLOW_LOCAL_URLS", "0")


def write(catalog, source_id="hostile", text=None, **overrides):
    path = catalog / f"{source_id}.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(base_spec(source_id, **overrides)))
    return path


def refused(path, *expected) -> str:
    with pytest.raises(SpecError) as err:
        load_spec(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    for part in expected:
        assert part in message
    return message


# YAML

def laughs(indent: str = "") -> str:
    """A billion laughs: nine levels of nine aliases, 9**9 strings once expanded."""
    lines = ["a: &a [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"{c}: &{c} [" + ", ".join([f"*{p}"] * 9) + "]" for p, c in zip("abcdefgh", "bcdefghi")]
    return "".join(f"{indent}{line}\n" for line in lines)


def bomb(source_id: str) -> str:
    """Valid but for the bomb, hidden in an expectation's arguments, which the spec keeps as they are."""
    return (yaml.safe_dump(base_spec(source_id, files={"path": "data", **CSV}))
            + "expectations:\n  - expect_column_values_to_be_in_set:\n      column: a\n"
            + laughs(indent="      ") + "      value_set: *i\n")


def test_alias_bomb_is_refused_before_it_expands(catalog):
    path = write(catalog, text=bomb("hostile"))
    start = time.perf_counter()
    refused(path, "anchors and aliases", "line ")
    assert time.perf_counter() - start < 1


def test_a_single_harmless_alias_is_refused_too(catalog):
    base = yaml.safe_dump(base_spec("hostile", files={"path": "data", **CSV}))
    path = write(catalog, text=base + "text_columns: &cols [title]\nprimary_key: *cols\n")
    refused(path, "anchors and aliases", f"line {base.count(chr(10)) + 1}")


def test_deep_nesting_is_refused(catalog):
    path = write(catalog, text="id: " + "[" * 1000 + "]" * 1000 + "\n")
    refused(path, "nested deeper than")


def test_oversized_yaml_is_refused(catalog):
    base = yaml.safe_dump(base_spec("hostile", files={"path": "data", **CSV}))
    path = write(catalog, text=base + "homepage: https://example.org/" + "a" * (1 << 20) + "\n")
    refused(path, "larger than 1 MiB")


def test_unreadable_and_odd_files_name_the_file(catalog):
    (catalog / "folder.yaml").mkdir()
    refused(catalog / "folder.yaml", "not a regular file")
    path = catalog / "latin.yaml"
    path.write_bytes(b"id: caf\xe9\n")
    refused(path, "not UTF-8")
    refused(write(catalog, text="id: 1" + "0" * 5000 + "\n"), "not valid YAML")


# local paths


def test_relative_escape_with_dotdot_is_refused(catalog, tmp_path):
    path = write(catalog, files={"path": "../../elsewhere", **CSV})
    refused(path, "field 'files.path'", "outside the allowed roots", str(tmp_path.resolve()), "COMMONS_DATA_ROOTS")


@pytest.mark.parametrize("target", ["/etc/passwd", "/etc"])
def test_absolute_path_outside_the_roots_is_refused(catalog, target):
    refused(write(catalog, files={"path": target, **CSV}), "field 'files.path'", "outside the allowed roots")


def test_symlink_out_of_the_roots_is_refused(catalog, tmp_path, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.csv").write_text("id\n1\n")
    (tmp_path / "data").symlink_to(outside)
    refused(write(catalog, files={"path": "../data", **CSV}), "field 'files.path'", str(outside.resolve()))
    (tmp_path / "inside").mkdir()
    (tmp_path / "inside" / "link.csv").symlink_to(outside / "secret.csv")
    refused(write(catalog, files={"path": "../inside/link.csv", **CSV}), "field 'files.path'")


def test_symlink_loop_is_an_error_not_a_crash(catalog, tmp_path):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    refused(write(catalog, files={"path": "../loop", **CSV}), "field 'files.path'")


def test_paths_inside_the_roots_load(catalog, tmp_path, tmp_path_factory, monkeypatch):
    spec = load_spec(write(catalog, files={"path": "../samples", **CSV}))
    assert spec.files_location() == str((tmp_path / "samples").resolve())
    assert load_spec(write(catalog, files={"path": str(SHARED_DATA / "opendata"), **CSV}))
    outside = tmp_path_factory.mktemp("more_data")
    path = write(catalog, files={"path": str(outside), **CSV})
    refused(path, "field 'files.path'")
    monkeypatch.setenv("COMMONS_DATA_ROOTS", f"{SHARED_DATA}{os.pathsep}{outside}")
    assert load_spec(path).files_location() == str(outside.resolve())


@pytest.mark.parametrize("glob", ["../*.csv", "a/../../*.csv", "**/../../x", "/etc/*", "..\\*.csv"])
def test_glob_leaving_the_path_is_refused(catalog, glob):
    refused(write(catalog, files={"path": "data", "glob": glob, **CSV}), "field 'files.glob'", "'..'")


# URLs


@pytest.mark.parametrize("url, got", [
    ("file:///etc/passwd", "file"), ("FILE:///etc/passwd", "file"), ("ftp://example.org/a.csv", "ftp"),
    ("s3://bucket/a.csv", "s3"), ("gs://bucket/a.csv", "gs"), ("data:text/csv,id%0A1", "data"),
    ("javascript:alert(1)", "javascript"), ("gopher://127.0.0.1:6379/_FLUSHALL", "gopher"),
    ("memory://a.csv", "memory"),
])
def test_only_http_urls_are_read(catalog, url, got):
    refused(write(catalog, files={"path": url, **CSV}), f"field 'files.path': only http(s) URLs are read; got '{got}'")


LOCAL = [
    "http://127.0.0.1/a.csv", "http://127.9.9.9:8080/a.csv", "https://localhost/a.csv", "http://LOCALHOST./a.csv",
    "http://api.localhost/a.csv", "http://[::1]/a.csv", "http://[::ffff:127.0.0.1]/a.csv", "http://[::ffff:7f00:1]/",
    "http://2130706433/a.csv", "http://0x7f.1/a.csv", "http://0x7F000001/", "http://0177.0.0.1/", "http://127.1/",
    "http://0177.0x0.00.1/", "http://127.0.0.1./a.csv", "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/latest/meta-data/", "http://[fe80::1]/", "http://[fd00:ec2::254]/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/", "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:7f00:1::]/",
    "http://0.0.0.0:8000/", "http://0/", "http://[::]/", "http://224.0.0.1/", "http://[ff02::1]/",
    "http://240.0.0.1/", "http://255.255.255.255/", "http://user:pass@127.0.0.1/a.csv",
]


@pytest.mark.parametrize("url", LOCAL)
def test_local_hosts_are_refused_as_written(catalog, no_local_urls, url):
    path = write(catalog, files={"path": url, **CSV})
    message = refused(path, "field 'files.path': host ", "COMMONS_ALLOW_LOCAL_URLS=1")
    assert "pass" not in message.split(": ", 1)[1]


@pytest.mark.parametrize("url", ["http://127.0.0.1\\@example.org/a.csv", "http://a@b@example.org/a.csv",
                                 "http://%31%32%37.0.0.1/a.csv", "http://exa mple.org/a.csv", "http://[::1/a.csv",
                                 "http://example.org:80x/a.csv", "http:///a.csv",
                                 "http://ｌｏｃａｌｈｏｓｔ/a.csv", "http://１２７．０．０．１/a.csv", "https://straße.example/"])
def test_urls_parsers_read_differently_are_refused(catalog, url):
    refused(write(catalog, files={"path": url, **CSV}), "field 'files.path'")


@pytest.mark.parametrize("url", ["https://example.org/a.csv", "http://8.8.8.8/a.csv", "HTTPS://Example.org/a.csv",
                                 "https://user:secret@example.org/a.csv?access_token=t0ken", "http://10.1.2.3/a.csv",
                                 "http://[2001:db8::1]:8080/a.csv", "https://data.localhost.example.org/a.csv"])
def test_public_urls_load(catalog, no_local_urls, url):
    assert load_spec(write(catalog, files={"path": url, **CSV})).files.is_remote


def test_the_setting_allows_local_hosts_but_never_other_schemes(catalog, monkeypatch):
    monkeypatch.setenv("COMMONS_ALLOW_LOCAL_URLS", "1")
    for url in ["http://127.0.0.1:8000/a.csv", "http://169.254.169.254/", "http://localhost/a.csv"]:
        assert load_spec(write(catalog, files={"path": url, **CSV})).files_location() == url
    refused(write(catalog, files={"path": "file:///etc/passwd", **CSV}), "only http(s) URLs")


@pytest.mark.parametrize("host, address", [
    ("2130706433", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"),
    ("10.1.258", "10.1.1.2"), ("0x", "0.0.0.0"), ("0", "0.0.0.0"), ("::1", "::1"),
    ("example.org", None), ("1.2.3.4.5", None), ("08.1", None), ("256.1.1.1", None), ("4294967296", None),
    ("0x" + "0" * 40 + "7f.1", "127.0.0.1"), ("9" * 5000, None), ("1.example", None),
])
def test_literal_ip_reads_what_resolvers_read(host, address):
    ip = literal_ip(host)
    assert (str(ip) if ip is not None else None) == address


def test_check_host_refuses_localhost_unless_allowed():
    with pytest.raises(UrlError, match=r"^http://localhost:8000/a.csv: host 'localhost' is a loopback name"):
        check_host("http://localhost:8000/a.csv", allow_local=False)
    check_host("http://localhost:8000/a.csv", allow_local=True)
    check_host("http://93.184.215.14/a.csv", allow_local=False)


def test_check_host_refuses_a_name_if_any_address_is_local(monkeypatch):
    """DNS rebinding: a public name that also (or later) resolves to a local address."""
    answers = {"data.example.org": ["93.184.215.14", "169.254.169.254"],
               "ok.example.org": ["93.184.215.14", "2001:db8::1"]}

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    url = "https://user:secret@data.example.org/a.csv?token=t0ken"
    with pytest.raises(UrlError) as err:
        check_host(url, allow_local=False)
    assert "resolves to 169.254.169.254, a link-local address" in str(err.value)
    assert "secret" not in str(err.value) and "t0ken" not in str(err.value)
    check_host(url, allow_local=True)
    check_host("https://ok.example.org/a.csv", allow_local=False)


def test_check_host_lets_resolution_errors_through():
    with pytest.raises(UrlError, match="loopback"):
        check_host("http://127.0.0.1/", allow_local=False)
    with pytest.raises(socket.gaierror):
        check_host("http://no-such-host.invalid/", allow_local=False)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://example.org/", "http://a@b@example.org/"])
def test_check_host_refuses_other_schemes_even_when_local_is_allowed(url):
    with pytest.raises(UrlError):
        check_host(url, allow_local=True)


def test_public_url_drops_credentials():
    assert public_url("https://user:pw@example.org:8443/x.csv?token=abc&page=2#key=v") == \
        "https://example.org:8443/x.csv?token=REDACTED&page=2"
    assert public_url("http://u:p@[::1]:8080/x") == "http://[::1]:8080/x"
    assert public_url("data/x.csv") == "data/x.csv"


def test_settings_read_the_url_and_root_settings(tmp_path):
    roots = os.pathsep.join([str(tmp_path), str(tmp_path / "b"), ""])
    env = {"COMMONS_ALLOW_LOCAL_URLS": "1", "COMMONS_DATA_ROOTS": roots}
    settings = Settings.from_env(env)
    assert settings.allow_local_urls and settings.data_roots == (tmp_path.resolve(), (tmp_path / "b").resolve())
    assert not Settings.from_env({}).allow_local_urls and Settings.from_env({}).data_roots == ()
    with pytest.raises(ValueError, match="COMMONS_ALLOW_LOCAL_URLS"):
        Settings.from_env({"COMMONS_ALLOW_LOCAL_URLS": "maybe"})


@pytest.mark.parametrize("name, field", [("COMMONS_RETRY_DELAY", "retry_delay"),
                                         ("COMMONS_HUB_RETRY_WAIT", "hub_retry_wait")])
def test_waits_are_seconds_and_a_wrong_one_names_its_variable(name, field):
    assert getattr(Settings.from_env({name: "0.5"}), field) == 0.5
    for wrong in ("soon", "-1", "nan", "inf"):
        with pytest.raises(ValueError, match=rf"{name}='{wrong}': seconds, 0 or more"):
            Settings.from_env({name: wrong})


# the catalog


def test_scan_catalog_keeps_the_good_sources_and_names_each_broken_file(catalog, no_local_urls):
    write(catalog, "good_one", files={"path": "../data", **CSV})
    write(catalog, "good_two", files={"path": "https://example.org/a.csv", **CSV})
    write(catalog, "bad_syntax", text="id: [unclosed\n")
    write(catalog, "bad_bomb", text=bomb("bad_bomb"))
    write(catalog, "bad_escape", files={"path": "/etc", **CSV})
    write(catalog, "bad_metadata", files={"path": "http://169.254.169.254/", **CSV})
    write(catalog, "bad_licence", files={"path": "../data", **CSV}, licence="proprietary")
    write(catalog, "bad_id", text=yaml.safe_dump(base_spec("other_id", files={"path": "../data", **CSV})))
    specs, errors = scan_catalog(catalog)
    assert sorted(specs) == ["good_one", "good_two"]
    assert sorted(errors) == ["bad_bomb", "bad_escape", "bad_id", "bad_licence", "bad_metadata", "bad_syntax"]
    for stem, message in errors.items():
        assert message.startswith(f"{catalog / stem}.yaml: ")
    assert "field 'files.path'" in errors["bad_escape"] and "field 'licence'" in errors["bad_licence"]
    assert "field 'id'" in errors["bad_id"] and "link-local" in errors["bad_metadata"]
    with pytest.raises(SpecError, match="bad_bomb.yaml"):
        load_catalog(catalog)


def test_scan_catalog_of_the_shipped_catalog_has_no_errors():
    specs, errors = scan_catalog()
    assert errors == {} and sorted(specs) == sorted(load_catalog())
