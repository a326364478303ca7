"""What ``op.add_index`` is: an idempotent ``create_index`` (run by ``ops.index_ops``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alembic.operations import MigrateOperation, Operations
from alembic.operations.ops import DropIndexOp
from alembic.operations.schemaobj import SchemaObjects
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Index

from conventions.operations.base import invoke


@Operations.register_operation("add_index")
class AddIndexOp(MigrateOperation):
    """Create an index unless an identical one exists."""

    def __init__(
        self,
        index_name: str | None,
        table_name: str,
        columns: Sequence[Any],
        *,
        schema: str | None = None,
        unique: bool = False,
        **kw: Any,
    ) -> None:
        self.index_name = index_name
        self.table_name = table_name
        self.columns = list(columns)
        self.schema = schema
        self.unique = unique
        self.kw = kw

    @property
    def concurrently(self) -> bool:
        return bool(self.kw.get("postgresql_concurrently"))

    @classmethod
    def add_index(
        cls,
        operations: Operations,
        index_name: str | None,
        table_name: str,
        columns: Sequence[Any],
        *,
        schema: str | None = None,
        unique: bool = False,
        **kw: Any,
    ) -> None:
        """Create an index like ``op.create_index``, skipping an identical existing one.

        Locks: plain ``CREATE INDEX`` holds SHARE on the table for the whole build —
        reads continue, writes wait. With ``postgresql_concurrently=True`` it runs
        outside the migration's transaction as ``CREATE INDEX CONCURRENTLY`` (SHARE
        UPDATE EXCLUSIVE: writes continue; the build takes two scans). An interrupted
        concurrent build leaves an INVALID index behind; running again drops and
        rebuilds it. On a table created in this transaction the index is built plainly.
        Same name, same definition (as PostgreSQL prints it): skipped with a warning;
        a different one: DefinitionConflict.
        """
        op = cls(index_name, table_name, columns, schema=schema, unique=unique, **kw)
        return invoke(operations, op)

    def to_index(
        self, migration_context: MigrationContext | None = None, *, concurrently: bool
    ) -> Index:
        """The index as SQLAlchemy builds it, plain or ``CONCURRENTLY``."""
        kw = dict(self.kw)
        kw["postgresql_concurrently"] = concurrently
        return SchemaObjects(migration_context).index(
            self.index_name,
            self.table_name,
            self.columns,
            schema=self.schema,
            unique=self.unique,
            **kw,
        )

    def reverse(self) -> DropIndexOp:
        if self.index_name is None:
            raise NotImplementedError("add_index needs an index name to be reversed")
        # A plain DROP INDEX: it only unlinks files (ACCESS EXCLUSIVE for an instant),
        # and Alembic's drop_index cannot run CONCURRENTLY inside the migration's
        # transaction without an explicit autocommit block.
        return DropIndexOp(self.index_name, self.table_name, schema=self.schema)
