"""Create-or-sync and ensure-column in ``--sql`` mode, where there is no catalog.

Offline the script may run against a database in any state, so what it prints must
be correct whether the table or column exists or not: ``IF NOT EXISTS`` forms for
what PostgreSQL supports them for, and the NOT VALID + VALIDATE pair for constraints
of a column being added to an existing table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.schema import (
    AddConstraint,
    CheckConstraint,
    CreateColumn,
    CreateIndex,
    CreateTable,
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
)

from conventions.db.sqltext import ident, literal, qualified
from conventions.ops.runner import OpRunner, compile_text, object_name


def sync_offline(run: OpRunner, table: Table) -> None:
    """Print create-or-sync as plain idempotent SQL: there is no catalog to compare with.

    ``CREATE TABLE IF NOT EXISTS`` for a missing table; ``ADD COLUMN IF NOT EXISTS``
    (one statement, one lock) for nullable or defaulted columns an existing table
    lacks; ``CREATE INDEX IF
    NOT EXISTS``. Constraints and definitions of an existing table are compared online.
    """
    table_sql = qualified(table.name, table.schema)
    run.context.impl.static_output(
        f"-- create_or_sync_table {table_sql}: offline, missing tables, columns and "
        "indexes are added; existing definitions are compared only online"
    )
    run.run(compile_text(CreateTable(table, if_not_exists=True)))
    # A NOT NULL column without a default cannot be added to an existing table that
    # has rows; online mode reports that as a conflict, offline we leave it out rather
    # than print a statement that can only fail (squawk: adding-required-field).
    specs = [
        compile_text(CreateColumn(c))
        for c in table.columns
        if not c.primary_key and (c.nullable or c.server_default is not None)
    ]
    if specs:
        adds = ",\n    ".join(f"ADD COLUMN IF NOT EXISTS {spec}" for spec in specs)
        run.run(f"ALTER TABLE {table_sql}\n    {adds}")
    for ix in sorted(table.indexes, key=object_name):
        run.run(compile_text(CreateIndex(ix, if_not_exists=True)))
    comments = [("TABLE " + table_sql, table.comment)] + [
        (f"COLUMN {table_sql}.{ident(c.name)}", c.comment) for c in table.columns
    ]
    for target, text in comments:
        if text is not None:
            run.run(f"COMMENT ON {target} IS {literal(text)}")


def add_offline(run: OpRunner, table: Table, column: Column[Any]) -> None:
    """Print what adding ``column`` to an existing table takes, the online-safe way."""
    table_sql = qualified(table.name, table.schema)
    run.operations.impl.add_column(table.name, column, schema=table.schema)
    validate = []
    for constraint in sorted(table.constraints, key=object_name):
        if isinstance(constraint, PrimaryKeyConstraint):
            continue
        add = compile_text(AddConstraint(constraint))
        if isinstance(constraint, CheckConstraint | ForeignKeyConstraint):
            add += " NOT VALID"
            validate.append(object_name(constraint))
        run.run(add)
    for ix in sorted(table.indexes, key=object_name):
        run.run(compile_text(CreateIndex(ix)))
    if column.comment is not None:
        run.run(f"COMMENT ON COLUMN {table_sql}.{ident(column.name)} IS {literal(column.comment)}")
    run.validate(table_sql, validate)
