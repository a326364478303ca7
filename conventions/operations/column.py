"""What ``op.ensure_column`` is: an idempotent ``add_column`` (run by ``ops.column_ops``)."""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation, Operations
from alembic.operations.ops import DropColumnOp
from sqlalchemy import Column

from conventions.operations.base import invoke


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
        return invoke(operations, cls(table_name, column, schema=schema))

    def reverse(self) -> DropColumnOp:
        return DropColumnOp.from_column_and_tablename(self.schema, self.table_name, self.column)
