"""What ``op.change_column_type`` is (run by :mod:`conventions.ops.type_ops`)."""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation, Operations
from alembic.operations.ops import AlterColumnOp

from conventions.errors import Irreversible
from conventions.operations.base import invoke


@Operations.register_operation("change_column_type")
class ChangeColumnTypeOp(MigrateOperation):
    """Change a column's type without a rewrite under ACCESS EXCLUSIVE on a busy table."""

    diff: Any = None
    """The diff of the ``alter_column`` autogenerate built the op from, if any."""

    def __init__(
        self,
        table_name: str,
        column_name: str,
        type_: Any,
        *,
        using: str | None = None,
        existing_type: Any = None,
        schema: str | None = None,
    ) -> None:
        self.table_name = table_name
        self.column_name = column_name
        self.type_ = type_
        self.using = using
        self.existing_type = existing_type
        self.schema = schema

    @classmethod
    def change_column_type(
        cls,
        operations: Operations,
        table_name: str,
        column_name: str,
        type_: Any,
        *,
        using: str | None = None,
        existing_type: Any = None,
        schema: str | None = None,
    ) -> None:
        """Change ``column_name`` to ``type_``, saying which way it chose.

        In place (metadata only, ACCESS EXCLUSIVE for an instant) when PostgreSQL needs
        neither rewrite nor scan. Otherwise, on a table over ``threshold_rows`` rows,
        UnsafeTypeChange before any DDL, listing the expand/contract steps (new column,
        trigger, ``op.backfill``, swap). On a small or new table, a plain ``ALTER …
        TYPE [USING …]``; values that would not convert are counted first, with
        samples (PostgreSQL 16+: ``pg_input_is_valid``). Already that type: skipped
        with a warning. ``existing_type`` makes the op reversible.
        """
        op = cls(
            table_name,
            column_name,
            type_,
            using=using,
            existing_type=existing_type,
            schema=schema,
        )
        return invoke(operations, op)

    @classmethod
    def from_alter(cls, alter: AlterColumnOp, diffs: list[Any]) -> ChangeColumnTypeOp:
        """The house op for the type part of an ``alter_column`` (autogenerate)."""
        op = cls(
            alter.table_name,
            alter.column_name,
            alter.modify_type,
            existing_type=alter.existing_type,
            schema=alter.schema,
        )
        op.diff = [d for d in diffs if d[0] == "modify_type"]
        return op

    def to_diff_tuple(self) -> Any:
        """Alembic's diff for the change (kept from autogenerate's ``alter_column``)."""
        fallback: tuple[Any, ...] = (
            "modify_type", self.schema, self.table_name, self.column_name, {},
            self.existing_type, self.type_,
        )  # fmt: skip
        return self.diff or fallback

    def reverse(self) -> ChangeColumnTypeOp:
        if self.existing_type is None:
            raise Irreversible(
                "change_column_type needs existing_type= to be reversed.",
                operation="change_column_type",
            )
        return ChangeColumnTypeOp(
            self.table_name,
            self.column_name,
            self.existing_type,
            existing_type=self.type_,
            schema=self.schema,
        )
