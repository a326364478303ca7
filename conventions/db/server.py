"""Facts about the server a migrator is connected to, read before any DDL.

Asked once, up front, so that a migration pointed at the wrong kind of server is
refused with the reason instead of failing halfway with PostgreSQL's generic text
("cannot execute ALTER TABLE in a read-only transaction").
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

_READ_ONLY = text("SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'")


def read_only_reason(connection: Connection) -> str | None:
    """Return "standby", "read-only" or None when the server accepts writes."""
    in_recovery, read_only = connection.execute(_READ_ONLY).one()
    if in_recovery:
        return "standby"
    if read_only:
        return "read-only"
    return None
