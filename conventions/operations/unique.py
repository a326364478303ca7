"""``op.add_unique_constraint`` / ``op.add_primary_key``: the index first, CONCURRENTLY.

``ADD CONSTRAINT … UNIQUE`` / ``PRIMARY KEY`` builds its index while holding ACCESS
EXCLUSIVE. The house way builds a UNIQUE index ``CONCURRENTLY`` (SHARE UPDATE
EXCLUSIVE: reads and writes go on) outside the migration's transaction, then turns it
into the constraint with ``ADD CONSTRAINT … USING INDEX`` (ACCESS EXCLUSIVE for an
instant). How it runs: :mod:`conventions.ops.unique_impl`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alembic.operations import MigrateOperation, Operations
from alembic.operations.ops import CreateUniqueConstraintOp, DropConstraintOp

from conventions.errors import InvalidArgument
from conventions.operations.base import invoke


@Operations.register_operation("add_unique_constraint")
class AddUniqueConstraintOp(MigrateOperation):
    """Add a UNIQUE constraint from an index built CONCURRENTLY."""

    primary = False
    diff: Any = None
    """The diff of the ``create_unique_constraint`` autogenerate built the op from, if any."""

    def __init__(
        self,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
    ) -> None:
        if not columns:
            raise InvalidArgument(
                "a unique constraint needs at least one column", operation="add_unique_constraint"
            )
        self.constraint_name = constraint_name
        self.table_name = table_name
        self.columns = list(columns)
        self.schema = schema

    @classmethod
    def add_unique_constraint(
        cls,
        operations: Operations,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
    ) -> None:
        """Add ``UNIQUE (columns)`` to an existing table without blocking writes.

        Duplicates (rows sharing non-NULL values) are counted first with samples, one
        scan under ACCESS SHARE: any is a ConstraintViolation, before any DDL. Then
        ``CREATE UNIQUE INDEX CONCURRENTLY`` outside the migration's transaction (a
        duplicate written meanwhile fails the build: the INVALID index is dropped and
        the rows are counted), then ``ADD CONSTRAINT … UNIQUE USING INDEX``. An INVALID
        leftover index of that name is rebuilt; the same constraint is skipped with a
        warning; another definition is a DefinitionConflict. On a table created in
        this transaction the constraint is added directly.
        """
        return invoke(operations, cls(constraint_name, table_name, columns, schema=schema))

    @classmethod
    def from_create(cls, create: CreateUniqueConstraintOp) -> AddUniqueConstraintOp:
        """The house op for Alembic's ``create_unique_constraint`` (autogenerate)."""
        name = create.constraint_name
        columns = list(create.columns)
        op = cls(
            name if isinstance(name, str) else None,
            create.table_name,
            columns,
            schema=create.schema,
        )
        op.diff = create.to_diff_tuple()
        return op

    def to_diff_tuple(self) -> Any:
        """Alembic's diff (``add_constraint``), kept from autogenerate's op when there is one."""
        fallback = ("add_constraint", self.schema, self.table_name, self.constraint_name)
        return self.diff or fallback

    def reverse(self) -> DropConstraintOp:
        kind = "primary" if self.primary else "unique"
        return DropConstraintOp(
            self.constraint_name, self.table_name, type_=kind, schema=self.schema
        )


@Operations.register_operation("add_primary_key")
class AddPrimaryKeyOp(AddUniqueConstraintOp):
    """Add a PRIMARY KEY to an existing table: NOT NULL online, index CONCURRENTLY, USING INDEX."""

    primary = True

    @classmethod
    def add_primary_key(
        cls,
        operations: Operations,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
    ) -> None:
        """Add ``PRIMARY KEY (columns)`` without blocking writes for the build.

        As :meth:`AddUniqueConstraintOp.add_unique_constraint`, plus: rows with a NULL
        key are refused with a count first, and each nullable key column is made NOT
        NULL the online way (``op.set_not_null``) before the index is built, so the
        final ``ADD CONSTRAINT … PRIMARY KEY USING INDEX`` needs no scan.
        """
        return invoke(operations, cls(constraint_name, table_name, columns, schema=schema))
