"""One table as the database has it: the seed's "verify columns / indexes / constraints".

Read-only catalog queries (``pg_attribute``, ``pg_index``, ``pg_constraint``) rather
than ``information_schema``, because only the catalog gives exact definitions
(``pg_get_indexdef``, ``pg_get_constraintdef``) and whether a constraint is
validated or an index valid.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from conventions.db import catalog
from conventions.db.sqltext import qualified
from conventions.errors import RelationMissing

# PostgreSQL 18 lists NOT NULL as constraints ('n'); nullability is shown per column
# instead, so the output is the same on every supported version.
_KINDS = {"p": "PRIMARY KEY", "u": "UNIQUE", "f": "FOREIGN KEY", "c": "CHECK", "x": "EXCLUDE"}
_ORDER = list(_KINDS)


@dataclass(frozen=True)
class TableReport:
    """One table as ``inspect`` shows it, built from the catalog's own records.

    The columns, indexes and constraints are :mod:`conventions.db.catalog`'s dataclasses
    (one set for the house ops and the report); :meth:`as_json` picks the fields the
    report's JSON keys have always been.
    """

    name: str
    comment: str | None
    columns: list[catalog.ColumnInfo]
    indexes: list[catalog.IndexInfo]
    constraints: list[catalog.ConstraintInfo]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "comment": self.comment,
            "columns": [
                {
                    "name": c.name,
                    "type": c.type,
                    "nullable": c.nullable,
                    "default": c.shown_default,
                    "comment": c.comment,
                }
                for c in self.columns
            ],
            "indexes": [
                {"name": i.name, "definition": i.definition, "valid": i.valid} for i in self.indexes
            ],
            "constraints": [
                {
                    "name": c.name,
                    "kind": _KINDS[c.kind],
                    "definition": c.render(),
                    "validated": c.validated,
                }
                for c in self.constraints
            ],
        }


def inspect_table(connection: Connection, name: str) -> TableReport:
    """Describe table ``name`` (optionally schema-qualified); RelationMissing if absent."""
    found = catalog.resolve_table(connection, name)
    if found is None:
        raise _missing(connection, name)
    # Indexes and constraints in a stable order: indexes by name, constraints by kind
    # then name.
    indexes = sorted(catalog.indexes(connection, found.oid).values(), key=lambda i: i.name)
    constraints = sorted(
        (c for c in catalog.constraints(connection, found.oid).values() if c.kind in _KINDS),
        key=lambda c: (_ORDER.index(c.kind), c.name),
    )
    report = TableReport(
        qualified(found.name, found.schema),
        catalog.comment(connection, found.oid),
        list(catalog.columns(connection, found.oid).values()),
        indexes,
        constraints,
    )
    connection.rollback()
    return report


def _missing(connection: Connection, name: str) -> RelationMissing:
    names = sorted({table for _schema, table in catalog.table_names(connection)})
    connection.rollback()
    bare = name.rsplit(".", 1)[-1].strip('"')
    close = difflib.get_close_matches(bare.lower(), names, n=3, cutoff=0.6)
    hints = [f"Did you mean: {', '.join(close)}?"] if close else []
    hints += [
        "Names are case-sensitive when quoted: inspect '\"MyTable\"' for a mixed-case name.",
        "Not created yet? Check pending migrations: python -m conventions status",
    ]
    return RelationMissing(
        f"Table {name!r} does not exist in this database.", table=name, hints=hints
    )


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    columns = zip(*[headers, *rows], strict=True)
    widths = [max(len(str(cell)) for cell in column) for column in columns]
    out = []
    for row in [headers, *rows]:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)]
        out.append(("  " + "  ".join(cells)).rstrip())
    return out


def render(table: TableReport) -> str:
    """Return the report ``make inspect t=TABLE`` prints."""
    lines = [f"Table {table.name}" + (f" — {table.comment}" if table.comment else "")]
    lines.append(f"Columns ({len(table.columns)}):")
    lines += _table(
        ["name", "type", "null", "default", "comment"],
        [
            [
                c.name,
                c.type,
                "NULL" if c.nullable else "NOT NULL",
                c.shown_default or "",
                c.comment or "",
            ]
            for c in table.columns
        ],
    )
    lines.append(f"Indexes ({len(table.indexes)}):")
    lines += [
        f"  {i.name}: {i.definition}" + ("" if i.valid else "  -- INVALID") for i in table.indexes
    ]
    lines.append(f"Constraints ({len(table.constraints)}):")
    lines += [
        f"  {c.name} ({_KINDS[c.kind]}): {c.render()}" + ("" if c.validated else "  -- NOT VALID")
        for c in table.constraints
    ]
    return "\n".join(lines)
