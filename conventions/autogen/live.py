"""A choice column as the database has it now: its VARCHAR length and its allowed set.

Alembic reflects CHECK constraints as text and compares them, when asked at all, by
name. Autogenerate needs the *set* a CHECK allows, so this reads the live definition
(``pg_get_constraintdef`` of ``ck_<table>_<column>``, via :mod:`conventions.db.catalog`)
and parses it with :mod:`conventions.db.check_parser`, which understands the
``= ANY (ARRAY[…])`` form PostgreSQL turns ``IN (…)`` into, quotes and escapes.

Reads are cached per autogenerate run: per table, one ``to_regclass`` and one query
for all its CHECKs; then one indexed catalog query per choice column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Connection

from conventions.choice import constraint_name
from conventions.db import catalog


@dataclass(frozen=True)
class LiveChoice:
    """One column of an existing table, and the house CHECK named after it (if any)."""

    table: str
    column: catalog.ColumnInfo
    constraint: catalog.ConstraintInfo | None

    @property
    def name(self) -> str:
        """The house constraint name, ``ck_<table>_<column>``."""
        return constraint_name(self.table, self.column.name)

    @property
    def values(self) -> tuple[str, ...] | None:
        """The allowed set, if ``ck_<table>_<column>`` is a value-set CHECK on this column."""
        if self.constraint is None:
            return None
        found = self.constraint.choice()
        if found is None or found.column != self.column.name:
            return None
        return found.values

    @property
    def condition(self) -> str | None:
        """The constraint's condition as PostgreSQL prints it (without ``CHECK (…)``)."""
        if self.constraint is None or self.constraint.kind != "c":
            return None
        text = self.constraint.definition
        if text.startswith("CHECK (") and text.endswith(")"):
            return text[len("CHECK (") : -1]
        return text

    @property
    def is_choice(self) -> bool:
        """VARCHAR plus a value-set ``ck_<table>_<column>``: what a ``Choice`` column creates."""
        return self.column.is_varchar and self.values is not None


@dataclass
class LiveTable:
    """Lazy, cached catalog reads for one table."""

    conn: Connection
    name: str
    schema: str | None
    info: catalog.TableInfo | None
    _checks: dict[str, catalog.ConstraintInfo] | None = None
    _columns: dict[str, LiveChoice | None] = field(default_factory=dict)

    def house_check(self, column: str) -> catalog.ConstraintInfo | None:
        """Return ``ck_<table>_<column>`` if the table has a CHECK of that name.

        All of the table's constraints are read in one query, so asking about every column
        (to notice a choice CHECK whose column the models no longer make a Choice)
        costs one round trip per table, not one per column.
        """
        if self._checks is None:
            found = catalog.constraints(self.conn, self.info.oid) if self.info else {}
            self._checks = {name: c for name, c in found.items() if c.kind == "c"}
        return self._checks.get(constraint_name(self.name, column))

    def column(self, name: str) -> LiveChoice | None:
        """Return the column and its house CHECK, or None if the table or column is missing."""
        if name not in self._columns:
            self._columns[name] = self._read(name)
        return self._columns[name]

    def _read(self, name: str) -> LiveChoice | None:
        if self.info is None:
            return None
        column = catalog.column(self.conn, self.info.oid, name)
        if column is None:
            return None
        return LiveChoice(table=self.name, column=column, constraint=self.house_check(name))


# One cache per AutogenContext: a new ``alembic check`` or revision sees a fresh catalog.
_CACHE: WeakKeyDictionary[Any, dict[tuple[str | None, str], LiveTable]] = WeakKeyDictionary()


def live_table(autogen_context: Any, table: str, schema: str | None) -> LiveTable:
    """Return the (cached) catalog view of ``table`` for this autogenerate run."""
    tables = _CACHE.setdefault(autogen_context, {})
    key = (schema, table)
    if key not in tables:
        conn: Connection = autogen_context.connection
        info = catalog.table(conn, table, schema=schema)
        tables[key] = LiveTable(conn=conn, name=table, schema=schema, info=info)
    return tables[key]
