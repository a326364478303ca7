"""Cheap throw-away databases: ``CREATE DATABASE … TEMPLATE`` from prepared states.

A migrated, seeded database is built once per session for each point in the
history, then every test clones the one it needs. Cloning is a file-level copy of
a few megabytes; issued on an admin session with ``synchronous_commit = off`` it
does not wait for its commit record to be flushed, which on a small machine takes
a clone from ~0.2 s to a few hundredths. That is safe here because a crash can
only lose scratch databases nobody keeps.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from psycopg2 import extensions, sql
from sqlalchemy.engine import URL, Engine

from conventions.db.connect import open_engine
from conventions.db.settings import database_url
from conventions.harness.project import Project
from conventions.harness.scratch import connect

#: libpq options for every harness connection: scratch data need not wait for fsync.
FAST_OPTIONS = "-c synchronous_commit=off"


class ScratchServer:
    """Create, clone and drop scratch databases on one server, and clean up after itself."""

    def __init__(self, base: URL | None = None, *, prefix: str | None = None) -> None:
        self.base = base or database_url()
        self.prefix = prefix or f"h{uuid.uuid4().hex[:8]}"
        self._admin: extensions.connection | None = None
        self._created: list[str] = []
        self._counter = 0

    def _cursor(self) -> extensions.cursor:  # on the admin database
        if self._admin is None or self._admin.closed:
            self._admin = connect(self.base.set(database="postgres"))
            with self._admin.cursor() as cur:
                cur.execute("SET synchronous_commit = off")
        return self._admin.cursor()

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
        name = name or f"{self.prefix}_{label}_{self._counter}"[:63]
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        with self._cursor() as cur:
            cur.execute(query)
        if owned:
            self._created.append(name)
        return self.base.set(database=name)

    def publish(self, database: str, name: str, note: str) -> None:
        """Give ``database`` its final ``name`` and ``note`` in one visible step.

        The comment is written first and the rename is atomic, so another process
        that sees ``name`` also sees the note (the rung's facts) that goes with it.
        """
        with self._cursor() as cur:
            cur.execute(
                sql.SQL("COMMENT ON DATABASE {} IS %s").format(sql.Identifier(database)), (note,)
            )
            cur.execute(
                sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                    sql.Identifier(database), sql.Identifier(name)
                )
            )
        if database in self._created:
            self._created[self._created.index(database)] = name

    def annotate(self, database: str, note: str) -> None:
        with self._cursor() as cur:
            cur.execute(
                sql.SQL("COMMENT ON DATABASE {} IS %s").format(sql.Identifier(database)), (note,)
            )

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

    def drop(self, url: URL | str) -> None:
        name = url.database if isinstance(url, URL) else url
        if name is None:
            raise ValueError(f"drop: {url!r} names no database")
        with self._cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        if name in self._created:
            self._created.remove(name)

    def close(self) -> None:
        """Drop every database this server object created, then disconnect."""
        for name in list(reversed(self._created)):
            self.drop(name)
        if self._admin is not None and not self._admin.closed:
            self._admin.close()

    @contextmanager
    def clone(self, template: str, *, label: str = "t") -> Iterator[URL]:
        """A copy of ``template`` for the duration of the block."""
        url = self.create(template=template, label=label)
        try:
            yield url
        finally:
            self.drop(url)


def engine_for(url: URL) -> Engine:
    """Return an engine for a scratch database (no pool, no fsync wait)."""
    return open_engine(url, application=None, options=FAST_OPTIONS)


def setup_seconds(
    server: ScratchServer | None = None,
    *,
    template: str | None = None,
    project: Project | None = None,
    samples: int = 5,
) -> float:
    """Return the median seconds to set up one test database (a template clone).

    With no ``template``, one is made first by migrating a scratch database to the
    project's head (``project`` defaults to the current one), so the figure is what a
    harness test pays. Benchmarks call this to report the per-test cost of the
    machine they run on.
    """
    own = server is None
    server = server or ScratchServer()
    made = None
    try:
        if template is None:
            made = server.create(label="bench_template")
            _migrate_to_head(made, project or Project())
            template = made.database
        timings = []
        for _ in range(max(samples, 1)):
            started = time.perf_counter()
            url = server.create(template=template, label="bench")
            timings.append(time.perf_counter() - started)
            server.drop(url)
        return statistics.median(timings)
    finally:
        if made is not None:
            server.drop(made)
        if own:
            server.close()


def _migrate_to_head(url: URL, project: Project) -> None:
    from conventions.harness.steps import upgrade_one

    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            for revision in project.revisions():
                upgrade_one(project, connection, revision.revision)
    finally:
        engine.dispose()
