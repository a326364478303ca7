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
2. Behind a pooler, the migration connection *pins* a random token on its server
   session (``set_config(..., false)``) and commits. Only evidence that is impossible
   in session mode gives the verdict "transaction": a second client that lands on the
   pinned server (in transaction mode PgBouncer hands out its most recently released
   idle server, so on a quiet pool it always does), or the migration connection's next
   transaction running on another server or without its token (what a busy pool does).
   The second client never holds a transaction open, so migrators probing together on
   a small pool cannot starve each other; a second client that gets no server in time
   is no evidence either way, never a verdict. Several rounds are tried.

No client-side probe can *prove* session mode: a transaction pooler may by chance keep
giving one client the same server. That residue is closed where it matters, by the
migrator lock (``runtime/migrator_lock.py``): taking it on a server that already holds
it, or running a step on a server that is not the one holding it, is the same
evidence, and refuses before that step's DDL.
"""

from __future__ import annotations

import secrets
import select
import time
from typing import Any

import psycopg2
import psycopg2.extensions
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

_PROBE_WAIT = 3.0
_ROUNDS = 3
PIN = "conventions.session_pin"
"""A custom setting (needs a dot) that lives exactly as long as the server session."""


def _pid(connection: Connection) -> int:
    pid = int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() or 0)
    connection.commit()
    return pid


def behind_pooler(connection: Connection) -> bool:
    """Whether the server process differs from the one the connection's startup announced."""
    dbapi: Any = connection.connection.dbapi_connection
    return int(dbapi.info.backend_pid) != _pid(connection)


def pin(connection: Connection, token: str) -> int:
    """Set ``token`` on the connection's server session; return that server's pid."""
    pid = connection.execute(
        text("SELECT pg_backend_pid(), set_config(:name, :token, false)"),
        {"name": PIN, "token": token},
    ).scalar()
    connection.commit()
    return int(pid or 0)


def still_pinned(connection: Connection, pid: int, token: str) -> bool:
    """Whether the current transaction runs on server ``pid`` with ``token`` still set."""
    row = connection.execute(
        text("SELECT pg_backend_pid(), current_setting(:name, true)"), {"name": PIN}
    ).first()
    return row is not None and int(row[0]) == pid and row[1] == token


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


def _second_client_sees(engine: Engine, pid: int, token: str) -> bool | None:
    """Whether a second client's one-statement transaction ran on the pinned server.

    None: it got no server within ``_PROBE_WAIT`` (a full session pool, or a busy
    transaction pool; no evidence). The async connection is in autocommit, so the
    statement is its own transaction and the server goes back to the pool at once.
    """
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    deadline = time.monotonic() + _PROBE_WAIT
    conn = psycopg2.connect(*args, **kwargs, async_=True)
    try:
        if not _wait(conn, deadline):
            return None
        cursor = conn.cursor()
        cursor.execute("SELECT pg_backend_pid(), current_setting(%s, true)", (PIN,))
        if not _wait(conn, deadline):
            return None
        row = cursor.fetchone()
        return row is not None and (int(row[0]) == pid or row[1] == token)
    finally:
        conn.close()  # a client still queued for a server just leaves the queue


def pool_mode(connection: Connection, engine: Engine) -> str | None:
    """Return None (direct), "session" or "transaction" for the pooler behind ``connection``."""
    if not behind_pooler(connection):
        return None
    token = secrets.token_hex(8)
    pid = pin(connection, token)
    for _ in range(_ROUNDS):
        seen = _second_client_sees(engine, pid, token)
        if seen:
            return "transaction"
        pinned = still_pinned(connection, pid, token)
        connection.commit()
        if not pinned:
            return "transaction"
        if seen is None:
            break  # a pool with no server to spare: more rounds would only wait again
    return "session"
