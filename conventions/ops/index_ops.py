"""``op.add_index``: an idempotent ``create_index``, optionally CONCURRENTLY.

How it runs; what it is (its arguments, ``to_index()``, ``reverse()``) is declared in
:mod:`conventions.operations.index`.
"""

from __future__ import annotations

from alembic.operations import Operations
from sqlalchemy.schema import CreateIndex

from conventions import logs
from conventions.db import catalog
from conventions.db.sqltext import qualified
from conventions.errors import DefinitionConflict
from conventions.operations.index import AddIndexOp
from conventions.ops.runner import OpRunner, compile_text, object_name
from conventions.ops.shadow import normalised_index


def _drop_invalid(run: OpRunner, name: str, schema: str | None, concurrently: bool) -> None:
    logs.warn(f"Index {name} is INVALID (an interrupted concurrent build); rebuilding it")
    if concurrently:
        with run.own_transaction():
            run.run(f"DROP INDEX CONCURRENTLY {qualified(name, schema)}")
    else:
        run.run(f"DROP INDEX {qualified(name, schema)}")


def _create(
    run: OpRunner, operations: Operations, op: AddIndexOp, plain_sql: str, *, concurrently: bool
) -> None:
    """Build the index; CONCURRENTLY cannot run inside a transaction, so outside the step's."""
    if concurrently:
        with run.own_transaction():
            index = op.to_index(operations.migration_context, concurrently=True)
            run.run(compile_text(CreateIndex(index)))
    else:
        run.run(plain_sql)


@Operations.implementation_for(AddIndexOp)
def add_index(operations: Operations, op: AddIndexOp) -> None:
    run = OpRunner(operations)
    plain = op.to_index(operations.migration_context, concurrently=False)
    name = object_name(plain)
    plain_sql = compile_text(CreateIndex(plain))
    if run.offline:
        _create(run, operations, op, plain_sql, concurrently=op.concurrently)
        return
    table = run.require_table(op.table_name, op.schema)
    concurrently = op.concurrently and not table.created_in_transaction
    existing = catalog.index(run.conn, name, schema=op.schema or table.schema)
    if existing is not None:
        table_sql = qualified(op.table_name, op.schema)
        wanted = normalised_index(run.conn, table_sql, plain_sql, table_sql)
        if existing.table_oid != table.oid or (existing.unique, existing.body) != (
            op.unique,
            wanted,
        ):
            raise DefinitionConflict(
                f"Index {name} already exists with another definition.",
                name=name,
                existing=existing.definition,
                wanted=plain_sql,
            )
        if existing.valid:
            logs.warn(f"Index {name} on {table.name} already exists, skipping")
            return
        _drop_invalid(run, name, op.schema, concurrently)
    _create(run, operations, op, plain_sql, concurrently=concurrently)
