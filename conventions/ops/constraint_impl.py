"""How ``add_check_constraint`` and ``add_foreign_key`` run (their ``toimpl``).

Both follow one pattern: resolve the name the way Alembic would (naming convention,
length), look it up, decide identical / NOT VALID leftover / conflict / missing, and
only then emit ``ADD CONSTRAINT … NOT VALID`` plus a separate ``VALIDATE``.
"""

from __future__ import annotations

from collections.abc import Callable

from alembic.operations import Operations
from sqlalchemy.schema import AddConstraint, CheckConstraint, ForeignKeyConstraint

from conventions import logs
from conventions.db import catalog, preflight
from conventions.db.sqltext import ident, qualified
from conventions.errors import DefinitionConflict
from conventions.operations.constraint import AddCheckConstraintOp, AddForeignKeyOp
from conventions.ops.runner import OpRunner, compile_text, object_name
from conventions.ops.shadow import check_columns, normalised_check

_ACTIONS = {None: "a", "NO ACTION": "a", "RESTRICT": "r", "CASCADE": "c", "SET NULL": "n"}
_ACTIONS["SET DEFAULT"] = "d"
_MATCH = {None: "s", "SIMPLE": "s", "FULL": "f", "PARTIAL": "p"}


def _body(add_sql: str, name_sql: str) -> str:
    """``CHECK (…)`` / ``FOREIGN KEY … REFERENCES …`` out of an ADD CONSTRAINT statement."""
    return add_sql.split(f" ADD CONSTRAINT {name_sql} ", 1)[1]


def _conflict(
    name: str, table: catalog.TableInfo, existing: catalog.ConstraintInfo, wanted: str
) -> DefinitionConflict:
    return DefinitionConflict(
        f"Constraint {name} on {table.name} already exists with another definition.",
        name=name,
        existing=existing.render(),
        wanted=wanted,
    )


_State = Callable[[OpRunner, catalog.TableInfo, str, str], catalog.ConstraintInfo | None]
_Rejects = Callable[[OpRunner, str, str], preflight.Rejected]


def _add_constraint(
    operations: Operations,
    constraint: CheckConstraint | ForeignKeyConstraint,
    table_name: str,
    schema: str | None,
    state: _State,
    rejects: _Rejects,
) -> None:
    """Add ``constraint`` NOT VALID, then VALIDATE it, unless ``state`` finds it there.

    ``state(run, table, name, wanted_sql)`` returns the existing constraint when it is
    this very one, None when there is none, and raises DefinitionConflict otherwise.
    ``rejects(run, name, wanted_sql)`` says which rows the constraint rejects: any
    there are refused with their count before the first statement.
    """
    run = OpRunner(operations)
    name = object_name(constraint)
    table_sql = qualified(table_name, schema)
    add_sql = compile_text(AddConstraint(constraint))
    if run.offline:
        run.run(f"{add_sql} NOT VALID")
        run.validate(table_sql, [name])
        return
    table = run.require_table(table_name, schema)
    wanted_sql = _body(add_sql, ident(name))
    existing = state(run, table, name, wanted_sql)
    if existing is not None and existing.validated:
        logs.warn(f"Constraint {name} on {table.name} already exists, skipping")
        return
    rejected = rejects(run, name, wanted_sql)
    rejected.check(run.conn)  # before any DDL: count and show the offending rows
    if existing is not None:
        logs.warn(f"Constraint {name} on {table.name} exists but is NOT VALID; validating it")
        run.validate(table_sql, [name])
    elif table.created_in_transaction:
        run.run(add_sql)  # nobody else can see the table: validate in place
    else:
        run.run(f"{add_sql} NOT VALID")
        run.validate(table_sql, [name], added={name: rejected})


