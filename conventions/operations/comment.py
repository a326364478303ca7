"""What ``op.add_comment`` is: a table's or column's comment (run by ``ops.comment_ops``)."""

from __future__ import annotations

from alembic.operations import MigrateOperation, Operations

from conventions.operations.base import invoke


@Operations.register_operation("add_comment")
class AddCommentOp(MigrateOperation):
    """Set (or with ``comment=None``, remove) a table's or a column's comment."""

    def __init__(
        self,
        table_name: str,
        comment: str | None,
        *,
        column_name: str | None = None,
        existing_comment: str | None = None,
        schema: str | None = None,
    ) -> None:
        self.table_name = table_name
        self.comment = comment
        self.column_name = column_name
        self.existing_comment = existing_comment
        self.schema = schema

    @classmethod
    def add_comment(
        cls,
        operations: Operations,
        table_name: str,
        comment: str | None,
        *,
        column_name: str | None = None,
        existing_comment: str | None = None,
        schema: str | None = None,
    ) -> None:
        """``COMMENT ON TABLE`` (or ``COLUMN`` with ``column_name=``) ``IS 'comment'``.

        Locks: SHARE UPDATE EXCLUSIVE on the table for an instant — reads and writes
        continue. Already this comment: skipped with a warning. No comment yet, or the
        ``existing_comment`` given: set. Any other comment: DefinitionConflict.
        """
        op = cls(
            table_name,
            comment,
            column_name=column_name,
            existing_comment=existing_comment,
            schema=schema,
        )
        return invoke(operations, op)

    def reverse(self) -> AddCommentOp:
        return AddCommentOp(
            self.table_name,
            self.existing_comment,
            column_name=self.column_name,
            existing_comment=self.comment,
            schema=self.schema,
        )
