"""Connection-level bad input: malformed URL, unreachable, wrong password, missing database.

Each case must give one clear paragraph with the password masked, exit non-zero, print
no traceback, and — where a database exists — leave it unchanged.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from conventions.db import embedded
from conventions.harness.scratch import run_cli
from tests import catalog

SECRET = "s3cr3t-Pa55"


def _assert_clean_failure(result: subprocess.CompletedProcess[str]) -> str:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output
    assert SECRET not in output
    return output


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://app:" + SECRET + "@localhost/app", "uses the scheme 'mysql'"),
        ("postgresql://app:" + SECRET + "@localhost:5432/", "names no database"),
        ("postgresql://app:" + SECRET + "@localhost:54x2/app", "port that is not a number"),
        ("not a url at all", "DATABASE_URL is malformed"),
        ("postgresql//app:" + SECRET + "@localhost/app", "DATABASE_URL is malformed"),
        ("postgresql://app:" + SECRET + "@db@localhost/app", "escape it as %40"),
    ],
)
def test_malformed_database_url(url: str, expected: str) -> None:
    for argv in (["alembic", "upgrade", "head"], ["-m", "conventions", "migrate"]):
        output = _assert_clean_failure(run_cli(argv, url=url))
        assert expected in output
        assert "***" in output or "Expected" in output or "scheme" in output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_server_unreachable() -> None:
    url = f"postgresql://app:{SECRET}@127.0.0.1:{_free_port()}/app_dev"
    result = run_cli(["-m", "conventions", "migrate"], url=url)
    output = _assert_clean_failure(result)
    assert "[error] Cannot connect to the database at postgresql+psycopg2://app:***@127.0.0.1" in (
        output
    )
    assert "pg_isready" in output and "DATABASE_URL in .env" in output


def test_database_missing(fresh_db: URL) -> None:
    missing = fresh_db.set(database="no_such_database_here")
    result = run_cli(["alembic", "upgrade", "head"], url=missing)
    output = _assert_clean_failure(result)
    assert "FAILED: The database 'no_such_database_here' does not exist" in output
    assert "createdb no_such_database_here" in output


@pytest.fixture(scope="module")
def password_server() -> Iterator[URL]:
    """A second real server that checks passwords (the embedded one trusts its socket)."""
    data = Path(tempfile.mkdtemp(prefix="pw-pg-"))
    user = None
    if os.geteuid() == 0:
        user = "embedded_postgres"
        entry = pwd.getpwnam(user)
        os.chown(data, entry.pw_uid, entry.pw_gid)
    (data / "pw").write_text(SECRET)
    if user:
        os.chown(data / "pw", pwd.getpwnam(user).pw_uid, -1)
    cluster = data / "cluster"
    port = _free_port()
    run = {"check": True, "capture_output": True, "user": user}
    subprocess.run(
        [
            str(embedded.binary("initdb")),
            "-D",
            str(cluster),
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            f"--pwfile={data / 'pw'}",
        ],
        **run,
    )
    subprocess.run(
        [
            str(embedded.binary("pg_ctl")),
            "-D",
            str(cluster),
            "-w",
            "-l",
            str(data / "log"),
            "-o",
            f"-h 127.0.0.1 -p {port} -k {data}",
            "start",
        ],
        **run,
    )
    try:
        yield URL.create(
            "postgresql+psycopg2",
            username="postgres",
            password=SECRET,
            host="127.0.0.1",
            port=port,
            database="postgres",
        )
    finally:
        subprocess.run(
            [str(embedded.binary("pg_ctl")), "-D", str(cluster), "-m", "immediate", "stop"],
            capture_output=True,
            user=user,
        )
        shutil.rmtree(data, ignore_errors=True)


def test_wrong_password(password_server: URL) -> None:
    wrong = password_server.set(password="not-the-password")
    result = run_cli(["-m", "conventions", "migrate"], url=wrong)
    output = _assert_clean_failure(result)
    assert "not-the-password" not in output
    assert "PostgreSQL refused the login for postgresql+psycopg2://postgres:***@127.0.0.1" in output

    engine = create_engine(password_server, poolclass=NullPool)
    assert catalog.tables(engine) == set()  # nothing was created
    engine.dispose()


def test_right_password_migrates_a_password_server(password_server: URL) -> None:
    result = run_cli(["alembic", "upgrade", "head"], url=password_server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr
    engine = create_engine(password_server, poolclass=NullPool)
    assert "notification_campaigns" in catalog.tables(engine)
    engine.dispose()
    assert run_cli(["alembic", "downgrade", "base"], url=password_server).returncode == 0


def test_traceback_only_when_asked() -> None:
    url = "mysql://x@y/z"
    quiet = run_cli(["-m", "conventions", "migrate"], url=url)
    assert quiet.returncode == 1 and "Traceback" not in quiet.stderr + quiet.stdout
    loud = run_cli(["-m", "conventions", "--traceback", "migrate"], url=url)
    assert loud.returncode != 0 and "Traceback" in loud.stderr