@Operations.implementation_for(AddCheckConstraintOp)
def add_check_constraint(operations: Operations, op: AddCheckConstraintOp) -> None:
    def state(
        run: OpRunner, table: catalog.TableInfo, name: str, wanted_sql: str
    ) -> catalog.ConstraintInfo | None:
        existing = catalog.constraint(run.conn, table.oid, name)
        if existing is not None:
            condition = wanted_sql[len("CHECK (") : -1]
            wanted = normalised_check(run.conn, qualified(op.table_name, op.schema), condition)
            if existing.kind != "c" or existing.definition != wanted:
                raise _conflict(name, table, existing, wanted)
        return existing

    def rejects(run: OpRunner, name: str, wanted_sql: str) -> preflight.Rejected:
        return check_rejects(run, op.table_name, op.schema, name, wanted_sql)

    constraint = op.to_constraint(operations.migration_context)
    _add_constraint(operations, constraint, op.table_name, op.schema, state, rejects)


def check_rejects(
    run: OpRunner, table_name: str, schema: str | None, name: str, check_sql: str
) -> preflight.Rejected:
    """The rows ``CHECK (…)`` (``check_sql``) rejects; its columns are what is shown."""
    condition = check_sql[len("CHECK (") : -1]
    return preflight.Rejected(
        table=table_name,
        name=name,
        source=preflight.relation(table_name, schema=schema),
        where=preflight.failing_check(condition),
        shown=check_columns(run.conn, qualified(table_name, schema), condition),
        why=f"fail CHECK ({condition})",
    )


def foreign_key_rejects(op: AddForeignKeyOp, name: str, *, source: str) -> preflight.Rejected:
    """The rows of ``op.source_table`` (as ``source`` SQL) whose key has no referenced row."""
    referent = qualified(op.referent_table, op.referent_schema)
    local, remote = ", ".join(op.local_cols), ", ".join(op.remote_cols)
    return preflight.Rejected(
        table=op.source_table,
        name=name,
        source=source,
        where=preflight.unreferenced(
            op.source_table,
            op.local_cols,
            referent,
            op.remote_cols,
            full_match=(op.match or "").upper() == "FULL",
        ),
        shown=tuple(op.local_cols),
        why=f"have a ({local}) that no row of {op.referent_table} has in ({remote})",
    )


def foreign_key_state(
    run: OpRunner, op: AddForeignKeyOp, name: str, table: catalog.TableInfo, wanted_sql: str
) -> catalog.ConstraintInfo | None:
    """Return the existing constraint if it is this very foreign key; raise if it differs."""
    existing = catalog.constraint(run.conn, table.oid, name)
    if existing is None:
        return None
    referent = run.require_table(op.referent_table, op.referent_schema)
    found = catalog.foreign_key(run.conn, table.oid, name)
    wanted = catalog.ForeignKeyInfo(
        columns=tuple(op.local_cols),
        referred_oid=referent.oid,
        referred_columns=tuple(op.remote_cols),
        on_update=_ACTIONS[op.onupdate.upper() if op.onupdate else None],
        on_delete=_ACTIONS[op.ondelete.upper() if op.ondelete else None],
        match=_MATCH[op.match.upper() if op.match else None],
        deferrable=bool(op.deferrable),
        initially_deferred=(op.initially or "").upper() == "DEFERRED",
    )
    if found != wanted:
        raise _conflict(name, table, existing, wanted_sql)
    return existing


@Operations.implementation_for(AddForeignKeyOp)
def add_foreign_key(operations: Operations, op: AddForeignKeyOp) -> None:
    def state(
        run: OpRunner, table: catalog.TableInfo, name: str, wanted_sql: str
    ) -> catalog.ConstraintInfo | None:
        run.require_table(op.referent_table, op.referent_schema)  # missing: a house error first
        return foreign_key_state(run, op, name, table, wanted_sql)

    def rejects(run: OpRunner, name: str, wanted_sql: str) -> preflight.Rejected:
        source = preflight.relation(op.source_table, schema=op.source_schema)
        return foreign_key_rejects(op, name, source=source)

    constraint = op.to_constraint(operations.migration_context)
    _add_constraint(operations, constraint, op.source_table, op.source_schema, state, rejects)
