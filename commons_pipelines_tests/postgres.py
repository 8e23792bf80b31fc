"""A real PostgreSQL server for the tests: started once per session in a temporary folder, on a free port of
127.0.0.1 (its unix socket in the same folder), with a database `commons` that holds real public data (the French
medicines database, BDPM) and a small table of awkward types written by us, readable by a password-protected role.

The server's programs come from Debian's `postgresql` package (/usr/lib/postgresql/<version>/bin). When they are
missing and the tests run as root (CI: a clean Debian machine), the fixture installs the package with apt-get;
otherwise it fails saying what to install. initdb refuses to run as root, so as root the server runs as `postgres`
(made by the package) or a system user made for it, through runuser. The server is stopped at the end of the session.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import psycopg
from psycopg import sql
import pytest

from .apt import apt_install
from .conftest import BDPM, BDPM_COLUMNS

DB, ROLE, SCHEMA = "commons", "reader", "opendata"
ADMIN = "postgres"
SYSTEM_USER = "commons-pg"
MISSING = ("the PostgreSQL server (initdb, pg_ctl) is not installed: install Debian's `postgresql` package "
           "(apt-get install postgresql), or run the tests as root to let them install it")

# Written by us for the tests (not public data): every awkward type once, NULLs in every nullable column.
AWKWARD = f"""
create table {SCHEMA}.awkward (
    id integer primary key, label text, price numeric(14, 4), ratio double precision, big bigint, active boolean,
    born date, updated_at timestamptz not null, doc jsonb, blob bytea, "_rank" integer);
insert into {SCHEMA}.awkward values
    (1, 'Crème brûlée — 東京', 12345678.1234, 0.5, 9007199254740993, true, '1999-12-31',
     '2024-01-02 03:04:05.123456+02', '{{"a": [1, 2], "b": {{"c": null}}}}', '\\x00ff', 7),
    (2, '', -0.0001, -1e300, -9223372036854775808, false, '2024-02-29', '2024-03-01 00:00:00+00', '[]', '', 0),
    (3, null, null, null, null, null, null, '2024-03-02 12:00:00+00', null, null, null);
"""


@dataclass
class Postgres:
    port: int
    socket_dir: Path
    password: str

    def url(self, password: str | None = None) -> str:
        """The URL of the database as the role that reads it (holding its password: for url_env)."""
        return f"postgresql://{ROLE}:{password or self.password}@127.0.0.1:{self.port}/{DB}"

    def execute(self, sql: str, params=None) -> None:
        """Run SQL in the database as its administrator (over the unix socket)."""
        with psycopg.connect(host=str(self.socket_dir), port=self.port, user=ADMIN, dbname=DB, autocommit=True) as con:
            con.execute(sql, params)


def server_bin() -> Path | None:
    found = glob("/usr/lib/postgresql/*/bin/initdb")
    return Path(max(found, key=lambda p: int(Path(p).parents[1].name))).parent if found else None


def install() -> Path:
    apt_install(["postgresql"], MISSING)
    return server_bin() or pytest.fail(f"apt-get installed postgresql, but no initdb in /usr/lib/postgresql\n{MISSING}")


def unprivileged() -> tuple[list[str], str | None]:
    """How to run the server's programs: as root, through runuser as an unprivileged user; otherwise directly."""
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam(ADMIN).pw_name
    except KeyError:
        user = SYSTEM_USER
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user],
                           check=True, capture_output=True)
    return ["runuser", "-u", user, "--"], user


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list, **kw) -> None:
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if out.returncode:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({out.returncode}): {out.stdout[-2000:]}"
                           f"{out.stderr[-2000:]}")


def load(pg: Postgres) -> None:
    with psycopg.connect(host=str(pg.socket_dir), port=pg.port, user=ADMIN, dbname="postgres",
                         autocommit=True) as con:
        con.execute(sql.SQL("create role {} login password {}").format(sql.Identifier(ROLE), sql.Literal(pg.password)))
        con.execute(f"create database {DB}")
    columns = ", ".join(f"{c} text" for c in BDPM_COLUMNS)
    pg.execute(f"""
        create schema {SCHEMA};
        grant usage on schema {SCHEMA} to {ROLE};
        alter default privileges in schema {SCHEMA} grant select on tables to {ROLE};""")
    with psycopg.connect(host=str(pg.socket_dir), port=pg.port, user=ADMIN, dbname=DB, autocommit=True) as con:
        con.execute(f"create temp table bdpm ({columns})")
        with con.cursor().copy("copy bdpm from stdin (format csv, delimiter E'\\t', quote E'\\x01')") as copy, \
                open(BDPM, "rb") as f:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        con.execute(f"""
            create table {SCHEMA}.medicines (
                cis integer primary key, denomination text not null, form text, routes text,
                authorisation_status text, procedure text, marketing_status text, amm_date date, bdm_status text,
                eu_number text, holders text, reinforced_monitoring boolean);
            insert into {SCHEMA}.medicines select cis::integer, denomination, form, routes, authorisation_status,
                procedure, marketing_status, to_date(amm_date, 'DD/MM/YYYY'), bdm_status, eu_number, holders,
                reinforced_monitoring = 'Oui' from bdpm;""")
        con.execute(AWKWARD)


@pytest.fixture(scope="session")
def postgres():
    """A running PostgreSQL server with the `commons` database (see the module docstring)."""
    bin_dir = server_bin() or install()
    prefix, user = unprivileged()
    folder = Path(tempfile.mkdtemp(prefix="commons-pg-"))
    data, log = folder / "data", folder / "server.log"
    pg = Postgres(port=free_port(), socket_dir=folder, password="pg-" + secrets.token_hex(12))
    if user:
        shutil.chown(folder, user)
    started = False
    try:
        run([*prefix, bin_dir / "initdb", "-D", data, "-U", ADMIN, "-A", "trust", "--auth-host=scram-sha-256",
             "-E", "UTF8", "--no-locale", "--no-sync"])
        options = f"-c port={pg.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={folder} -c fsync=off"
        run([*prefix, bin_dir / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start"])
        started = True
        load(pg)
        yield pg
    finally:
        if started:
            run([*prefix, bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"])
        shutil.rmtree(folder, ignore_errors=True)
