"""What ``op.set_not_null`` / ``op.drop_not_null`` are (run by :mod:`conventions.ops.not_null_ops`).

The two are one change seen from either side — a column's nullability, from one
value to the other — so they share one base: the arguments, the diff Alembic would
report (``modify_nullable``), the conversion from autogenerate's ``alter_column``
and ``reverse()`` (the other one). Only the classmethod Alembic exposes, with its
documentation, differs.
"""

from __future__ import annotations

from typing import Any, ClassVar

from alembic.operations import MigrateOperation, Operations
from alembic.operations.ops import AlterColumnOp

from conventions.operations.base import invoke


class NullabilityOp(MigrateOperation):
    """Change whether a column may hold NULL; the subclasses say which way."""

    nullable: ClassVar[bool]
    """What the column is after the op."""
    diff: Any = None
    """The diff of the ``alter_column`` autogenerate built the op from, if any."""

    def __init__(self, table_name: str, column_name: str, *, schema: str | None = None) -> None:
        self.table_name = table_name
        self.column_name = column_name
        self.schema = schema

    @classmethod
    def from_alter(cls, alter: AlterColumnOp, diffs: list[Any]) -> NullabilityOp:
        """The house op for the nullability part of an ``alter_column`` (autogenerate)."""
        kind: type[NullabilityOp] = DropNotNullOp if alter.modify_nullable else SetNotNullOp
        op = kind(alter.table_name, alter.column_name, schema=alter.schema)
        op.diff = [d for d in diffs if d[0] == "modify_nullable"]
        return op

    def to_diff_tuple(self) -> Any:
        """Alembic's diff for the change (kept from autogenerate's ``alter_column``)."""
        fallback: tuple[Any, ...] = (
            "modify_nullable",
            self.schema,
            self.table_name,
            self.column_name,
            {},
            not self.nullable,
            self.nullable,
        )
        return self.diff or fallback

    def reverse(self) -> NullabilityOp:
        kind: type[NullabilityOp] = SetNotNullOp if self.nullable else DropNotNullOp
        return kind(self.table_name, self.column_name, schema=self.schema)


@Operations.register_operation("set_not_null")
class SetNotNullOp(NullabilityOp):
    """Make a column NOT NULL through a validated CHECK, never scanning under ACCESS EXCLUSIVE."""

    nullable = False

    @classmethod
    def set_not_null(
        cls, operations: Operations, table_name: str, column_name: str, *, schema: str | None = None
    ) -> None:
        """Make ``column_name`` NOT NULL online; what ``alter_column(nullable=False)`` should be.

        Rows holding NULL are counted first (one scan under ACCESS SHARE): any is a
        ConstraintViolation with the count and sample primary keys, before any DDL.
        Then CHECK NOT VALID → VALIDATE (own transaction, SHARE UPDATE EXCLUSIVE) →
        SET NOT NULL (ACCESS EXCLUSIVE for an instant: PostgreSQL 12+ trusts the
        CHECK and skips the scan) → DROP the CHECK. The VALIDATE commits the work
        before it, like every house op that validates. Already NOT NULL: skipped with
        a warning; a leftover CHECK from an interrupted run is reused.
        """
        return invoke(operations, cls(table_name, column_name, schema=schema))


@Operations.register_operation("drop_not_null")
class DropNotNullOp(NullabilityOp):
    """Let a column hold NULL again (metadata only)."""

    nullable = True

    @classmethod
    def drop_not_null(
        cls, operations: Operations, table_name: str, column_name: str, *, schema: str | None = None
    ) -> None:
        """``ALTER COLUMN … DROP NOT NULL``: ACCESS EXCLUSIVE for an instant, no scan.

        Already nullable: skipped with a warning.
        """
        return invoke(operations, cls(table_name, column_name, schema=schema))
