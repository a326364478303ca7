"""How ``add_unique_constraint`` and ``add_primary_key`` run (their ``toimpl``)."""

from __future__ import annotations

from alembic.operations import Operations
from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.exc import IntegrityError

from conventions import logs
from conventions.db import catalog, preflight
from conventions.db.sqltext import ident, qualified
from conventions.errors import DefinitionConflict
from conventions.operations.not_null import SetNotNullOp
from conventions.operations.unique import AddPrimaryKeyOp, AddUniqueConstraintOp
from conventions.ops.not_null_ops import set_not_null_steps
from conventions.ops.runner import OpRunner, object_name

_UNIQUE_VIOLATION = "23505"


def constraint_name(operations: Operations, op: AddUniqueConstraintOp) -> str:
    """The final name, through the metadata's naming convention as Alembic would."""
    made: PrimaryKeyConstraint | UniqueConstraint
    if op.primary:
        made = operations.schema_obj.primary_key_constraint(
            op.constraint_name, op.table_name, op.columns, schema=op.schema
        )
    else:
        made = operations.schema_obj.unique_constraint(
            op.constraint_name, op.table_name, op.columns, schema=op.schema
        )
    return object_name(made)


def duplicates(
    op: AddUniqueConstraintOp, name: str, table: catalog.TableInfo
) -> preflight.Rejected:
    """Rows sharing their (non-NULL) key with another row: what the index build would hit."""
    table_sql = qualified(table.name, table.schema)
    cols = ", ".join(ident(c) for c in op.columns)
    present = " AND ".join(f"{ident(c)} IS NOT NULL" for c in op.columns)
    where = (
        f"({cols}) IN (SELECT {cols} FROM {table_sql} WHERE {present}"
        f" GROUP BY {cols} HAVING count(*) > 1)"
    )
    return preflight.Rejected(
        table=table.name,
        name=name,
        source=table_sql,
        where=where,
        shown=tuple(op.columns),
        why=f"share their ({', '.join(op.columns)}) with another row",
        hints=(
            "Remove or merge the duplicates first in a data migration,",
            "or make the constraint cover more columns.",
        ),
    )


def null_keys(op: AddUniqueConstraintOp, name: str, table: catalog.TableInfo) -> preflight.Rejected:
    return preflight.Rejected(
        table=table.name,
        name=name,
        source=qualified(table.name, table.schema),
        where=" OR ".join(f"{ident(c)} IS NULL" for c in op.columns),
        shown=tuple(op.columns),
        why=f"have a NULL in the key ({', '.join(op.columns)})",
    )


def _same(run: OpRunner, table: catalog.TableInfo, name: str, op: AddUniqueConstraintOp) -> bool:
    """True: the constraint exists as asked; False: absent; DefinitionConflict otherwise."""
    existing = catalog.constraint(run.conn, table.oid, name)
    if existing is None:
        return False
    kind = "p" if op.primary else "u"
    columns = catalog.constraint_columns(run.conn, table.oid, name)
    if existing.kind == kind and sorted(columns) == sorted(op.columns):
        return True
    raise DefinitionConflict(
        f"Constraint {name} on {table.name} already exists with another definition.",
        name=name,
        existing=existing.render(),
        wanted=f"{'PRIMARY KEY' if op.primary else 'UNIQUE'} ({', '.join(op.columns)})",
    )


def _build_index(
    run: OpRunner,
    table_sql: str,
    name: str,
    cols: str,
    rejected: preflight.Rejected,
    schema: str | None,
) -> None:
    """CREATE UNIQUE INDEX CONCURRENTLY, dropping the INVALID index a failed build leaves."""
    index_sql = qualified(name, schema)
    with run.own_transaction():
        try:
            run.run(f"CREATE UNIQUE INDEX CONCURRENTLY {ident(name)} ON {table_sql} ({cols})")
        except IntegrityError as err:
            if getattr(err.orig, "pgcode", None) != _UNIQUE_VIOLATION or run.offline:
                raise
            run.run(f"DROP INDEX CONCURRENTLY IF EXISTS {index_sql}")
            raise rejected.error(
                rejected.sample(run.conn),
                outcome="A writer added them during the build; the unfinished index was dropped.",
            ) from err


def _add(operations: Operations, op: AddUniqueConstraintOp) -> None:
    run = OpRunner(operations)
    name = constraint_name(operations, op)
    table_sql = qualified(op.table_name, op.schema)
    cols = ", ".join(ident(c) for c in op.columns)
    kind = "PRIMARY KEY" if op.primary else "UNIQUE"
    attach = (
        f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} {kind} USING INDEX {ident(name)}"
    )
    if run.offline:
        if op.primary:
            for column in op.columns:
                set_not_null_steps(run, None, SetNotNullOp(op.table_name, column, schema=op.schema))
        with run.own_transaction():
            run.run(f"CREATE UNIQUE INDEX CONCURRENTLY {ident(name)} ON {table_sql} ({cols})")
        run.run(attach)
        return
    table = run.require_table(op.table_name, op.schema)
    for column in op.columns:
        run.require_column(table, column)
    if _same(run, table, name, op):
        logs.warn(f"Constraint {name} on {table.name} already exists, skipping")
        return
    rejected = duplicates(op, name, table)
    rejected.check(run.conn)  # before any DDL
    if op.primary:
        null_keys(op, name, table).check(run.conn)
    if table.created_in_transaction:
        run.run(f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} {kind} ({cols})")
        return
    if op.primary:
        for column in op.columns:
            if not run.require_column(table, column).not_null:
                set_not_null_steps(
                    run, table, SetNotNullOp(op.table_name, column, schema=op.schema)
                )
    existing = catalog.index(run.conn, name, schema=op.schema or table.schema)
    if existing is not None and not existing.valid:
        logs.warn(f"Index {name} is INVALID (an interrupted concurrent build); rebuilding it")
        with run.own_transaction():
            run.run(f"DROP INDEX CONCURRENTLY {qualified(name, op.schema)}")
        existing = None
    if existing is not None:
        wanted = f"USING btree ({cols})"
        if existing.table_oid != table.oid or not existing.unique or existing.body != wanted:
            raise DefinitionConflict(
                f"Index {name} already exists and is not UNIQUE ({', '.join(op.columns)}).",
                name=name,
                existing=existing.definition,
                wanted=f"CREATE UNIQUE INDEX {name} ON {table.name} {wanted}",
            )
        logs.warn(f"Unique index {name} exists (an earlier, interrupted run); attaching it")
    else:
        _build_index(run, table_sql, name, cols, rejected, op.schema)
    run.run(attach)
    logs.done(f"{kind} {name} on {table.name} (index built CONCURRENTLY, then USING INDEX)")


@Operations.implementation_for(AddUniqueConstraintOp)
def add_unique_constraint(operations: Operations, op: AddUniqueConstraintOp) -> None:
    _add(operations, op)


@Operations.implementation_for(AddPrimaryKeyOp)
def add_primary_key(operations: Operations, op: AddPrimaryKeyOp) -> None:
    _add(operations, op)
