"""``op.ensure_column``: Alembic's ``add_column``, idempotent (the seed's best practice #1).

For columns that are not choice columns (those have ``op.add_choice_column``). It is
the create-or-sync comparison applied to one column: the column, with whatever its
definition carries — ``ForeignKey``, ``unique=True``, ``index=True``, a ``Choice``
type's CHECK, a comment — is compared as PostgreSQL would create it.
"""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation, Operations
from alembic.operations.ops import DropColumnOp
from sqlalchemy import Column

from conventions import logs
from conventions.db import catalog
from conventions.ops.runner import OpRunner
from conventions.ops.table_offline import add_offline
from conventions.ops.table_sync import sync_table
from conventions.ops.volatile_column import add_with_volatile_default, volatile_default


def _sync_plain(run: OpRunner, table: Any, info: catalog.TableInfo) -> None:
    sync_table(run, table, info, partial=True)


@Operations.register_operation("ensure_column")
class EnsureColumnOp(MigrateOperation):
    """Add a column unless an identical one exists."""

    def __init__(self, table_name: str, column: Column[Any], *, schema: str | None = None) -> None:
        self.table_name = table_name
        self.column = column
        self.schema = schema

    @classmethod
    def ensure_column(
        cls,
        operations: Operations,
        table_name: str,
        column: Column[Any],
        *,
        schema: str | None = None,
    ) -> None:
        """Add ``column`` like ``op.add_column``; identical: skip with a warning; else conflict.

        Locks: ``ADD COLUMN`` takes ACCESS EXCLUSIVE for an instant (a constant default is
        metadata-only since PostgreSQL 11). A volatile default (``gen_random_uuid()``,
        ``random()``, ``clock_timestamp()``), which would rewrite the table, is done the
        online way on an existing table instead: ADD COLUMN without it, SET DEFAULT for new
        rows, ``op.backfill`` of the existing rows outside the migration's transaction, then
        ``op.set_not_null``'s steps if the column is NOT NULL
        (:mod:`conventions.ops.volatile_column`). A foreign key or CHECK the column carries
        is added NOT VALID and validated in a separate transaction (SHARE UPDATE EXCLUSIVE);
        ``unique=True`` / ``index=True`` build their index under SHARE (writes wait). NOT
        NULL without a default on a table with rows, and rows (with the new column's
        default) that its CHECK or foreign key would reject, are refused before any DDL, the
        latter with a count and samples. Offline (``--sql``) prints the same steps for an
        existing table.
        """
        return operations.invoke(cls(table_name, column, schema=schema))

    def reverse(self) -> DropColumnOp:
        return DropColumnOp.from_column_and_tablename(self.schema, self.table_name, self.column)


@Operations.implementation_for(EnsureColumnOp)
def ensure_column(operations: Operations, op: EnsureColumnOp) -> None:
    run = OpRunner(operations)
    table = operations.schema_obj.table(op.table_name, op.column, schema=op.schema)
    expression = volatile_default(run, op.column)
    if run.offline:
        if expression is not None:
            add_with_volatile_default(run, table, None, table.c[op.column.name], expression, None)
            return
        add_offline(run, table, table.c[op.column.name])
        return
    info = run.require_table(op.table_name, op.schema)
    if expression is not None and not info.created_in_transaction:
        column = table.c[op.column.name]
        if add_with_volatile_default(run, table, info, column, expression, _sync_plain):
            return
    existed = catalog.column(run.conn, info.oid, op.column.name) is not None
    done = sync_table(run, table, info, partial=True)
    if existed and not done:
        logs.warn(f"Column {info.name}.{op.column.name} already exists, skipping")
    elif existed:
        logs.warn(f"Column {info.name}.{op.column.name} already exists; added {', '.join(done)}")
