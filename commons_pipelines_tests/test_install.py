"""`make install` runs uv, which reads neither pip.conf nor PIP_* variables: the Makefile's PIP_TO_UV hands pip's
index settings over. Checked here through make itself, with a command that prints what it was given instead of uv."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

SHOW = "import json, os, sys; print(json.dumps([sys.argv[1:], os.environ.get('SSL_CERT_FILE')]))"


def handed_over(tmp_path: Path, conf: str | None, **env: str) -> tuple[list[str], str | None]:
    """The arguments and SSL_CERT_FILE that `uv` would get with this pip.conf (besides the machine's global one; None:
    no configuration file at all) and these PIP_* variables."""
    if shutil.which("make") is None:
        pytest.fail("make is needed: `make test` runs the suite")
    config = os.devnull if conf is None else str(tmp_path / "pip.conf")
    if conf is not None:
        (tmp_path / "pip.conf").write_text(conf, encoding="utf-8")
    probe = tmp_path / "probe.mk"
    probe.write_text(f"include {ROOT / 'Makefile'}\nprobe:\n\t@$(BIN)/python -c \"$$PIP_TO_UV\" "
                     f"{sys.executable} -c \"{SHOW}\"\n", encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "SSL_CERT"))}
    done = subprocess.run(["make", "-s", "-f", str(probe), "probe", f"BIN={Path(sys.executable).parent}"], cwd=ROOT,
                          env={**clean, "PIP_CONFIG_FILE": config, **env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    args, cert = json.loads(done.stdout.strip().splitlines()[-1])
    return args, cert


def test_pip_s_indexes_and_links_reach_uv_once_each(tmp_path):
    conf = ("[global]\nindex-url = https://mirror.example/simple\n"
            "extra-index-url =\n    file:///srv/one/simple\n    file:///srv/two/simple\n"
            "find-links = /srv/wheels\n[install]\nfind-links = /srv/wheels\n")
    args, _ = handed_over(tmp_path, conf, PIP_FIND_LINKS="/srv/wheels")
    assert {"--index-url=https://mirror.example/simple", "--extra-index-url=file:///srv/one/simple",
            "--extra-index-url=file:///srv/two/simple", "--find-links=/srv/wheels",
            "--index-strategy=unsafe-best-match"} <= set(args)
    assert len(args) == len(set(args)), args


def test_a_pip_variable_wins_over_the_file_and_no_index_and_cert_follow(tmp_path):
    cert = tmp_path / "ca.pem"
    args, got = handed_over(tmp_path, "[global]\nindex-url = https://file.example/simple\n",
                            PIP_INDEX_URL="https://env.example/simple", PIP_NO_INDEX="true", PIP_CERT=str(cert))
    assert "--index-url=https://env.example/simple" in args and "--no-index" in args
    assert not [a for a in args if "file.example" in a]
    assert got == str(cert)


def test_without_settings_uv_gets_only_pip_s_index_strategy(tmp_path):
    args, _ = handed_over(tmp_path, None)
    assert args == ["--index-strategy=unsafe-best-match"]
