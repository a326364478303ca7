"""Throw-away databases on a real PostgreSQL, for this project's tests and yours.

Each test gets its own database, created on the server DATABASE_URL points at (or
the embedded one) and dropped afterwards, so tests never see each other's schema
and leave nothing behind. Cloning a template database is how the harness makes
a migrated database cheaply.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql
from sqlalchemy.engine import URL, make_url

from conventions.db.settings import database_url, project_root


def connect(
    url: URL, *, autocommit: bool = True, application: str | None = None
) -> psycopg2.extensions.connection:
    """Open a psycopg2 connection on ``url``.

    For setting a scenario up by hand: a session that holds a lock, sits idle in a
    transaction, or creates and drops databases. ``host``/``port`` in the URL's query
    (the embedded server's unix socket) win over its netloc. ``application`` names
    the session in ``pg_stat_activity``.
    """
    kwargs: dict[str, Any] = {"dbname": url.database, "user": url.username}  # libpq's
    if url.password:
        kwargs["password"] = url.password
    if url.host:
        kwargs["host"] = url.host
    if url.port:
        kwargs["port"] = url.port
    for key in ("host", "port", "sslmode"):
        if key in url.query:
            kwargs[key] = url.query[key]
    if application is not None:
        kwargs["application_name"] = application
    conn = psycopg2.connect(**kwargs)
    conn.autocommit = autocommit
    return conn


class DatabaseFactory:
    """Create and drop scratch databases on one server."""

    def __init__(self, base: URL | None = None) -> None:
        self.base = base or database_url()
        self.admin = self.base.set(database="postgres")

    def create(self, *, template: str | None = None, prefix: str = "t") -> URL:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        conn = connect(self.admin)
        try:
            with conn.cursor() as cur:
                query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
                if template:
                    query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                cur.execute(query)
        finally:
            conn.close()
        return self.base.set(database=name)

    def drop(self, url: URL | str) -> None:
        if isinstance(url, str) and "://" in url:
            url = make_url(url)  # a URL string, not a bare database name
        name = url.database if isinstance(url, URL) else url
        if name is None:
            raise ValueError(f"drop: {url!r} names no database")
        conn = connect(self.admin)
        try:
            with conn.cursor() as cur:
                cur.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        finally:
            conn.close()

    def exists(self, name: str) -> bool:
        conn = connect(self.admin)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                return cur.fetchone() is not None
        finally:
            conn.close()


def url_text(url: URL) -> str:
    """Render a URL with its password, for handing to a child process."""
    return url.render_as_string(hide_password=False)


def child_env(url: URL | str | None, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the environment for a child process on ``url``: plain logs, ``env`` on top.

    The caller's own DATABASE_URL is dropped so that ``url=None`` really means none.
    """
    found = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    found["PLAIN_LOGS"] = "1"
    if url is not None:
        found["DATABASE_URL"] = url if isinstance(url, str) else url_text(url)
    found.update(env or {})
    return found


def run_cli(
    args: Sequence[str],
    *,
    url: URL | str | None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``alembic …`` or ``python -m conventions …`` as a user would, on ``url``."""
    cwd = cwd or project_root()
    if args and args[0] == "alembic":
        argv = [str(Path(sys.executable).with_name("alembic")), *args[1:]]
    else:
        argv = [sys.executable, *args]
    return subprocess.run(
        argv, cwd=cwd, env=child_env(url, env), capture_output=True, text=True, timeout=timeout
    )
