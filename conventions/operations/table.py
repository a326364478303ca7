"""What ``op.create_or_sync_table`` is: a table to create or sync (run by ``ops.table_sync``)."""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation, Operations
from alembic.operations.ops import DropTableOp

from conventions.operations.base import invoke


@Operations.register_operation("create_or_sync_table")
class CreateOrSyncTableOp(MigrateOperation):
    """Create a table, or bring an existing one up to this definition."""

    def __init__(
        self, table_name: str, columns: list[Any], *, schema: str | None = None, **kw: Any
    ) -> None:
        self.table_name = table_name
        self.columns = list(columns)
        self.schema = schema
        self.kw = kw

    @classmethod
    def create_or_sync_table(
        cls,
        operations: Operations,
        table_name: str,
        *columns: Any,
        schema: str | None = None,
        **kw: Any,
    ) -> None:
        """Create ``table_name`` like ``op.create_table``, or sync it if it already exists.

        Missing table: ``CREATE TABLE`` with every constraint inline (a new table is
        invisible to other sessions until commit, so nothing is NOT VALID). Existing
        table, locks by what is added: columns ``ADD COLUMN`` (ACCESS EXCLUSIVE, an
        instant; NOT NULL without a default on a table with rows is refused first);
        CHECK and foreign keys ``NOT VALID`` then ``VALIDATE`` in a separate transaction
        (SHARE UPDATE EXCLUSIVE); UNIQUE constraints and indexes build their index
        holding SHARE (writes wait for the build — add big indexes separately with
        ``op.add_index(…, postgresql_concurrently=True)``); comments SHARE UPDATE
        EXCLUSIVE. Extra columns or constraints in the database are reported, not
        dropped. Existing rows a CHECK or foreign key to be added (or validated) would
        reject are counted first: any is a ConstraintViolation, before any DDL.
        Offline (``--sql``) there is nothing to compare with: it prints ``CREATE TABLE
        IF NOT EXISTS``, ``ADD COLUMN IF NOT EXISTS`` and ``CREATE INDEX IF NOT
        EXISTS``.
        """
        return invoke(operations, cls(table_name, list(columns), schema=schema, **kw))

    def reverse(self) -> DropTableOp:
        return DropTableOp(self.table_name, schema=self.schema)
