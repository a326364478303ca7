"""The migration history, write side: one row per step, failures included.

A successful step's row is written inside that step's transaction, next to
Alembic's version update, so a row exists exactly when the step committed: a
process killed midway leaves neither. A failure is written after the rollback, in
its own short transaction, and best-effort: a missing privilege on the history
table must not hide the error that made the migration fail.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

from conventions import logs
from conventions.db.redact import redact
from conventions.history.records import exists
from conventions.history.schema import ARCHIVE_INDEX, SCHEMA
from conventions.history.schema import HISTORY as QUALIFIED

_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {QUALIFIED} (
        id bigint GENERATED ALWAYS AS IDENTITY,
        revision varchar(255) NOT NULL,
        file_name varchar(255),
        direction varchar(10) NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL,
        duration_ms integer NOT NULL,
        db_user text NOT NULL DEFAULT current_user,
        client_host text,
        os_user text,
        success boolean NOT NULL,
        error text,
        note text,
        checksum varchar(64),
        CONSTRAINT pk_history PRIMARY KEY (id),
        CONSTRAINT ck_history_direction
            CHECK (direction IN ('upgrade', 'downgrade', 'stamp', 'repair', 'baseline'))
    )""",
    f"""CREATE TABLE IF NOT EXISTS {ARCHIVE_INDEX} (
        id bigint GENERATED ALWAYS AS IDENTITY,
        archive_table varchar(63) NOT NULL,
        source_schema varchar(63) NOT NULL,
        source_table varchar(63) NOT NULL,
        source_column varchar(63),
        key_columns text[] NOT NULL,
        revision varchar(255) NOT NULL,
        row_count bigint NOT NULL,
        archived_at timestamptz NOT NULL DEFAULT now(),
        restored_at timestamptz,
        CONSTRAINT pk_archives PRIMARY KEY (id),
        CONSTRAINT uq_archives_archive_table UNIQUE (archive_table)
    )""",
)


def ensure_tables(connection: Connection) -> None:
    """Create the bookkeeping schema and tables if missing (caller holds the migrator lock)."""
    if exists(connection):
        return
    for statement in _DDL:
        connection.execute(text(statement))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return str(os.getuid())


@dataclass
class Entry:
    """One step as it will be recorded; ``started_at`` is taken when it is created."""

    revision: str
    file_name: str | None
    direction: str
    checksum: str | None = None
    note: str | None = None
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def restart(self) -> None:
        self.started_at = dt.datetime.now(dt.UTC)


def record(
    connection: Connection, entry: Entry, *, success: bool, error: str | None = None
) -> None:
    """Insert ``entry``'s row in the connection's current transaction."""
    finished = dt.datetime.now(dt.UTC)
    duration_ms = round((finished - entry.started_at).total_seconds() * 1000)
    connection.execute(
        text(
            f"INSERT INTO {QUALIFIED} (revision, file_name, direction, started_at, finished_at,"
            " duration_ms, client_host, os_user, success, error, note, checksum)"
            " VALUES (:revision, :file_name, :direction, :started_at, :finished_at,"
            " :duration_ms, :client_host, :os_user, :success, :error, :note, :checksum)"
        ),
        {
            "revision": entry.revision,
            "file_name": entry.file_name,
            "direction": entry.direction,
            "started_at": entry.started_at,
            "finished_at": finished,
            "duration_ms": duration_ms,
            "client_host": socket.gethostname(),
            "os_user": _os_user(),
            "success": success,
            "error": redact(error) if error else error,
            "note": redact(entry.note) if entry.note else entry.note,
            "checksum": entry.checksum,
        },
    )


def record_failure(connection: Connection, entry: Entry, error: str) -> None:
    """Record a failed step in its own transaction, after the step was rolled back."""
    try:
        if connection.in_transaction():
            connection.rollback()
        if not exists(connection):
            connection.rollback()
            return
        record(connection, entry, success=False, error=error)
        connection.commit()
    except Exception as err:  # never let bookkeeping hide the real failure
        try:
            connection.rollback()
        except Exception:
            pass
        first = str(getattr(err, "orig", err)).strip().splitlines()
        logs.warn(f"Could not record the failure in {QUALIFIED}: {first[0] if first else err}")
