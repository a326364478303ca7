"""``op.add_comment``: set the comment on a table or column, idempotently.

A comment is documentation the database keeps (the seed's "Adding a Comment"
pattern). Re-running with the same text is a no-op; replacing someone else's comment
silently would hide drift, so a different existing comment is a conflict unless the
migration names it as ``existing_comment`` (which also makes the op reversible).
"""

from __future__ import annotations

from alembic.operations import MigrateOperation, Operations

from conventions import logs
from conventions.db import catalog
from conventions.db.sqltext import ident, literal, qualified
from conventions.errors import DefinitionConflict
from conventions.ops.runner import OpRunner


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
        return operations.invoke(op)

    def reverse(self) -> AddCommentOp:
        return AddCommentOp(
            self.table_name,
            self.existing_comment,
            column_name=self.column_name,
            existing_comment=self.comment,
            schema=self.schema,
        )


@Operations.implementation_for(AddCommentOp)
def add_comment(operations: Operations, op: AddCommentOp) -> None:
    run = OpRunner(operations)
    table_sql = qualified(op.table_name, op.schema)
    target = f"TABLE {table_sql}"
    label = op.table_name
    if op.column_name is not None:
        target = f"COLUMN {table_sql}.{ident(op.column_name)}"
        label = f"{op.table_name}.{op.column_name}"
    value = "NULL" if op.comment is None else literal(op.comment)
    statement = f"COMMENT ON {target} IS {value}"
    if not run.offline:
        table = run.require_table(op.table_name, op.schema)
        if op.column_name is not None:
            run.require_column(table, op.column_name)
        current = catalog.comment(run.conn, table.oid, op.column_name)
        if current == op.comment:
            logs.warn(f"Comment on {label} is already set, skipping")
            return
        if current is not None and current != op.existing_comment:
            raise DefinitionConflict(
                f"{label} already has another comment.",
                name=label,
                existing=repr(current),
                wanted=repr(op.comment),
            )
    run.run(statement)
