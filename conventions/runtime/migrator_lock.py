"""One migrator at a time: a PostgreSQL session advisory lock on its own connection.

Several app instances often run ``make migrate`` as they start. They serialise on
one advisory lock per database; the losers wait (bounded), then re-read the state
and usually find nothing to do. The lock lives on a connection of its own, idle in
autocommit, so it survives the per-migration commits, the autocommit blocks of
``CREATE INDEX CONCURRENTLY`` and a migration connection that broke; if the
process dies, the server sees the socket close and releases it at once.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from conventions import logs
from conventions.db.pooler import pin, still_pinned
from conventions.db.redact import mask_url
from conventions.errors import MigratorBusy, TransactionPooler

# One 64-bit key for "the migrator" ('conv' 'migr' in ASCII). pg_locks shows a bigint
# advisory key as classid = high 32 bits, objid = low 32 bits, objsubid = 1.
LOCK_KEY = 0x636F6E766D696772
_HIGH, _LOW = LOCK_KEY >> 32, LOCK_KEY & 0xFFFFFFFF
_LOG_EVERY = 10.0

_HOLDER = text(
    "SELECT a.pid, a.application_name, a.usename, a.client_addr::text, a.backend_start"
    " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    " AND l.classid = CAST(:high AS oid) AND l.objid = CAST(:low AS oid)"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND a.pid <> pg_backend_pid()"
)

_HELD_HERE = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND objsubid = 1 AND classid = CAST(:high AS oid) AND objid = CAST(:low AS oid)"
    " AND pid = pg_backend_pid())"
)
_UNLOCK_IF_HERE = text("SELECT CASE WHEN pg_backend_pid() = :pid THEN pg_advisory_unlock(:key) END")
_UNLOCK_ATTEMPTS = 10


@dataclass(frozen=True)
class Holder:
    pid: int
    application_name: str
    user: str
    client: str | None
    since: dt.datetime

    def describe(self) -> str:
        app = self.application_name or "no application_name"
        where = f" from {self.client}" if self.client else ""
        return (
            f"pid {self.pid} ({app}, user {self.user}{where}), "
            f"connected since {self.since:%Y-%m-%d %H:%M:%S %Z}".rstrip()
        )


def holder(connection: Connection) -> Holder | None:
    """Return the session holding the migrator lock on this database, if any."""
    row = connection.execute(_HOLDER, {"high": _HIGH, "low": _LOW}).first()
    return Holder(*row) if row else None


class MigratorLock:
    """Context manager: hold the migrator lock for the duration of a schema change."""

    def __init__(
        self, engine: Engine, *, wait: float, database: str, shared: Connection | None = None
    ) -> None:
        self.engine = engine
        self.wait = wait
        self.database = database
        self.shared = shared
        """The migration's own connection, to hold the lock on instead of a second one.

        Behind a session-mode pooler every connection is a server connection of a small
        pool: two per migrator wedged 8 migrators on a pool of 2. The session lock
        survives the step's commits and rollbacks, so one connection can carry both.
        """
        self.connection: Connection | None = None
        self.pinned: tuple[int, str] | None = None
        """(server pid, token) the shared lock was taken on: every later transaction checks it."""

    def __enter__(self) -> MigratorLock:
        if self.shared is not None:
            self._acquire(self.shared)
            self.connection = self.shared
            return self
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            self._acquire(connection)
        except BaseException:
            connection.close()
            raise
        self.connection = connection
        return self

    def _try(self, connection: Connection) -> bool:
        query = text("SELECT pg_try_advisory_lock(:key)")
        if connection is not self.shared:
            return bool(connection.execute(query, {"key": LOCK_KEY}).scalar())
        # Through a pooler: a server session that already holds the lock is another
        # client's, handed to us by a transaction pooler (a session lock is reentrant,
        # so trying would "succeed"). Checked in the same transaction as the try.
        if connection.execute(_HELD_HERE, {"high": _HIGH, "low": _LOW}).scalar():
            connection.rollback()
            raise TransactionPooler(database=mask_url(self.engine.url))
        got = bool(connection.execute(query, {"key": LOCK_KEY}).scalar())
        if got:
            token = secrets.token_hex(8)
            self.pinned = (pin(connection, token), token)  # commits, on the same server
        else:
            connection.commit()  # a session lock outlives it; no snapshot held while waiting
        return got

    def verify(self) -> None:
        """Refuse unless this transaction runs on the server session that holds the lock.

        A no-op on a lock of its own connection. On a shared one (behind a pooler that
        looked like session mode) it opens the caller's transaction with one query, so
        the statements that follow run on the server it checked: a transaction pooler
        that moved us is caught before that transaction's DDL or ``SET``.
        """
        if self.shared is None or self.pinned is None:
            return
        pid, token = self.pinned
        if not still_pinned(self.shared, pid, token):
            self.shared.rollback()
            raise TransactionPooler(database=mask_url(self.engine.url))

    def _acquire(self, connection: Connection) -> None:
        if self._try(connection):
            return
        started = time.monotonic()
        deadline = started + self.wait
        delay, last_log = 0.05, -_LOG_EVERY
        while True:
            now = time.monotonic()
            other = holder(connection)
            if connection is self.shared:
                connection.commit()
            if now - last_log >= _LOG_EVERY:
                last_log = now
                who = other.describe() if other else "a session that just finished"
                logs.warn(
                    f"Another migration is running on {self.database!r}: {who}. "
                    f"Waiting up to {self.wait:g}s for it to finish."
                )
            if now >= deadline:
                raise _busy(other, now - started, self.database)
            time.sleep(min(delay, max(deadline - now, 0.01)))
            delay = min(delay * 2, 1.0)
            if self._try(connection):
                logs.info(f"Got the migrator lock after {time.monotonic() - started:.1f}s.")
                return

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.connection is None:
            return
        try:
            if self.shared is not None:
                if self.shared.in_transaction():
                    self.shared.rollback()
                self._unlock_shared()
            else:
                self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        except Exception:
            pass  # closing the session releases the lock anyway
        finally:
            if self.shared is None:
                self.connection.close()
            self.connection = None
            self.pinned = None

    def _unlock_shared(self) -> None:
        """Release the lock on the server that holds it (a moved session gets a few tries)."""
        if self.pinned is None:
            return
        assert self.shared is not None
        params = {"pid": self.pinned[0], "key": LOCK_KEY}
        for _ in range(_UNLOCK_ATTEMPTS):
            released = self.shared.execute(_UNLOCK_IF_HERE, params).scalar()
            self.shared.commit()
            if released is not None:  # NULL: another server; it is not ours to unlock
                return


def _busy(other: Holder | None, waited: float, database: str) -> MigratorBusy:
    who = other.describe() if other else "a session that has since finished"
    pid = other.pid if other else None
    hints = [
        "It is probably still migrating: wait for it and run again "
        "(CONVENTIONS_MIGRATOR_WAIT sets how long to wait; default 60s).",
    ]
    if pid is not None:
        hints.append(
            f"If that process is stuck or gone: SELECT pg_terminate_backend({pid}); "
            "— a migration in progress there is rolled back, nothing is half-applied."
        )
    return MigratorBusy(
        f"Another migration holds the migrator lock on database {database!r}: {who}. "
        f"Gave up after waiting {waited:.0f}s; nothing was run.",
        pid=pid,
        waited=waited,
        hints=hints,
    )


@contextmanager
def locked(*, application: str) -> Iterator[tuple[Engine, Connection]]:
    """Yield (engine, connection) on the project database while holding the migrator lock.

    For the maintenance commands (repair, baseline, archive restore/purge): they
    change the database too, so they queue behind a running migration like another
    migrator would.
    """
    from conventions.db.connect import connected
    from conventions.db.redact import mask_url
    from conventions.db.server import read_only_reason
    from conventions.errors import DatabaseReadOnly
    from conventions.runtime.limits import Limits

    with connected(application=application) as (engine, connection):
        database = engine.url.database or "?"
        reason = read_only_reason(connection)
        connection.rollback()
        if reason is not None:
            raise DatabaseReadOnly(database=mask_url(engine.url), reason=reason)
        with MigratorLock(engine, wait=Limits.from_env().migrator_wait, database=database):
            yield engine, connection
