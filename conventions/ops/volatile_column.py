"""``op.ensure_column`` with a volatile default on an existing table, without the rewrite.

``ADD COLUMN … DEFAULT gen_random_uuid()`` evaluates the default once per existing row,
so PostgreSQL rewrites the table under ACCESS EXCLUSIVE. The same result, online:
``ADD COLUMN`` without the default (an instant), ``SET DEFAULT`` (an instant: only new
rows get it), :mod:`op.backfill <conventions.runtime.backfill>` of the existing rows
(``WHERE column IS NULL``, batches outside the migration's transaction), then
``op.set_not_null``'s steps when the column is NOT NULL. Every step checks first, so a
re-run after a failure or a kill carries on where the last one stopped.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Table

from conventions import logs
from conventions.db import catalog
from conventions.db.sqltext import ident, qualified
from conventions.db.volatility import volatile_functions
from conventions.errors import ConventionsError
from conventions.operations.backfill import DEFAULT_BATCH as BATCH
from conventions.operations.backfill import DEFAULT_PAUSE as PAUSE
from conventions.operations.not_null import SetNotNullOp
from conventions.ops.not_null_ops import set_not_null_steps
from conventions.ops.runner import OpRunner, primary_key
from conventions.runtime import commits
from conventions.runtime.backfill import (
    Backfiller,
    BackfillPlan,
    KeyColumn,
    key_columns,
    offline_script,
)
from conventions.runtime.limits import Limits
from conventions.runtime.safety_checks import sql_of


def volatile_default(run: OpRunner, column: Column[Any]) -> str | None:
    """The default's SQL when it calls a volatile function, else None."""
    default = column.server_default
    if default is None or not hasattr(default, "arg"):
        return None
    expression = sql_of(default.arg)
    conn = None if run.offline else run.conn
    return expression if volatile_functions(conn, expression) else None


def _without_default(column: Column[Any]) -> Column[Any]:
    plain = column._copy()
    plain.server_default = None
    plain.nullable = True
    return plain


def add_with_volatile_default(
    run: OpRunner,
    table: Table,
    info: catalog.TableInfo | None,
    column: Column[Any],
    expression: str,
    sync: Any,
) -> bool:
    """Add ``column`` the online way; ``sync(run, table, info)`` adds a plain column.

    Return False when the column is already complete (then the caller compares it as
    for any other column: identical is skipped, different is a conflict).
    """
    table_sql = qualified(table.name, table.schema)
    name = ident(column.name)
    plan_args = (table.name, table.schema)
    assignment = f"{name} = {expression}"
    set_default = f"ALTER TABLE {table_sql} ALTER COLUMN {name} SET DEFAULT {expression}"
    if info is None:  # offline
        run.operations.impl.add_column(table.name, _without_default(column), schema=table.schema)
        run.run(set_default)
        offline_key = [KeyColumn("id", "")]
        plan = BackfillPlan(*plan_args, offline_key, [assignment], {}, f"{name} IS NULL", BATCH)
        with run.own_transaction():
            run.run(offline_script(plan, PAUSE))
        if column.nullable is False:
            set_not_null_steps(
                run, None, SetNotNullOp(table.name, column.name, schema=table.schema)
            )
        return True
    existing = catalog.column(run.conn, info.oid, column.name)
    if existing is not None and existing.default is not None:
        if column.nullable is not False or existing.not_null:
            return False  # complete
    if existing is None:
        plain = run.operations.schema_obj.table(
            table.name, _without_default(column), schema=table.schema
        )
        sync(run, plain, info)
        existing = catalog.column(run.conn, info.oid, column.name)
        assert existing is not None
    if existing.default is None:
        run.run(set_default)
    key = key_columns(run.conn, info.oid, primary_key(run.conn, info.oid))
    if not key:
        raise ConventionsError(
            f"Cannot add a column with a volatile default to {table.name} online: the table "
            "has no primary key to backfill in batches.",
            unchanged=True,
            hints=["Add a primary key first (op.add_primary_key), or use a constant default."],
        )
    plan = BackfillPlan(*plan_args, key, [assignment], {}, f"{name} IS NULL", BATCH)
    with run.own_transaction():
        commits.note(run.context, plan.statement())
        Backfiller(run.conn, plan, Limits.from_env(), PAUSE).run()
    if column.nullable is False and not existing.not_null:
        set_not_null_steps(run, info, SetNotNullOp(table.name, column.name, schema=table.schema))
    logs.done(
        f"{table.name}.{column.name} added with volatile default {expression} without a "
        "rewrite (default for new rows, existing rows backfilled in batches)"
    )
    return True
