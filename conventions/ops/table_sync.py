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

import re
from dataclasses import dataclass, field
from typing import Any

from alembic.operations import MigrateOperation, Operations
from alembic.operations.ops import CreateTableOp, DropTableOp
from sqlalchemy import Column, Table
from sqlalchemy.schema import (
    AddConstraint,
    CreateIndex,
    CreateTable,
    ForeignKeyConstraint,
)

from conventions import catalog, logs
from conventions.errors import ConstraintViolation, DefinitionConflict
from conventions.ops.constraint_impl import foreign_key_state
from conventions.ops.constraint_ops import AddForeignKeyOp
from conventions.ops.runner import OpRunner, compile_text, object_name
from conventions.ops.shadow import retarget_index, shadow_of
from conventions.ops.table_offline import sync_offline
from conventions.sqltext import ident, literal, qualified

_SERIAL = re.compile(r"^nextval\('.*'::regclass\)$")


@Operations.register_operation("create_or_sync_table")
class CreateOrSyncTableOp(MigrateOperation):
    """Create a table, or bring an existing one up to this definition."""

    def __init__(
        self, table_name: str, columns: list[Any], *, schema: str | None = None, **kw: Any
    ) -> None:
        self.table_name = table_name
        self.columns = list(columns)
        self.schema = schema
        self.kw = kw

    @classmethod
    def create_or_sync_table(
        cls,
        operations: Operations,
        table_name: str,
        *columns: Any,
        schema: str | None = None,
        **kw: Any,
    ) -> None:
        """Create ``table_name`` like ``op.create_table``, or sync it if it already exists.

        Missing table: ``CREATE TABLE`` with every constraint inline (a new table is
        invisible to other sessions until commit, so nothing is NOT VALID). Existing
        table, locks by what is added: columns ``ADD COLUMN`` (ACCESS EXCLUSIVE, an
        instant; NOT NULL without a default on a table with rows is refused first);
        CHECK and foreign keys ``NOT VALID`` then ``VALIDATE`` in a separate transaction
        (SHARE UPDATE EXCLUSIVE); UNIQUE constraints and indexes build their index
        holding SHARE (writes wait for the build — add big indexes separately with
        ``op.add_index(…, postgresql_concurrently=True)``); comments SHARE UPDATE
        EXCLUSIVE. Extra columns or constraints in the database are reported, not
        dropped. Offline (``--sql``) there is nothing to compare with: it prints
        ``CREATE TABLE IF NOT EXISTS``, ``ADD COLUMN IF NOT EXISTS`` and ``CREATE INDEX
        IF NOT EXISTS``.
        """
        return operations.invoke(cls(table_name, list(columns), schema=schema, **kw))

    def reverse(self) -> DropTableOp:
        return DropTableOp(self.table_name, schema=self.schema)


@dataclass
class _Plan:
    columns: list[Column[Any]] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)  # ADD CONSTRAINT statements
    validate: list[str] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    wanted: list[str] = field(default_factory=list)

    def conflict(self, what: str, existing: str, wanted: str) -> None:
        self.existing.append(f"{what}: {existing}")
        self.wanted.append(f"{what}: {wanted}")


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
    plan = _compare(run, table, info, table_sql, partial=partial)
    if plan.existing:
        raise DefinitionConflict(
            f"Table {info.name} exists but differs from this definition in ways that cannot "
            "be fixed safely; nothing was changed.",
            name=info.name,
            existing="\n    ".join(["", *plan.existing]),
            wanted="\n    ".join(["", *plan.wanted]),
        )
    not_null = [c for c in plan.columns if not c.nullable and c.server_default is None]
    if not_null and catalog.table_has_rows(run.conn, table.name, schema=table.schema):
        names = ", ".join(c.name for c in not_null)
        raise ConstraintViolation(
            f"Cannot add NOT NULL column(s) {names} without a default to {info.name}: it has "
            "rows, which would all be NULL. Nothing was changed.",
            table=info.name,
            column=not_null[0].name,
            hints=["Give them a server_default, or add them nullable and fill them first."],
        )
    for col in plan.columns:
        operations.impl.add_column(table.name, col, schema=table.schema)
    for statement in plan.constraints + plan.indexes + plan.comments:
        run.run(statement)
    run.validate(table_sql, plan.validate)
    return plan.done


def _render(col: catalog.ColumnInfo) -> catalog.ColumnInfo:
    default = col.default
    if default is not None and _SERIAL.match(default):
        default = "nextval(<its sequence>)"
    return catalog.ColumnInfo(
        col.name, col.type, col.varchar_length, col.is_varchar, col.not_null, default, None
    )


