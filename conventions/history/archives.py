"""The archives a downgrade left behind, read side: what is kept, and whether it is still there.

``archive list`` and ``status`` only read ``migration_meta.archives``; restoring and
purging (:mod:`conventions.runtime.archive_store`) write, so they live in the runtime
and read-only commands never load them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from conventions.db import catalog
from conventions.errors import ArchiveError
from conventions.history.records import exists
from conventions.history.schema import ARCHIVE_INDEX, ARCHIVE_SCHEMA


@dataclass(frozen=True)
class Archive:
    name: str
    source_schema: str
    source_table: str
    source_column: str | None
    key_columns: list[str]
    revision: str
    row_count: int
    archived_at: dt.datetime
    restored_at: dt.datetime | None
    present: bool = True
    """False when the archive table (or its column) is gone: its rows are not there."""

    @property
    def source(self) -> str:
        column = f".{self.source_column}" if self.source_column else ""
        return f"{self.source_schema}.{self.source_table}{column}"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "revision": self.revision,
            "rows": self.row_count,
            "archived_at": self.archived_at.isoformat(),
            "restored_at": self.restored_at.isoformat() if self.restored_at else None,
            "present": self.present,
        }


_COLUMNS = (
    "archive_table, source_schema, source_table, source_column, key_columns, revision,"
    " row_count, archived_at, restored_at"
)


def archives(connection: Connection) -> list[Archive]:
    """Return every archive, oldest first (none if the bookkeeping tables do not exist)."""
    if not exists(connection):
        return []
    rows = connection.execute(text(f"SELECT {_COLUMNS} FROM {ARCHIVE_INDEX} ORDER BY id")).all()
    found = []
    for row in rows:
        name, schema, table, column, keys, revision, count, archived, restored = row
        present = _present(connection, name, column)
        found.append(
            Archive(name, schema, table, column, keys, revision, count, archived, restored, present)
        )
    return found


def _present(connection: Connection, archive_table: str, column: str | None) -> bool:
    """Whether the archive's rows are still there: its table, and its column if it has one."""
    found = catalog.table(connection, archive_table, schema=ARCHIVE_SCHEMA)
    if found is None:
        return False
    columns = catalog.columns(connection, found.oid)
    return column in columns if column is not None else bool(columns)


def find(connection: Connection, name: str) -> Archive:
    for archive in archives(connection):
        if archive.name == name:
            return archive
    raise ArchiveError(
        f"There is no archive named {name!r}.",
        name=name,
        hints=["List them: python -m conventions archive list"],
    )
