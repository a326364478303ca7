"""``op.add_comment``: set the comment on a table or column, idempotently.

A comment is documentation the database keeps (the seed's "Adding a Comment"
pattern). Re-running with the same text is a no-op; replacing someone else's comment
silently would hide drift, so a different existing comment is a conflict unless the
migration names it as ``existing_comment`` (which also makes the op reversible).
"""

from __future__ import annotations

from alembic.operations import Operations

from conventions import logs
from conventions.db import catalog
from conventions.db.sqltext import ident, literal, qualified
from conventions.errors import DefinitionConflict
from conventions.operations.comment import AddCommentOp
from conventions.ops.runner import OpRunner


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
