"""A throwaway PostgreSQL server on loopback for the multi-machine tests.

`initdb` + `pg_ctl` from Debian's `postgresql` package (`.ci/run` installs it); the tests that use
it skip, saying why, where the binaries are absent. initdb refuses to run as root, so as root
the server runs as the `postgres` user (`runuser`).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

MISSING = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH nor in "
    "/usr/lib/postgresql/*/bin: install Debian's `postgresql` package (.ci/run does)"
)


def pg_bin() -> Path | None:
    """The directory holding `initdb` and `pg_ctl`, if any."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for initdb in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        if Path(initdb).with_name("pg_ctl").exists():
            return Path(initdb).parent
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def _skip(reason: str) -> None:
    """Skip on a developer's machine; fail in CI (`CI=true`), where the server must run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the PostgreSQL tests cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Start a server in a temporary data directory; yields its base URL (no database)."""
    bindir = pg_bin()
    if bindir is None:
        _skip(MISSING)
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        _skip("psycopg2 is missing: pip install '.[postgres]'")
    root = Path(tempfile.mkdtemp(prefix="automl-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        try:
            shutil.chown(root, user="postgres")
        except LookupError:
            _skip("running as root and there is no `postgres` user to run the server as")
    port = _free_port()
    run = lambda cmd: subprocess.run(  # noqa: E731
        _as_server_user(cmd), check=True, capture_output=True, text=True, timeout=120
    )
    run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "automl", "--no-sync"])
    options = f"-k {root} -p {port} -h 127.0.0.1 -F -c max_connections=200"
    run(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ]
    )
    try:
        yield f"postgresql://automl@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the session's server."""
    import psycopg2

    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = psycopg2.connect(f"{postgres_server}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    conn.close()
    return f"{postgres_server}/{name}"
