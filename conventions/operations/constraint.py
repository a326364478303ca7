"""Idempotent, online-safe constraints: ``op.add_check_constraint``, ``op.add_foreign_key``.

Shaped like Alembic's ``create_check_constraint`` / ``create_foreign_key`` (same
arguments, names run through the naming convention the same way, so ``op.f()`` works)
and named ``add_…`` like the other house ops, so a reader can tell at a glance which
calls converge when re-run and which are Alembic's plain DDL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alembic.operations import MigrateOperation, Operations
from alembic.operations.ops import DropConstraintOp
from alembic.operations.schemaobj import SchemaObjects
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, ForeignKeyConstraint

from conventions.errors import InvalidArgument
from conventions.operations.base import invoke


@Operations.register_operation("add_check_constraint")
class AddCheckConstraintOp(MigrateOperation):
    """Add a CHECK constraint: NOT VALID, then VALIDATE in its own transaction."""

    def __init__(
        self,
        constraint_name: str | None,
        table_name: str,
        condition: Any,
        *,
        schema: str | None = None,
    ) -> None:
        self.constraint_name = constraint_name
        self.table_name = table_name
        self.condition = condition
        self.schema = schema

    @classmethod
    def add_check_constraint(
        cls,
        operations: Operations,
        constraint_name: str | None,
        table_name: str,
        condition: Any,
        *,
        schema: str | None = None,
    ) -> None:
        """Add ``CHECK (condition)`` to an existing table without blocking it.

        ``condition`` is SQL text or a SQLAlchemy expression, as for Alembic's
        ``create_check_constraint`` (it is SQL by nature: it is not escaped; the names
        are quoted). Locks: ``ADD CONSTRAINT … NOT VALID`` takes ACCESS EXCLUSIVE for an
        instant (no scan); after a commit, ``VALIDATE CONSTRAINT`` scans under SHARE
        UPDATE EXCLUSIVE, so reads and writes continue. On a table created in this
        transaction the constraint is added validated at once. Same name and the same
        definition (as PostgreSQL normalises it): skipped with a warning, or only
        validated if left NOT VALID; another definition: DefinitionConflict. Rows the
        CHECK would reject (FALSE; NULL passes) are counted first, one scan under
        ACCESS SHARE: any is a ConstraintViolation with the count and samples, before
        any DDL.
        """
        return invoke(operations, cls(constraint_name, table_name, condition, schema=schema))

    def to_constraint(self, migration_context: MigrationContext | None = None) -> CheckConstraint:
        """The CHECK as SQLAlchemy builds it (naming convention applied), as Alembic's ops do."""
        return SchemaObjects(migration_context).check_constraint(
            self.constraint_name, self.table_name, self.condition, schema=self.schema
        )

    def reverse(self) -> DropConstraintOp:
        return DropConstraintOp(
            self.constraint_name, self.table_name, type_="check", schema=self.schema
        )


@Operations.register_operation("add_foreign_key")
class AddForeignKeyOp(MigrateOperation):
    """Add a FOREIGN KEY: NOT VALID, then VALIDATE in its own transaction."""

    def __init__(
        self,
        constraint_name: str | None,
        source_table: str,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        *,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        match: str | None = None,
        source_schema: str | None = None,
        referent_schema: str | None = None,
    ) -> None:
        if len(local_cols) != len(remote_cols) or not local_cols:
            raise InvalidArgument(
                "a foreign key needs as many local columns as remote ones (≥ 1)",
                operation="add_foreign_key",
            )
        self.constraint_name = constraint_name
        self.source_table = source_table
        self.referent_table = referent_table
        self.local_cols = list(local_cols)
        self.remote_cols = list(remote_cols)
        self.onupdate = onupdate
        self.ondelete = ondelete
        self.deferrable = deferrable
        self.initially = initially
        self.match = match
        self.source_schema = source_schema
        self.referent_schema = referent_schema

    @classmethod
    def add_foreign_key(
        cls,
        operations: Operations,
        constraint_name: str | None,
        source_table: str,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        *,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        match: str | None = None,
        source_schema: str | None = None,
        referent_schema: str | None = None,
    ) -> None:
        """Add a foreign key from ``source_table`` to ``referent_table`` without blocking either.

        Locks: ``ADD CONSTRAINT … NOT VALID`` takes SHARE ROW EXCLUSIVE on both tables
        for an instant (no scan; reads continue, writes wait only for that instant);
        after a commit, ``VALIDATE CONSTRAINT`` scans under SHARE UPDATE EXCLUSIVE on
        the source and ROW SHARE on the referent, so writes continue on both. Validated
        inline when the source table was created in this transaction. Compared by
        structure (columns, referent, actions, match, deferrability): identical is
        skipped with a warning, anything else is a DefinitionConflict. Rows whose key
        has no referenced row are counted first (an anti-join under ACCESS SHARE): any
        is a ConstraintViolation with the count and samples, before any DDL.
        """
        op = cls(
            constraint_name,
            source_table,
            referent_table,
            local_cols,
            remote_cols,
            onupdate=onupdate,
            ondelete=ondelete,
            deferrable=deferrable,
            initially=initially,
            match=match,
            source_schema=source_schema,
            referent_schema=referent_schema,
        )
        return invoke(operations, op)

    def to_constraint(
        self, migration_context: MigrationContext | None = None
    ) -> ForeignKeyConstraint:
        """The foreign key as SQLAlchemy builds it (naming convention applied)."""
        return SchemaObjects(migration_context).foreign_key_constraint(
            self.constraint_name,
            self.source_table,
            self.referent_table,
            self.local_cols,
            self.remote_cols,
            onupdate=self.onupdate,
            ondelete=self.ondelete,
            deferrable=self.deferrable,
            source_schema=self.source_schema,
            referent_schema=self.referent_schema,
            initially=self.initially,
            match=self.match,
        )

    def reverse(self) -> DropConstraintOp:
        return DropConstraintOp(
            self.constraint_name, self.source_table, type_="foreignkey", schema=self.source_schema
        )