def _compare(
    run: OpRunner, table: Table, info: catalog.TableInfo, table_sql: str, *, partial: bool
) -> _Plan:
    conn, plan = run.conn, _Plan()
    create_sql = compile_text(CreateTable(table, include_foreign_key_constraints=[]))
    index_sql = {object_name(ix): compile_text(CreateIndex(ix)) for ix in table.indexes}
    with shadow_of(conn, table_sql, create_sql=create_sql) as shadow:
        for statement in index_sql.values():
            conn.exec_driver_sql(retarget_index(statement, table_sql, shadow).replace("%", "%%"))
        shadow_oid = catalog.table(conn, shadow)
        assert shadow_oid is not None
        want_cols = catalog.columns(conn, shadow_oid.oid)
        want_cons = catalog.constraints(conn, shadow_oid.oid)
        want_ixs = catalog.indexes(conn, shadow_oid.oid)
    have_cols = catalog.columns(conn, info.oid)
    have_cons = catalog.constraints(conn, info.oid)
    have_ixs = catalog.indexes(conn, info.oid)

    for name, want in want_cols.items():
        have = have_cols.get(name)
        if have is None:
            plan.columns.append(table.c[name])
            plan.done.append(f"column {name}")
        elif _render(have) != _render(want):
            plan.conflict(f"column {name}", _render(have).render(), _render(want).render())
    for name in [] if partial else sorted(have_cols.keys() - want_cols.keys()):
        logs.warn(f"{info.name}.{name} exists in the database but not in this definition; kept")

    by_definition = {(c.kind, c.definition): c.name for c in have_cons.values()}
    constraint_objects = {object_name(c): c for c in table.constraints if c.name is not None}
    for name, want in want_cons.items():
        have = have_cons.get(name)
        if have is None:
            twin = by_definition.get((want.kind, want.definition))
            if twin is not None:
                logs.warn(f"{info.name}: {want.definition} exists as {twin} (wanted name {name})")
            elif want.kind == "p":
                current = next((c.render() for c in have_cons.values() if c.kind == "p"), "none")
                plan.conflict("primary key", current, want.definition)
            else:
                add = compile_text(AddConstraint(constraint_objects[name]))
                if want.kind == "c" and not info.created_in_transaction:
                    add += " NOT VALID"
                    plan.validate.append(name)
                plan.constraints.append(add)
                plan.done.append(f"constraint {name}")
        elif (have.kind, have.definition) != (want.kind, want.definition):
            plan.conflict(f"constraint {name}", have.render(), want.definition)
        elif not have.validated:
            plan.validate.append(name)

    for fk in table.foreign_key_constraints:
        _foreign_key(run, fk, info, plan)

    for name, sql in index_sql.items():
        have_ix = have_ixs.get(name)
        want_ix = want_ixs[name]
        if have_ix is None:
            plan.indexes.append(sql)
            plan.done.append(f"index {name}")
        elif (have_ix.unique, have_ix.body) != (want_ix.unique, want_ix.body):
            plan.conflict(f"index {name}", have_ix.definition, sql)

    _comments(run, table, info, table_sql, plan)
    return plan


def _foreign_key(
    run: OpRunner, fk: ForeignKeyConstraint, info: catalog.TableInfo, plan: _Plan
) -> None:
    name = object_name(fk)
    referred = fk.elements[0].column.table
    op = AddForeignKeyOp(
        name,
        info.name,
        referred.name,
        [c.name for c in fk.columns],
        [e.column.name for e in fk.elements],
        onupdate=fk.onupdate,
        ondelete=fk.ondelete,
        deferrable=fk.deferrable,
        initially=fk.initially,
        match=fk.match,
        source_schema=info.schema if fk.table.schema else None,
        referent_schema=referred.schema,
    )
    add = compile_text(AddConstraint(fk))
    try:
        existing = foreign_key_state(run, op, name, info, add.split(f"{ident(name)} ", 1)[1])
    except DefinitionConflict as err:
        plan.conflict(f"constraint {name}", err.existing, err.wanted)
        return
    if existing is None:
        lazy = not info.created_in_transaction
        plan.constraints.append(add + (" NOT VALID" if lazy else ""))
        plan.validate.extend([name] if lazy else [])
        plan.done.append(f"constraint {name}")
    elif not existing.validated:
        plan.validate.append(name)


def _comments(
    run: OpRunner, table: Table, info: catalog.TableInfo, table_sql: str, plan: _Plan
) -> None:
    wanted: list[tuple[str, str | None, str]] = [("TABLE " + table_sql, None, table.comment)]
    wanted += [
        (f"COLUMN {table_sql}.{ident(c.name)}", c.name, c.comment)
        for c in table.columns
        if c.comment is not None
    ]
    for target, column, text in wanted:
        if text is None:
            continue
        current = catalog.comment(run.conn, info.oid, column)
        label = f"comment on {column or info.name}"
        if current is None:
            plan.comments.append(f"COMMENT ON {target} IS {literal(text)}")
            plan.done.append(label)
        elif current != text:
            plan.conflict(label, repr(current), repr(text))
