"""Throw-away databases on a real PostgreSQL, for this project's tests, harness and bench.

The one place that creates, clones and drops scratch databases: the migration
harness's templates (:class:`ScratchServer`), each test's own database
(:class:`DatabaseFactory`, tests/conftest.py), the plan's rebuilt schema and the
benchmarks' big table all come from here, so naming, quoting and clean-up are
decided once. Each database is created on the server DATABASE_URL points at (or
the embedded one) and dropped afterwards, so tests never see each other's schema
and leave nothing behind.

Cloning (``CREATE DATABASE … TEMPLATE``) is a file-level copy of a few megabytes;
issued on an admin session with ``synchronous_commit = off`` it does not wait for
its commit record to be flushed, which on a small machine takes a clone from ~0.2 s
to a few hundredths. That is safe here because a crash can only lose scratch
databases nobody keeps.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions
from sqlalchemy.engine import URL, Connection, Engine, make_url

from conventions.db.connect import open_engine
from conventions.db.settings import database_url, project_root
from conventions.db.sqltext import fit_name, ident, literal


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


#: libpq options for every harness connection: scratch data need not wait for fsync.
FAST_OPTIONS = "-c synchronous_commit=off"


class ScratchServer:
    """Create, clone and drop scratch databases on one server, and clean up after itself.

    ``keep_session`` holds one admin session open for every statement (the harness
    issues hundreds of clones, and its advisory locks are session-level); without it
    each statement opens and closes its own, which nothing can kill from under a
    long-lived object (a test that terminates sessions, a server restart).
    """

    def __init__(
        self, base: URL | None = None, *, prefix: str | None = None, keep_session: bool = True
    ) -> None:
        self.base = base or database_url()
        self.admin = self.base.set(database="postgres")
        self.prefix = prefix or f"h{uuid.uuid4().hex[:8]}"
        self.keep_session = keep_session
        self._admin: psycopg2.extensions.connection | None = None
        self._created: list[str] = []
        self._counter = 0

    @contextmanager
    def _cursor(self) -> Iterator[psycopg2.extensions.cursor]:
        """A cursor on the admin database, with ``synchronous_commit = off``."""
        admin = self._admin
        if admin is None or admin.closed:
            admin = self._admin = connect(self.admin)
            with admin.cursor() as cur:
                cur.execute("SET synchronous_commit = off")
        try:
            with admin.cursor() as cur:
                yield cur
        finally:
            if not self.keep_session:
                admin.close()

    def create(
        self,
        *,
        template: str | None = None,
        label: str = "db",
        name: str | None = None,
        owned: bool = True,
    ) -> URL:
        """Create an empty database, or a copy of ``template``; return its URL.

        ``name`` gives it an exact name (shared templates); ``owned=False`` leaves it
        out of what :meth:`close` drops (another process may still need it).
        """
        self._counter += 1
        name = name or fit_name(f"{self.prefix}_{label}_{self._counter}")
        query = f"CREATE DATABASE {ident(name)}"
        if template:
            query += f" TEMPLATE {ident(template)}"
        with self._cursor() as cur:
            cur.execute(query)
        if owned:
            self._created.append(name)
        return self.base.set(database=name)

    def drop(self, url: URL | str) -> None:
        """Drop a database (a URL, a URL string or a bare name), even with sessions on it."""
        if isinstance(url, str) and "://" in url:
            url = make_url(url)  # a URL string, not a bare database name
        name = url.database if isinstance(url, URL) else url
        if name is None:
            raise ValueError(f"drop: {url!r} names no database")
        with self._cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {ident(name)} WITH (FORCE)")
        if name in self._created:
            self._created.remove(name)

    def exists(self, name: str) -> bool:
        with self._cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return cur.fetchone() is not None

    @contextmanager
    def clone(self, template: str | None, *, label: str = "t") -> Iterator[URL]:
        """A copy of ``template`` (an empty database when None) for the duration of the block."""
        url = self.create(template=template, label=label)
        try:
            yield url
        finally:
            self.drop(url)

    def publish(self, database: str, name: str, note: str) -> None:
        """Give ``database`` its final ``name`` and ``note`` in one visible step.

        The comment is written first and the rename is atomic, so another process
        that sees ``name`` also sees the note (the rung's facts) that goes with it.
        """
        with self._cursor() as cur:
            cur.execute(f"COMMENT ON DATABASE {ident(database)} IS {literal(note)}")
            cur.execute(f"ALTER DATABASE {ident(database)} RENAME TO {ident(name)}")
        if database in self._created:
            self._created[self._created.index(database)] = name

    def annotate(self, database: str, note: str) -> None:
        with self._cursor() as cur:
            cur.execute(f"COMMENT ON DATABASE {ident(database)} IS {literal(note)}")

    def databases(self, prefix: str) -> dict[str, str]:
        """Return the databases whose name starts with ``prefix``, with their comments."""
        pattern = prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"
        with self._cursor() as cur:
            cur.execute(
                "SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '') "
                "FROM pg_database WHERE datname LIKE %s",
                (pattern,),
            )
            return dict(cur.fetchall())

    def lock(self, key: int) -> None:
        """Wait for the session-level advisory lock ``key`` (one climber at a time)."""
        with self._cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (key,))

    def unlock(self, key: int) -> None:
        with self._cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def close(self) -> None:
        """Drop every database this server object created, then disconnect."""
        for name in list(reversed(self._created)):
            self.drop(name)
        if self._admin is not None and not self._admin.closed:
            self._admin.close()


class DatabaseFactory:
    """Create and drop uniquely named scratch databases, one per test.

    The per-test front of :class:`ScratchServer`: names are ``{prefix}_{random}``
    so two test runs on one server never collide, and every statement has a
    session of its own (the factory lives for the whole test session). Tests drop
    what they create; nothing is tracked.
    """

    def __init__(self, base: URL | None = None) -> None:
        self._server = ScratchServer(base, keep_session=False)
        self.base = self._server.base
        self.admin = self._server.admin

    def create(self, *, template: str | None = None, prefix: str = "t") -> URL:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        return self._server.create(template=template, name=name, owned=False)

    def drop(self, url: URL | str) -> None:
        self._server.drop(url)

    def exists(self, name: str) -> bool:
        return self._server.exists(name)

    @contextmanager
    def scratch(self, *, template: str | None = None, prefix: str = "t") -> Iterator[URL]:
        """A new database (a copy of ``template``, or empty) for the duration of the block."""
        url = self.create(template=template, prefix=prefix)
        try:
            yield url
        finally:
            self.drop(url)


def engine_for(url: URL) -> Engine:
    """Return an engine for a scratch database (no pool, no fsync wait)."""
    return open_engine(url, application=None, options=FAST_OPTIONS)


@contextmanager
def connected(url: URL) -> Iterator[Connection]:
    """One connection to a scratch database, closed and its engine disposed on the way out.

    Disposing matters: a template database with a session left on it cannot be cloned.
    """
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


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
