"""The migration history, read side: what ran, when, by whom, and with which file.

The table lives in its own schema (``migration_meta.history``, like Atlas keeps
``atlas_schema_revisions``) so the application's ``public`` schema holds only the
application's tables plus Alembic's ``alembic_version``: model/database drift checks
and catalog snapshots need not know about it. Writing rows is
``conventions.runtime.recorder``'s job; this module only reads, so ``status`` can use it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from conventions.history.checksums import file_checksum
from conventions.history.schema import HISTORY as QUALIFIED

# Directions whose row vouches for the file as it was when it ran.
_VOUCHING = ("upgrade", "stamp", "repair", "baseline")


@dataclass(frozen=True)
class HistoryRow:
    id: int
    revision: str
    file_name: str | None
    direction: str
    started_at: dt.datetime
    finished_at: dt.datetime
    duration_ms: int
    db_user: str
    client_host: str | None
    os_user: str | None
    success: bool
    error: str | None
    note: str | None
    checksum: str | None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat()
        return data


def exists(connection: Connection) -> bool:
    """Return whether the history table exists (one catalog lookup)."""
    found = connection.execute(text("SELECT to_regclass(:t)"), {"t": QUALIFIED}).scalar()
    return found is not None


def recorded_checksums(connection: Connection) -> dict[str, str]:
    """Return revision -> the checksum its latest vouching row recorded."""
    rows = connection.execute(
        text(
            f"SELECT DISTINCT ON (revision) revision, checksum FROM {QUALIFIED}"
            " WHERE success AND checksum IS NOT NULL AND direction = ANY(:d)"
            " ORDER BY revision, id DESC"
        ),
        {"d": list(_VOUCHING)},
    )
    return dict(rows.all())


def recent(connection: Connection, limit: int = 10) -> list[HistoryRow]:
    """Return the last ``limit`` rows, oldest first."""
    rows = connection.execute(
        text(
            "SELECT id, revision, file_name, direction, started_at, finished_at, duration_ms,"
            " db_user, client_host, os_user, success, error, note, checksum"
            f" FROM {QUALIFIED} ORDER BY id DESC LIMIT :n"
        ),
        {"n": limit},
    )
    return [HistoryRow(*row) for row in reversed(rows.all())]


def edited_files(
    applied: Iterable[tuple[str, str | None]], recorded: dict[str, str]
) -> list[tuple[str, str]]:
    """Return (revision, file name) for applied files whose checksum changed.

    ``applied`` holds (revision, path) pairs. A revision with no recorded checksum
    (applied before history existed, or by plain Alembic) cannot be judged and is
    skipped; ``python -m conventions baseline`` records one.
    """
    changed = []
    for revision, path in applied:
        expected = recorded.get(revision)
        if expected is None or path is None:
            continue
        if not Path(path).is_file() or file_checksum(path) != expected:
            changed.append((revision, Path(path).name))
    return changed
