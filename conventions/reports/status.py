"""Where the database stands: the seed's "Checking migration status" questions, answered.

Read-only by construction: it reads the revision files, ``alembic_version``, the
history and the catalog, and never imports the runtime that changes the database
(``conventions.runtime.environment`` and friends) — like Django's ``showmigrations`` uses
the loader and recorder, never the executor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from conventions.db import catalog
from conventions.errors import ForeignKeyTargetMissing
from conventions.history import records
from conventions.history.records import HistoryRow
from conventions.history.schema import ARCHIVE_INDEX, BOOKKEEPING_SCHEMAS
from conventions.reports import drift

_SYSTEM = ("pg_catalog", "information_schema", "pg_toast", *BOOKKEEPING_SCHEMAS)


@dataclass(frozen=True)
class Revision:
    revision: str
    file: str
    applied: bool

    def as_json(self) -> dict[str, Any]:
        return {"revision": self.revision, "file": self.file, "applied": self.applied}


@dataclass
class Status:
    database: str
    current: list[str]
    heads: list[str]
    revisions: list[Revision]
    unknown: list[str] = field(default_factory=list)
    edited: list[tuple[str, str]] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    drift_note: str | None = None
    not_valid_constraints: list[str] = field(default_factory=list)
    invalid_indexes: list[str] = field(default_factory=list)
    enum_types: list[str] = field(default_factory=list)
    tables_without_primary_key: list[str] = field(default_factory=list)
    baseline_needed: list[str] = field(default_factory=list)
    archives: int = 0
    history: list[HistoryRow] = field(default_factory=list)

    @property
    def pending(self) -> list[Revision]:
        return [r for r in self.revisions if not r.applied]

    @property
    def at_head(self) -> bool:
        return bool(self.heads) and set(self.current) == set(self.heads) and not self.pending

    @property
    def ok(self) -> bool:
        """What ``--check`` demands: at head, no drift, no edited applied file.

        Drift that could not be checked (models failed to import) is not "no drift".
        """
        return (
            self.at_head
            and not self.drift
            and self.drift_note is None
            and not self.edited
            and not self.unknown
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "current": self.current,
            "heads": self.heads,
            "at_head": self.at_head,
            "ok": self.ok,
            "revisions": [r.as_json() for r in self.revisions],
            "applied": [r.revision for r in self.revisions if r.applied],
            "pending": [r.as_json() for r in self.pending],
            "unknown": self.unknown,
            "edited": [{"revision": rev, "file": name} for rev, name in self.edited],
            "drift": self.drift,
            "drift_note": self.drift_note,
            "not_valid_constraints": self.not_valid_constraints,
            "invalid_indexes": self.invalid_indexes,
            "enum_types": self.enum_types,
            "tables_without_primary_key": self.tables_without_primary_key,
            "baseline_needed": self.baseline_needed,
            "archives": self.archives,
            "history": [row.as_json() for row in self.history],
        }


def load_metadata(module_name: str) -> MetaData:
    """Return the MetaData a models module registers (``module`` or ``module:attr``).

    See :mod:`conventions.project.metadata`: a MetaData, a declarative base, a
    registry or a Flask-SQLAlchemy ``db`` all count.
    """
    from conventions.project.metadata import first, from_reference

    return first(from_reference(module_name))


def read_status(
    connection: Connection,
    script: ScriptDirectory,
    *,
    database: str,
    metadata: MetaData | None,
    history_limit: int = 10,
    options: dict[str, Any] | None = None,
) -> Status:
    """Gather everything ``status`` shows, in one read-only transaction."""
    context = MigrationContext.configure(connection)
    current = list(context.get_current_heads())
    ordered = list(reversed(list(script.walk_revisions())))
    known = {s.revision for s in ordered}
    unknown = [rev for rev in current if rev not in known]
    applied: set[str] = set()
    if current and not unknown:
        applied = {s.revision for s in script.iterate_revisions(tuple(current), "base")}
    status = Status(
        database=database,
        current=current,
        heads=list(script.get_heads()),
        revisions=[Revision(s.revision, _stem(s.path), s.revision in applied) for s in ordered],
        unknown=unknown,
    )
    if records.exists(connection):
        recorded = records.recorded_checksums(connection)
        pairs = [(s.revision, s.path) for s in ordered if s.revision in applied]
        status.edited = records.edited_files(pairs, recorded)
        status.history = records.recent(connection, history_limit)
        status.archives = int(
            connection.execute(text(f"SELECT count(*) FROM {ARCHIVE_INDEX}")).scalar() or 0
        )
    _catalog_checks(connection, status)
    if not current and not context._has_version_table():
        status.baseline_needed = untracked_tables(connection, metadata)
    if metadata is None:
        status.drift_note = "not checked: the models could not be loaded"
    elif not status.at_head:
        status.drift_note = "not checked: the database is not at head"
    else:
        try:
            status.drift = drift.differences(connection, metadata, options=options)
        except ForeignKeyTargetMissing as err:  # their models: say so, show the rest
            status.drift_note = f"not checked: {err}"
    connection.rollback()
    return status


def _stem(path: str | None) -> str:
    from pathlib import Path

    return Path(path).stem if path else "?"


def _catalog_checks(connection: Connection, status: Status) -> None:
    status.not_valid_constraints = [
        f"{table}.{name}"
        for table, name in catalog.not_valid_constraints(connection, excluded=_SYSTEM)
    ]
    status.invalid_indexes = [
        f"{index} on {table}"
        for index, table in catalog.invalid_indexes(connection, excluded=_SYSTEM)
    ]
    status.enum_types = [
        f"{name} ({', '.join(labels)})"
        for name, labels in catalog.enum_types(connection, excluded=_SYSTEM)
    ]
    status.tables_without_primary_key = catalog.tables_without_primary_key(
        connection, excluded=_SYSTEM
    )


def untracked_tables(connection: Connection, metadata: MetaData | None) -> list[str]:
    """Return the models' tables present in the database (asked when it has no version)."""
    if metadata is None:
        return []
    default = connection.execute(text("SELECT current_schema()")).scalar()
    present = set(catalog.table_names(connection, excluded=_SYSTEM))
    tables = metadata.tables.values()
    return sorted(t.name for t in tables if (t.schema or default, t.name) in present)
