"""``op.create_or_sync_table``: the seed's create-or-sync migration as one operation.

For tables that may already exist outside the migration system. Missing: created,
exactly like ``op.create_table``. Present: compared with the definition *as
PostgreSQL would create it* (the definition is built as a temporary shadow table and
both are read from the catalog, so ``VARCHAR(20)`` and ``character varying(20)``, or
two spellings of one CHECK, compare equal). What is missing is added, online-safely;
what differs and cannot be fixed safely (a column's type, nullability or default, a
constraint or index with the same name and another definition, a missing primary
key) is reported, all of it, as one DefinitionConflict — before any change.
"""

from __future__ import annotations

from alembic.operations import Operations
from alembic.operations.ops import CreateTableOp
from sqlalchemy import Table

from conventions import logs
from conventions.db import catalog, preflight
from conventions.db.sqltext import qualified
from conventions.errors import ConstraintViolation, DefinitionConflict
from conventions.operations.table import CreateOrSyncTableOp
from conventions.ops.runner import OpRunner
from conventions.ops.table_compare import compare
from conventions.ops.table_offline import sync_offline


@Operations.implementation_for(CreateOrSyncTableOp)
def create_or_sync_table(operations: Operations, op: CreateOrSyncTableOp) -> None:
    run = OpRunner(operations)
    info = None if run.offline else catalog.table(run.conn, op.table_name, schema=op.schema)
    if info is None and not run.offline:
        operations.invoke(CreateTableOp(op.table_name, op.columns, schema=op.schema, **op.kw))
        return
    # Built once: Index objects among the columns can belong to one Table only.
    table = operations.schema_obj.table(op.table_name, *op.columns, schema=op.schema, **op.kw)
    if info is None:
        sync_offline(run, table)
        return
    done = sync_table(run, table, info, partial=False)
    if done:
        logs.info(f"Table {info.name} already exists; synced: {', '.join(done)}")
    else:
        logs.warn(f"Table {info.name} already exists and matches, skipping")


def sync_table(run: OpRunner, table: Table, info: catalog.TableInfo, *, partial: bool) -> list[str]:
    """Add to the existing table what ``table`` has and it lacks; return what was added.

    ``partial``: ``table`` lists only some columns (``ensure_column``), so columns,
    constraints and a primary key the database has beyond it are not worth a word.
    Raises before any DDL if anything differs or a NOT NULL column cannot be added.
    """
    operations = run.operations
    table_sql = qualified(table.name, table.schema)
    plan = compare(run, table, info, table_sql, partial=partial)
    if plan.existing:
        raise DefinitionConflict(
            f"Table {info.name} exists but differs from this definition in ways that cannot "
            "be fixed safely.",
            name=info.name,
            unchanged=True,
            existing="\n    ".join(["", *plan.existing]),
            wanted="\n    ".join(["", *plan.wanted]),
        )
    not_null = [c for c in plan.columns if not c.nullable and c.server_default is None]
    if not_null and preflight.table_has_rows(run.conn, table.name, schema=table.schema):
        names = ", ".join(c.name for c in not_null)
        raise ConstraintViolation(
            f"Cannot add NOT NULL column(s) {names} without a default to {info.name}: it has "
            "rows, which would all be NULL.",
            table=info.name,
            unchanged=True,
            column=not_null[0].name,
            hints=["Give them a server_default, or add them nullable and fill them first."],
        )
    for rejected in plan.rejected.values():
        rejected.check(run.conn)  # existing rows against the constraints, before any DDL
    for col in plan.columns:
        operations.impl.add_column(table.name, col, schema=table.schema)
    for statement in plan.constraints + plan.indexes + plan.comments:
        run.run(statement)
    run.validate(table_sql, plan.validate, added=plan.added)
    return plan.done
