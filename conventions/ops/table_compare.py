"""What an existing table lacks, or has otherwise, compared with a wanted definition.

The comparison behind ``create_or_sync_table`` and ``ensure_column``: the wanted
table is built as a temporary shadow so both sides are read from the catalog in
PostgreSQL's own words. Decide, then do: :func:`read_state` reads both sides,
:func:`plan_sync` (pure: catalog rows in, statements out) turns them into a plan —
statements to run, constraints to validate, rows to preflight — or the list of
differences that cannot be fixed safely; :func:`conventions.ops.table_sync.sync_table`
runs it. Nothing here changes the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.schema import (
    AddConstraint,
    CreateIndex,
    CreateTable,
    ForeignKeyConstraint,
)

from conventions import logs
from conventions.db import catalog, preflight
from conventions.db.sqltext import ident, literal, qualified
from conventions.errors import DefinitionConflict
from conventions.operations.constraint import AddForeignKeyOp
from conventions.ops.constraint_impl import foreign_key_rejects, foreign_key_state
from conventions.ops.runner import OpRunner, compile_text, object_name
from conventions.ops.shadow import retarget_index, shadow_of

_SERIAL = re.compile(r"^nextval\('.*'::regclass\)$")


@dataclass
class Plan:
    columns: list[Column[Any]] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)  # ADD CONSTRAINT statements
    validate: list[str] = field(default_factory=list)
    added: dict[str, preflight.Rejected] = field(default_factory=dict)  # ADDed NOT VALID here
    rejected: dict[str, preflight.Rejected] = field(default_factory=dict)  # to preflight
    indexes: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    wanted: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings: what is kept as it is

    def conflict(self, what: str, existing: str, wanted: str) -> None:
        self.existing.append(f"{what}: {existing}")
        self.wanted.append(f"{what}: {wanted}")


def _render(col: catalog.ColumnInfo) -> catalog.ColumnInfo:
    default = col.default
    if default is not None and _SERIAL.match(default):
        default = "nextval(<its sequence>)"
    return catalog.ColumnInfo(
        col.name, col.type, col.varchar_length, col.is_varchar, col.not_null, default, None
    )


def _value_on_existing_rows(col: catalog.ColumnInfo) -> str:
    """What ADD COLUMN gives the rows already there, as SQL (a serial's: unknown, NULL)."""
    if col.default is None or _SERIAL.match(col.default):
        return f"NULL::{col.type}"
    return f"({col.default})::{col.type}"


@dataclass(frozen=True)
class TableState:
    """What the catalog says about an existing table and the wanted one (its shadow).

    Read once by :func:`read_state`; everything :func:`plan_sync` decides comes from
    here, so the decision can be tested with hand-made catalog rows, no database.
    """

    have_columns: dict[str, catalog.ColumnInfo]
    want_columns: dict[str, catalog.ColumnInfo]
    have_constraints: dict[str, catalog.ConstraintInfo]
    want_constraints: dict[str, catalog.ConstraintInfo]
    have_indexes: dict[str, catalog.IndexInfo]
    want_indexes: dict[str, catalog.IndexInfo]
    check_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The columns each CHECK still to check reads (what a failed preflight shows)."""
    foreign_keys: dict[str, catalog.ConstraintInfo | DefinitionConflict | None] = field(
        default_factory=dict
    )
    """Each wanted foreign key's existing constraint: None, itself, or how it differs."""
    comments: dict[str | None, str | None] = field(default_factory=dict)
    """The current comment of the table (key None) and of each column the definition
    comments."""


def compare(
    run: OpRunner, table: Table, info: catalog.TableInfo, table_sql: str, *, partial: bool
) -> Plan:
    """Read the catalog, then decide: the plan to bring ``info`` up to ``table``."""
    plan = plan_sync(table, info, read_state(run, table, info, table_sql), partial=partial)
    for note in plan.notes:
        logs.warn(note)
    return plan


def read_state(run: OpRunner, table: Table, info: catalog.TableInfo, table_sql: str) -> TableState:
    """Read both sides from the catalog: the table as it is, and as ``table`` would create it."""
    conn = run.conn
    create_sql = compile_text(CreateTable(table, include_foreign_key_constraints=[]))
    index_sql = [compile_text(CreateIndex(ix)) for ix in table.indexes]
    have_constraints = catalog.constraints(conn, info.oid)
    with shadow_of(conn, table_sql, create_sql=create_sql) as shadow:
        for statement in index_sql:
            conn.exec_driver_sql(retarget_index(statement, table_sql, shadow).replace("%", "%%"))
        shadow_table = catalog.table(conn, shadow)
        assert shadow_table is not None
        want_constraints = catalog.constraints(conn, shadow_table.oid)
        state = TableState(
            have_columns=catalog.columns(conn, info.oid),
            want_columns=catalog.columns(conn, shadow_table.oid),
            have_constraints=have_constraints,
            want_constraints=want_constraints,
            have_indexes=catalog.indexes(conn, info.oid),
            want_indexes=catalog.indexes(conn, shadow_table.oid),
            check_columns={
                name: catalog.constraint_columns(conn, shadow_table.oid, name)
                for name, want in want_constraints.items()
                if want.kind == "c" and not getattr(have_constraints.get(name), "validated", False)
            },
        )
    for fk in table.foreign_key_constraints:
        name, op, add = _foreign_key_op(fk, info)
        try:
            wanted_sql = add.split(f"{ident(name)} ", 1)[1]
            state.foreign_keys[name] = foreign_key_state(run, op, name, info, wanted_sql)
        except DefinitionConflict as err:
            state.foreign_keys[name] = err
    state.comments[None] = catalog.comment(conn, info.oid) if table.comment is not None else None
    for column in table.columns:
        if column.comment is not None:
            state.comments[column.name] = catalog.comment(conn, info.oid, column.name)
    return state


def plan_sync(table: Table, info: catalog.TableInfo, state: TableState, *, partial: bool) -> Plan:
    """Decide what to add to ``info`` so it matches ``table``, from ``state`` alone.

    ``partial``: ``table`` lists only some columns (``ensure_column``), so columns the
    database has beyond it are not worth a word.
    """
    plan = Plan()
    for name, want_col in state.want_columns.items():
        have_col = state.have_columns.get(name)
        if have_col is None:
            plan.columns.append(table.c[name])
            plan.done.append(f"column {name}")
        elif _render(have_col) != _render(want_col):
            plan.conflict(f"column {name}", _render(have_col).render(), _render(want_col).render())
    for name in [] if partial else sorted(state.have_columns.keys() - state.want_columns.keys()):
        plan.notes.append(
            f"{info.name}.{name} exists in the database but not in this definition; kept"
        )
    # The table as the constraints will see it: the new columns hold their defaults.
    source = preflight.relation(
        info.name,
        schema=info.schema,
        added={c.name: _value_on_existing_rows(state.want_columns[c.name]) for c in plan.columns},
    )
    _constraints(table, info, state, plan, source)
    for fk in table.foreign_key_constraints:
        _foreign_key(fk, info, state, plan, source)
    for ix in table.indexes:
        name, sql = object_name(ix), compile_text(CreateIndex(ix))
        have_ix = state.have_indexes.get(name)
        want_ix = state.want_indexes[name]
        if have_ix is None:
            plan.indexes.append(sql)
            plan.done.append(f"index {name}")
        elif (have_ix.unique, have_ix.body) != (want_ix.unique, want_ix.body):
            plan.conflict(f"index {name}", have_ix.definition, sql)
    _comments(table, info, state, plan)
    return plan


def _constraints(
    table: Table, info: catalog.TableInfo, state: TableState, plan: Plan, source: str
) -> None:
    have_constraints = state.have_constraints
    by_definition = {(c.kind, c.definition): c.name for c in have_constraints.values()}
    constraint_objects = {object_name(c): c for c in table.constraints if c.name is not None}
    for name, want in state.want_constraints.items():
        have = have_constraints.get(name)
        if have is None:
            twin = by_definition.get((want.kind, want.definition))
            if twin is not None:
                plan.notes.append(
                    f"{info.name}: {want.definition} exists as {twin} (wanted name {name})"
                )
            elif want.kind == "p":
                current = next(
                    (c.render() for c in have_constraints.values() if c.kind == "p"), "none"
                )
                plan.conflict("primary key", current, want.definition)
            else:
                add = compile_text(AddConstraint(constraint_objects[name]))
                rejected = _check_rejects(info, name, want, source, state.check_columns)
                if want.kind == "c" and not info.created_in_transaction:
                    add += " NOT VALID"
                    plan.validate.append(name)
                    plan.added.update(rejected)
                plan.rejected.update(rejected)
                plan.constraints.append(add)
                plan.done.append(f"constraint {name}")
        elif (have.kind, have.definition) != (want.kind, want.definition):
            plan.conflict(f"constraint {name}", have.render(), want.definition)
        elif not have.validated:
            plan.validate.append(name)
            plan.rejected.update(_check_rejects(info, name, want, source, state.check_columns))


def _check_rejects(
    info: catalog.TableInfo,
    name: str,
    want: catalog.ConstraintInfo,
    source: str,
    columns: dict[str, tuple[str, ...]],
) -> dict[str, preflight.Rejected]:
    """The rows a CHECK being added or validated rejects (by name; empty for other kinds)."""
    if want.kind != "c":
        return {}  # UNIQUE / EXCLUDE: their index build reports duplicates itself
    condition = want.definition[len("CHECK (") : -1]
    rejected = preflight.Rejected(
        table=info.name,
        name=name,
        source=source,
        where=preflight.failing_check(condition),
        shown=columns.get(name, ()),
        why=f"fail {want.definition}",
    )
    return {name: rejected}


def _foreign_key_op(
    fk: ForeignKeyConstraint, info: catalog.TableInfo
) -> tuple[str, AddForeignKeyOp, str]:
    """The foreign key as ``op.add_foreign_key`` would take it, with its name and DDL."""
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
    return name, op, compile_text(AddConstraint(fk))


def _foreign_key(
    fk: ForeignKeyConstraint, info: catalog.TableInfo, state: TableState, plan: Plan, source: str
) -> None:
    name, op, add = _foreign_key_op(fk, info)
    existing = state.foreign_keys.get(name)
    if isinstance(existing, DefinitionConflict):
        plan.conflict(f"constraint {name}", existing.existing, existing.wanted)
        return
    rejected = foreign_key_rejects(op, name, source=source)
    if existing is None:
        lazy = not info.created_in_transaction
        plan.constraints.append(add + (" NOT VALID" if lazy else ""))
        plan.validate.extend([name] if lazy else [])
        plan.added.update({name: rejected} if lazy else {})
        plan.rejected[name] = rejected
        plan.done.append(f"constraint {name}")
    elif not existing.validated:
        plan.validate.append(name)
        plan.rejected[name] = rejected


def _comments(table: Table, info: catalog.TableInfo, state: TableState, plan: Plan) -> None:
    table_sql = qualified(table.name, table.schema)
    wanted: list[tuple[str, str | None, str | None]] = [("TABLE " + table_sql, None, table.comment)]
    wanted += [
        (f"COLUMN {table_sql}.{ident(c.name)}", c.name, c.comment)
        for c in table.columns
        if c.comment is not None
    ]
    for target, column, text in wanted:
        if text is None:
            continue
        current = state.comments.get(column)
        label = f"comment on {column or info.name}"
        if current is None:
            plan.comments.append(f"COMMENT ON {target} IS {literal(text)}")
            plan.done.append(label)
        elif current != text:
            plan.conflict(label, repr(current), repr(text))
