"""Observe the locks of a statement that must run outside any transaction block.

``CREATE INDEX CONCURRENTLY`` (and the other CONCURRENTLY forms) commit internally
and release their locks before returning, so reading ``pg_locks`` afterwards shows
nothing. A second session therefore holds a snapshot open while the statement
starts: after taking its lock, the build waits for every older snapshot in the
database to finish (PostgreSQL documents this wait). While it waits, the watcher
reads the statement's granted locks, then ends its transaction so the build goes
on. The wait lasts a few milliseconds, far inside the runner's ``lock_timeout``.
Statements that never wait for older snapshots are sampled while they run, and
say so when nothing was seen.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy.engine import URL

from conventions.harness.scratch import connect

_LOCKS = """
SELECT l.relation::bigint, l.mode, l.granted, l.locktype FROM pg_locks l
 WHERE l.pid = %s AND (l.locktype <> 'relation' OR l.relation >= 16384)
"""


# Statements PostgreSQL refuses inside a transaction block (besides CONCURRENTLY).
_OUTSIDE = (
    "VACUUM",
    "CREATE DATABASE",
    "DROP DATABASE",
    "ALTER SYSTEM",
    "CREATE TABLESPACE",
    "DROP TABLESPACE",
)


class LockWatcher:
    """Hold an old snapshot, read ``pid``'s locks while it waits on it, then let it go."""

    def __init__(self, url: URL, pid: int) -> None:
        self.pid = pid
        self.locks: dict[int, set[str]] = {}
        self.caught_waiting = False
        self._done = threading.Event()
        self._conn = connect(url, autocommit=False, application="conventions plan (watcher)")
        with self._conn.cursor() as cur:
            # REPEATABLE READ keeps the snapshot (and its xmin) until COMMIT.
            cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            cur.execute("SELECT 1")
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        holding = True
        deadline = time.monotonic() + 1.0  # never hold the statement longer than this
        with self._conn.cursor() as cur:
            while not self._done.is_set():
                cur.execute(_LOCKS, (self.pid,))
                waiting = False
                for oid, mode, granted, locktype in cur.fetchall():
                    if not granted:
                        waiting = True
                    elif locktype == "relation":
                        self.locks.setdefault(int(oid), set()).add(mode)
                if holding and (waiting or time.monotonic() > deadline):
                    self.caught_waiting = self.caught_waiting or waiting
                    self._conn.commit()
                    holding = False
                time.sleep(0.001)
            if holding:
                self._conn.commit()

    def stop(self) -> dict[int, set[str]]:
        """Stop watching (the statement has returned); return the locks seen."""
        self._done.set()
        self._thread.join(timeout=5)
        self._conn.close()
        return self.locks


def concurrent(statement: str) -> bool:
    """Whether ``statement`` cannot run inside a transaction block (so cannot be wrapped)."""
    words = statement.upper().split()
    head = " ".join(words[:2])
    return "CONCURRENTLY" in words[:6] or head.startswith(_OUTSIDE)
