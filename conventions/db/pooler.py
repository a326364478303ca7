"""Is there a connection pooler between us and PostgreSQL, and in which mode?

A migrator needs one server session for its whole run: the advisory lock, the
session's ``lock_timeout`` and the per-step transactions all live there. A pooler in
*session* mode gives it that (one server connection per client, for the client's
lifetime); in *transaction* mode every transaction may land on another server
connection, which ran 8 migrators at once, leaked ``lock_timeout`` to other clients
and left the advisory lock on a pooled connection. So a transaction pooler is refused
before any DDL.

Detection, cheapest first:

1. A pooler answers the startup itself: the process id in the BackendKeyData it sends
   (``connection.info.backend_pid``) is its own invention, not ``pg_backend_pid()``.
   Equal: a direct connection, nothing more to ask (the usual case costs one query).
2. Behind a pooler, a second client opens a transaction right after the first went
   idle. In transaction mode the first client's server connection is free again and
   PgBouncer hands out its most recently used idle server, so the second client gets
   the *same* backend: impossible in session mode, where that server stays bound to
   the first client. A second client that gets no server within a moment means the
   pool is busy with sessions: session mode. As a last check the first client asks
   again while the second holds its transaction; a changed pid is transaction mode.

PgBouncer with ``server_round_robin = 1`` can slip past step 2; README says so.
"""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extensions
from sqlalchemy.engine import Connection, Engine

_PROBE_WAIT = 3.0


def _pid(connection: Connection) -> int:
    pid = int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() or 0)
    connection.commit()
    return pid


def behind_pooler(connection: Connection) -> bool:
    """Whether the server process differs from the one the connection's startup announced."""
    dbapi: Any = connection.connection.dbapi_connection
    return int(dbapi.info.backend_pid) != _pid(connection)


def _wait(conn: psycopg2.extensions.connection, deadline: float) -> bool:
    """Drive an async connection until ready; False when ``deadline`` passes first."""
    while True:
        state = conn.poll()
        if state == psycopg2.extensions.POLL_OK:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        if state == psycopg2.extensions.POLL_READ:
            select.select([conn.fileno()], [], [], left)
        elif state == psycopg2.extensions.POLL_WRITE:
            select.select([], [conn.fileno()], [], left)


@contextmanager
def _second_client(engine: Engine) -> Iterator[int | None]:
    """Hold a transaction open on a second client; yield its backend pid (None: no server)."""
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    deadline = time.monotonic() + _PROBE_WAIT
    conn = psycopg2.connect(*args, **kwargs, async_=True)
    try:
        pid = None
        if _wait(conn, deadline):
            cursor = conn.cursor()
            cursor.execute("BEGIN; SELECT pg_backend_pid()")
            if _wait(conn, deadline):
                row = cursor.fetchone()
                pid = int(row[0]) if row else None
        yield pid
    finally:
        conn.close()  # a client still queued for a server just leaves the queue


def pool_mode(connection: Connection, engine: Engine) -> str | None:
    """Return None (direct), "session" or "transaction" for the pooler behind ``connection``."""
    if not behind_pooler(connection):
        return None
    first = _pid(connection)
    with _second_client(engine) as second:
        if second is None:
            return "session"
        if second == first:
            return "transaction"
        return "transaction" if _pid(connection) != first else "session"
