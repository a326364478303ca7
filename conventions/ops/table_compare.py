"""What an existing table lacks, or has otherwise, compared with a wanted definition.

The comparison behind ``create_or_sync_table`` and ``ensure_column``: the wanted
table is built as a temporary shadow so both sides are read from the catalog in
PostgreSQL's own words. The result is a plan — statements to run, constraints to
validate, rows to preflight — or the list of differences that cannot be fixed safely.
Reading only: nothing here changes the database.
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
from conventions.db.sqltext import ident, literal
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


def compare(
    run: OpRunner, table: Table, info: catalog.TableInfo, table_sql: str, *, partial: bool
) -> Plan:
    conn, plan = run.conn, Plan()
    create_sql = compile_text(CreateTable(table, include_foreign_key_constraints=[]))
    index_sql = {object_name(ix): compile_text(CreateIndex(ix)) for ix in table.indexes}
    have_cols = catalog.columns(conn, info.oid)
    have_cons = catalog.constraints(conn, info.oid)
    have_ixs = catalog.indexes(conn, info.oid)
    with shadow_of(conn, table_sql, create_sql=create_sql) as shadow:
        for statement in index_sql.values():
            conn.exec_driver_sql(retarget_index(statement, table_sql, shadow).replace("%", "%%"))
        shadow_oid = catalog.table(conn, shadow)
        assert shadow_oid is not None
        want_cols = catalog.columns(conn, shadow_oid.oid)
        want_cons = catalog.constraints(conn, shadow_oid.oid)
        want_ixs = catalog.indexes(conn, shadow_oid.oid)
        check_columns = {  # what a failed preflight shows: only for CHECKs still to check
            name: catalog.constraint_columns(conn, shadow_oid.oid, name)
            for name, want in want_cons.items()
            if want.kind == "c" and not getattr(have_cons.get(name), "validated", False)
        }

    for name, want in want_cols.items():
        have = have_cols.get(name)
        if have is None:
            plan.columns.append(table.c[name])
            plan.done.append(f"column {name}")
        elif _render(have) != _render(want):
            plan.conflict(f"column {name}", _render(have).render(), _render(want).render())
    for name in [] if partial else sorted(have_cols.keys() - want_cols.keys()):
        logs.warn(f"{info.name}.{name} exists in the database but not in this definition; kept")
    # The table as the constraints will see it: the new columns hold their defaults.
    source = preflight.relation(
        info.name,
        schema=info.schema,
        added={c.name: _value_on_existing_rows(want_cols[c.name]) for c in plan.columns},
    )

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
                rejected = _check_rejects(info, name, want, source, check_columns)
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
            plan.rejected.update(_check_rejects(info, name, want, source, check_columns))

    for fk in table.foreign_key_constraints:
        _foreign_key(run, fk, info, plan, source)

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


def _foreign_key(
    run: OpRunner, fk: ForeignKeyConstraint, info: catalog.TableInfo, plan: Plan, source: str
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


def _comments(
    run: OpRunner, table: Table, info: catalog.TableInfo, table_sql: str, plan: Plan
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
