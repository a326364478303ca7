"""What the harness needs to know about each table to fill it and to read it back.

Read from ``pg_catalog`` at the current revision (never from the models, which
describe only the head), so rows can be written into the schema as it was at any
point in the history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

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
        return f"{_quote(self.schema)}.{_quote(self.name)}"

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


_COLUMNS = """
SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       d.adbin IS NOT NULL,
       a.attidentity <> '' OR a.attgenerated <> ''
         OR coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false),
       ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = a.atttypid
             ORDER BY e.enumsortorder)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY n.nspname, c.relname, a.attnum
"""

_CONSTRAINTS = """
SELECT n.nspname, c.relname, con.contype,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, pos)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.pos),
       fn.nspname, f.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, pos)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
             ORDER BY k.pos),
       pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class f ON f.oid = con.confrelid LEFT JOIN pg_namespace fn ON fn.oid = f.relnamespace
WHERE con.contype IN ('p', 'f', 'c') AND c.relkind IN ('r', 'p')
"""

_LITERAL = re.compile(r"'((?:[^']|'')*)'")


def read_tables(connection: Connection, *, ignore: tuple[str, ...] = IGNORED) -> dict[str, Table]:
    """Return every ordinary table outside the ignore list, keyed ``schema.table``."""
    columns: dict[str, list[list[Any]]] = {}  # as the driver returns them
    for schema, table, *rest in connection.execute(text(_COLUMNS)):
        if not ignored(schema, table, ignore=ignore):
            columns.setdefault(f"{schema}.{table}", []).append(rest)
    keys: dict[str, tuple[str, ...]] = {}
    fks: dict[str, list[ForeignKey]] = {}
    choices: dict[tuple[str, str], tuple[str, ...]] = {}
    for schema, table, kind, cols, fschema, ftable, fcols, definition in connection.execute(
        text(_CONSTRAINTS)
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
