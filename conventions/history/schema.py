"""The bookkeeping schema: the one list of the names the runtime keeps its records under.

The runtime writes to schemas of its own so the application's schemas hold only the
application's tables (plus Alembic's version table): ``migration_meta`` for the history,
the archive index and backfill positions, ``migration_archive`` for the data a
downgrade dropped. Everything that must tell bookkeeping from the application's schema
— drift checks, ``status``, the harness's catalog snapshots, ``plan``'s statement
tracer — asks here, so a new bookkeeping table is added in one place.
"""

from __future__ import annotations

SCHEMA = "migration_meta"
HISTORY_TABLE = "history"
ARCHIVES_TABLE = "archives"
BACKFILLS_TABLE = "backfills"
ARCHIVE_SCHEMA = "migration_archive"

HISTORY = f"{SCHEMA}.{HISTORY_TABLE}"
ARCHIVE_INDEX = f"{SCHEMA}.{ARCHIVES_TABLE}"
BACKFILLS = f"{SCHEMA}.{BACKFILLS_TABLE}"

#: Schemas the runtime owns, whole.
BOOKKEEPING_SCHEMAS = (SCHEMA, ARCHIVE_SCHEMA)

#: Bookkeeping tables that live in any schema, beside the application's: Alembic's
#: version table (its default name), and a history table a project kept there itself.
BOOKKEEPING_TABLES = ("alembic_version", "migration_history")


def is_bookkeeping(schema: str | None, table: str | None = None) -> bool:
    """Whether ``schema`` (or ``schema.table``) is the runtime's or Alembic's, not the app's."""
    if schema is not None and schema.lower() in BOOKKEEPING_SCHEMAS:
        return True
    return table is not None and table.lower() in BOOKKEEPING_TABLES
