"""``op.backfill``: change many rows without one huge transaction.

An ``UPDATE`` of a big table in the migration's transaction row-locks every row it
touches until the migration commits: writers to those rows queue, the table bloats,
replicas lag. ``op.backfill`` walks the primary key in batches, each batch its own
short transaction, and keeps its position in ``migration_meta.backfills`` so a killed
run resumes where it stopped. The batches themselves: :mod:`conventions.runtime.backfill`.
"""

from __future__ import annotations

from typing import Any

from alembic.operations import Operations

from conventions.errors import ConventionsError
from conventions.operations.backfill import BackfillOp
from conventions.ops.runner import OpRunner, primary_key
from conventions.runtime import commits
from conventions.runtime.backfill import (
    Backfiller,
    BackfillPlan,
    KeyColumn,
    key_columns,
    offline_script,
    values_sql,
)
from conventions.runtime.limits import Limits
from conventions.runtime.safety_checks import sql_of


def _where_sql(where: Any) -> str | None:
    if where is None:
        return None
    return where if isinstance(where, str) else sql_of(where)


@Operations.implementation_for(BackfillOp)
def backfill(operations: Operations, op: BackfillOp) -> None:
    run = OpRunner(operations)
    where = _where_sql(op.where)
    if run.offline:
        key = [KeyColumn(name, "") for name in (op.key or ["id"])]
        assignments, _ = values_sql(op.values, bind=False)
        plan = BackfillPlan(op.table_name, op.schema, key, assignments, {}, where, op.batch_size)
        with run.own_transaction():
            run.run(offline_script(plan, op.pause))
        return
    table = run.require_table(op.table_name, op.schema)
    for column in op.values:
        run.require_column(table, column)
    names = op.key or primary_key(run.conn, table.oid)
    if not names:
        raise ConventionsError(
            f"op.backfill on {table.name} needs a primary key to walk in batches; "
            "the table has none.",
            unchanged=True,
            hints=["Pass key=[...] naming unique, indexed column(s)."],
        )
    key = key_columns(run.conn, table.oid, names)
    assignments, params = values_sql(op.values, bind=True)
    plan = BackfillPlan(op.table_name, op.schema, key, assignments, params, where, op.batch_size)
    if table.created_in_transaction:
        # Nobody else sees the table yet: one statement in the migration's transaction.
        run.conn.exec_driver_sql(
            plan.statement().replace("%", "%%") if not params else plan.statement(), params
        )
        return
    with run.own_transaction():
        commits.note(run.context, plan.statement())  # the step's work so far is committed
        Backfiller(run.conn, plan, Limits.from_env(), op.pause).run()
