"""``op.ensure_column``: Alembic's ``add_column``, idempotent (the seed's best practice #1).

For columns that are not choice columns (those have ``op.add_choice_column``). It is
the create-or-sync comparison applied to one column: the column, with whatever its
definition carries — ``ForeignKey``, ``unique=True``, ``index=True``, a ``Choice``
type's CHECK, a comment — is compared as PostgreSQL would create it.
"""

from __future__ import annotations

from typing import Any

from alembic.operations import Operations

from conventions import logs
from conventions.db import catalog
from conventions.operations.column import EnsureColumnOp
from conventions.ops.runner import OpRunner
from conventions.ops.table_offline import add_offline
from conventions.ops.table_sync import sync_table
from conventions.ops.volatile_column import add_with_volatile_default, volatile_default


def _sync_plain(run: OpRunner, table: Any, info: catalog.TableInfo) -> None:
    sync_table(run, table, info, partial=True)


@Operations.implementation_for(EnsureColumnOp)
def ensure_column(operations: Operations, op: EnsureColumnOp) -> None:
    run = OpRunner(operations)
    table = operations.schema_obj.table(op.table_name, op.column, schema=op.schema)
    expression = volatile_default(run, op.column)
    if run.offline:
        if expression is not None:
            add_with_volatile_default(run, table, None, table.c[op.column.name], expression, None)
            return
        add_offline(run, table, table.c[op.column.name])
        return
    info = run.require_table(op.table_name, op.schema)
    if expression is not None and not info.created_in_transaction:
        column = table.c[op.column.name]
        if add_with_volatile_default(run, table, info, column, expression, _sync_plain):
            return
    existed = catalog.column(run.conn, info.oid, op.column.name) is not None
    done = sync_table(run, table, info, partial=True)
    if existed and not done:
        logs.warn(f"Column {info.name}.{op.column.name} already exists, skipping")
    elif existed:
        logs.warn(f"Column {info.name}.{op.column.name} already exists; added {', '.join(done)}")
