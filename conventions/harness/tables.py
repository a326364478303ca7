"""What the harness needs to know about each table to fill it and to read it back.

Read from ``pg_catalog`` at the current revision (never from the models, which
describe only the head), so rows can be written into the schema as it was at any
point in the history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from conventions.db import catalog, sqltext
from conventions.harness.snapshot import IGNORED, ignored


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # format_type(), e.g. "character varying(20)"
    nullable: bool
    has_default: bool
    automatic: bool  # identity, serial or generated: the database fills it
    choices: tuple[str, ...] = ()  # literals of a single-column CHECK, or a legacy ENUM's labels


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    target: str  # qualified table
    target_columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # primary key columns, empty when there is none
    foreign_keys: tuple[ForeignKey, ...] = field(default=())

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def sql_name(self) -> str:
        return sqltext.qualified(self.name, self.schema)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


_LITERAL = re.compile(r"'((?:[^']|'')*)'")


def read_tables(connection: Connection, *, ignore: tuple[str, ...] = IGNORED) -> dict[str, Table]:
    """Return every ordinary table outside the ignore list, keyed ``schema.table``."""
    columns: dict[str, list[list[Any]]] = {}
    for schema, table, *rest in catalog.every_column(connection):
        if not ignored(schema, table, ignore=ignore):
            columns.setdefault(f"{schema}.{table}", []).append(rest)
    keys: dict[str, tuple[str, ...]] = {}
    fks: dict[str, list[ForeignKey]] = {}
    choices: dict[tuple[str, str], tuple[str, ...]] = {}
    for schema, table, kind, cols, fschema, ftable, fcols, definition in catalog.every_constraint(
        connection
    ):
        qualified = f"{schema}.{table}"
        if kind == "p":
            keys[qualified] = tuple(cols)
        elif kind == "f":
            fks.setdefault(qualified, []).append(
                ForeignKey(tuple(cols), f"{fschema}.{ftable}", tuple(fcols))
            )
        elif kind == "c" and len(cols) == 1:
            literals = tuple(m.replace("''", "'") for m in _LITERAL.findall(definition))
            if literals:
                choices[(qualified, cols[0])] = literals
    tables = {}
    for qualified, rows in columns.items():
        schema, name = qualified.split(".", 1)
        tables[qualified] = Table(
            schema=schema,
            name=name,
            columns=tuple(
                Column(
                    str(col),
                    str(kind),
                    bool(nullable),
                    bool(default),
                    bool(auto),
                    choices.get((qualified, str(col)), ()) or tuple(labels),
                )
                for col, kind, nullable, default, auto, labels in rows
            ),
            key=keys.get(qualified, ()),
            foreign_keys=tuple(fks.get(qualified, ())),
        )
    return tables


def insertion_order(tables: dict[str, Table]) -> list[Table]:
    """Return tables parents first (foreign keys), so every row can reference one."""
    ordered: list[Table] = []
    placed: set[str] = set()
    pending = sorted(tables)
    while pending:
        ready = [
            name
            for name in pending
            if all(
                fk.target in placed or fk.target == name or fk.target not in tables
                for fk in tables[name].foreign_keys
            )
        ]
        if not ready:  # a cycle of foreign keys: break it in name order
            ready = [pending[0]]
        for name in ready:
            ordered.append(tables[name])
            placed.add(name)
        pending = [name for name in pending if name not in placed]
    return ordered
