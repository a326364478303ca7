"""``op.set_not_null`` / ``op.drop_not_null``: NOT NULL without a scan under ACCESS EXCLUSIVE.

``ALTER COLUMN … SET NOT NULL`` scans the whole table while holding ACCESS EXCLUSIVE
(every read and write waits). Since PostgreSQL 12 it skips the scan when a validated
CHECK constraint already proves ``column IS NOT NULL``, so the house way is:
``ADD CONSTRAINT … CHECK (column IS NOT NULL) NOT VALID`` (an instant), ``VALIDATE``
in its own transaction (a scan under SHARE UPDATE EXCLUSIVE: reads and writes go on),
``SET NOT NULL`` (an instant), and ``DROP CONSTRAINT`` (an instant). The op objects
are declared in :mod:`conventions.operations.not_null`; both implementations here
share what is the same either way (:func:`_alter`, :func:`_to_change`).
"""

from __future__ import annotations

from alembic.operations import Operations

from conventions import logs
from conventions.db import catalog, preflight
from conventions.db.sqltext import fit_name, ident, qualified
from conventions.errors import DefinitionConflict
from conventions.operations.not_null import DropNotNullOp, NullabilityOp, SetNotNullOp
from conventions.ops.runner import OpRunner, primary_key

NULL_HINTS = (
    "Fill those rows first: op.backfill(table, set={column: value}, where='column IS NULL') "
    "in this or an earlier migration,",
    "or give the column a server_default and backfill the existing rows.",
)


def not_null_check_name(table: str, column: str) -> str:
    """The temporary CHECK's name: deterministic, so a re-run finds a leftover."""
    return fit_name(f"ck_{table}_{column}_not_null")


def null_rows(run: OpRunner, table: catalog.TableInfo, column: str) -> preflight.Rejected:
    """The rows holding NULL in ``column``; their primary keys are the samples."""
    keys = tuple(k for k in primary_key(run.conn, table.oid) if k != column)
    return preflight.Rejected(
        table=table.name,
        name=not_null_check_name(table.name, column),
        source=preflight.relation(table.name, schema=table.schema),
        where=f"{ident(column)} IS NULL",
        shown=keys,
        why=f"hold NULL in {column}" + (f", by {', '.join(keys)}" if keys else ""),
        what=f"set {table.name}.{column} NOT NULL",
        hints=NULL_HINTS,
    )


def set_not_null_steps(run: OpRunner, table: catalog.TableInfo | None, op: SetNotNullOp) -> None:
    """Emit the four statements (offline: ``table`` is None), reusing a leftover CHECK."""
    table_sql = qualified(op.table_name, op.schema)
    column = ident(op.column_name)
    name = not_null_check_name(op.table_name, op.column_name)
    existing = catalog.constraint(run.conn, table.oid, name) if table is not None else None
    added: dict[str, preflight.Rejected] = {}
    if existing is not None and (existing.kind != "c" or "IS NOT NULL" not in existing.definition):
        raise DefinitionConflict(
            f"Constraint {name} on {op.table_name} exists and is not the NOT NULL check.",
            name=name,
            existing=existing.render(),
            wanted=f"CHECK ({column} IS NOT NULL)",
        )
    if existing is None:
        check = f"CHECK ({column} IS NOT NULL) NOT VALID"
        run.run(f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} {check}")
        if table is not None:
            added[name] = null_rows(run, table, op.column_name)
    if existing is None or not existing.validated:
        run.validate(table_sql, [name], added=added)
    run.run(_alter(op))
    run.run(f"ALTER TABLE {table_sql} DROP CONSTRAINT {ident(name)}")


def _alter(op: NullabilityOp) -> str:
    """``ALTER COLUMN … SET NOT NULL`` or ``… DROP NOT NULL``: what the op finally says."""
    action = "DROP NOT NULL" if op.nullable else "SET NOT NULL"
    table_sql = qualified(op.table_name, op.schema)
    return f"ALTER TABLE {table_sql} ALTER COLUMN {ident(op.column_name)} {action}"


def _to_change(run: OpRunner, op: NullabilityOp) -> catalog.TableInfo | None:
    """The table, if the column is not yet what ``op`` makes it; else warn and say None."""
    table = run.require_table(op.table_name, op.schema)
    if run.require_column(table, op.column_name).not_null == op.nullable:
        return table
    state = "nullable" if op.nullable else "NOT NULL"
    logs.warn(f"Column {table.name}.{op.column_name} is already {state}, skipping")
    return None


@Operations.implementation_for(SetNotNullOp)
def set_not_null(operations: Operations, op: SetNotNullOp) -> None:
    run = OpRunner(operations)
    if run.offline:
        set_not_null_steps(run, None, op)
        return
    table = _to_change(run, op)
    if table is None:
        return
    null_rows(run, table, op.column_name).check(run.conn)  # before any DDL
    if table.created_in_transaction:
        run.run(_alter(op))  # nobody else can see the table: the scan blocks no one
        return
    set_not_null_steps(run, table, op)
    logs.done(
        f"{table.name}.{op.column_name} is NOT NULL (validated under SHARE UPDATE EXCLUSIVE; "
        "the VALIDATE ran in its own transaction)"
    )


@Operations.implementation_for(DropNotNullOp)
def drop_not_null(operations: Operations, op: DropNotNullOp) -> None:
    run = OpRunner(operations)
    if run.offline or _to_change(run, op) is not None:
        run.run(_alter(op))
