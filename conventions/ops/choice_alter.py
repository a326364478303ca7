"""How alter_choices runs: swap a choice column's CHECK without a moment unchecked.

Decide, then do. The online path reads the whole state first (:func:`read_state`: the
current constraint, a leftover ``ck_…_new`` from an interrupted run, the column's
length); :func:`plan_alter_choices` checks it (drift, data that would not fit) and
decides the steps from it alone, so a failed preflight changes nothing and a crash
between the steps converges when the migration runs again. Both plans are pure and
tested offline; :func:`conventions.ops.steps.execute` runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from alembic.operations import Operations
from sqlalchemy.engine import Connection

from conventions.choice import check_values, constraint_name
from conventions.db import catalog, preflight
from conventions.db.sqltext import fit_name, ident, qualified
from conventions.errors import DefinitionConflict
from conventions.operations.choice import AlterChoicesOp
from conventions.ops.choice_impl import check_sql, rejected, same_set
from conventions.ops.runner import OpRunner
from conventions.ops.steps import Check, Run, Step, Validate, Warn, execute


@dataclass(frozen=True)
class ChoiceState:
    """What the catalog says about the column whose allowed set changes."""

    table: catalog.TableInfo
    column: catalog.ColumnInfo
    old: catalog.ConstraintInfo | None
    """``ck_<table>_<column>``, if present."""
    new: catalog.ConstraintInfo | None
    """``ck_<table>_<column>_new``: a leftover of an interrupted run, if present."""


def _names(op: AlterChoicesOp) -> tuple[str, str, str]:
    """The table as SQL, the house CHECK's name, and its temporary replacement's."""
    name = constraint_name(op.table_name, op.column_name)
    return qualified(op.table_name, op.schema), name, fit_name(f"{name}_new")


@Operations.implementation_for(AlterChoicesOp)
def alter_choices(operations: Operations, op: AlterChoicesOp) -> None:
    run = OpRunner(operations)
    if run.offline:
        execute(run, offline_alter_choices(op))
        return
    execute(run, plan_alter_choices(op, read_state(run, op)))


def read_state(run: OpRunner, op: AlterChoicesOp) -> ChoiceState:
    """Read the table, the column and both CHECKs (raises if table or column is missing)."""
    _table_sql, name, temp = _names(op)
    table, column, old = run.require_table_with(
        op.table_name, op.schema, column=op.column_name, constraint=name
    )
    column = column or run.require_column(table, op.column_name)  # raises
    return ChoiceState(table, column, old, catalog.constraint(run.conn, table.oid, temp))


def offline_alter_choices(op: AlterChoicesOp) -> list[Step]:
    """What ``--sql`` prints: no catalog to read, so the steps for a validated CHECK."""
    table_sql, name, temp = _names(op)
    check = check_sql(op.column_name, op.values)
    if op.length is None:
        return [
            Run(f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(temp)} CHECK ({check}) NOT VALID"),
            Validate(table_sql, (temp,)),
            *_swap(table_sql, name, temp, drop_old=True),
        ]
    return [
        Run(f"ALTER TABLE {table_sql} DROP CONSTRAINT {ident(name)}"),
        _resize(table_sql, op.column_name, op.length),
        Run(f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} CHECK ({check}) NOT VALID"),
        Validate(table_sql, (name,)),
    ]


def _swap(table_sql: str, name: str, temp: str, *, drop_old: bool) -> list[Step]:
    drop = [Run(f"ALTER TABLE {table_sql} DROP CONSTRAINT {ident(name)}")] if drop_old else []
    return [*drop, Run(f"ALTER TABLE {table_sql} RENAME CONSTRAINT {ident(temp)} TO {ident(name)}")]


def _resize(table_sql: str, column: str, length: int) -> Run:
    return Run(f"ALTER TABLE {table_sql} ALTER COLUMN {ident(column)} TYPE VARCHAR({length})")


def plan_alter_choices(op: AlterChoicesOp, state: ChoiceState) -> list[Step]:
    """Decide the steps from the catalog state; raise DefinitionConflict on drift."""
    table_sql, name, temp = _names(op)
    table, column, old, new = state.table, state.column, state.old, state.new
    label = f"{table.name}.{op.column_name}"
    if not column.is_varchar:
        raise DefinitionConflict(
            f"Column {label} is not a VARCHAR; alter_choices changes choice columns.",
            name=label,
            existing=column.render(),
            wanted=f"{ident(op.column_name)} character varying(…) with a CHECK",
        )
    current = column.varchar_length
    target = op.length if op.length is not None else current
    if target is not None:
        check_values(op.values, column=label, length=target)
    resize = target != current
    old_choice = old.choice() if old is not None else None
    _check_drift(op, state, old_choice)
    values_check = Check.rows(rejected(table, op.column_name, op.values))

    if same_set(old_choice, op.column_name, op.values) and not resize:
        assert old is not None
        steps: list[Step] = []
        if new is not None:
            steps += [
                Warn(f"Dropping leftover constraint {temp} on {table.name}"),
                Run(f"ALTER TABLE {table_sql} DROP CONSTRAINT {ident(temp)}"),
            ]
        if old.validated:
            return [*steps, Warn(f"{label} already allows exactly these values, skipping")]
        return [*steps, values_check, Validate(table_sql, (name,))]

    # Preflight: nothing has been changed yet.
    steps = []
    narrowing = resize and target is not None and (current is None or target < current)
    if narrowing:
        assert target is not None
        steps.append(Check(f"no value longer than {target}", _fits(state, op, target)))
    only_added = (
        old is not None
        and old.validated
        and old_choice is not None
        and old_choice.column == op.column_name
        and set(old_choice.values) <= set(op.values)
    )
    if not only_added:
        steps.append(values_check)

    check = check_sql(op.column_name, op.values)
    in_place = table.created_in_transaction  # nobody else can see the table
    if not resize and not in_place:
        if new is None:
            add_new = f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(temp)} CHECK ({check})"
            steps.append(Run(f"{add_new} NOT VALID"))
        if new is None or not new.validated:
            # A writer can still slip a removed value in between the preflight and
            # the ADD; then VALIDATE fails after the commit, and the new CHECK is
            # dropped again (the old one never left) and the rows are counted.
            added = {temp: rejected(table, op.column_name, op.values, name=temp)}
            steps.append(Validate(table_sql, (temp,), added=added))
        return [*steps, *_swap(table_sql, name, temp, drop_old=old is not None)]
    # Type change: PostgreSQL re-checks every *validated* CHECK on a column whose
    # type changes, scanning under ACCESS EXCLUSIVE, and re-deparses it. So in one
    # transaction — atomic to every other session, never a visible moment without
    # a constraint — drop the old CHECK, change the type, add the new one NOT VALID
    # (parsed fresh against the new type); validate after the commit.
    for leftover, present in ((temp, new), (name, old)):
        if present is not None:
            steps.append(Run(f"ALTER TABLE {table_sql} DROP CONSTRAINT {ident(leftover)}"))
    if resize:
        assert target is not None
        if narrowing:
            steps.append(
                Warn(
                    f"Narrowing {label} to VARCHAR({target}) rewrites {table.name} "
                    "under ACCESS EXCLUSIVE"
                )
            )
        steps.append(_resize(table_sql, op.column_name, target))
    add = f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} CHECK ({check})"
    if in_place:
        return [*steps, Run(add)]
    return [*steps, Run(f"{add} NOT VALID"), Validate(table_sql, (name,))]


def _check_drift(
    op: AlterChoicesOp, state: ChoiceState, old_choice: catalog.ChoiceCheck | None
) -> None:
    _table_sql, name, temp = _names(op)
    table, old, new = state.table, state.old, state.new
    if old is not None and old.kind != "c":
        raise _conflict(op, f"{name} on {table.name} is not a CHECK constraint.", old, op.values)
    if new is not None and not same_set(new.choice(), op.column_name, op.values):
        raise _conflict(
            op,
            f"A leftover {temp} on {table.name} checks other values than wanted; "
            "it is not this migration's.",
            new,
            op.values,
        )
    if op.existing_values is None or old is None:
        return
    expected = (op.existing_values, op.values)
    if not any(same_set(old_choice, op.column_name, vs) for vs in expected):
        raise _conflict(
            op,
            f"{name} on {table.name} does not allow the values this migration "
            "expects to change from.",
            old,
            op.existing_values,
        )


def _conflict(
    op: AlterChoicesOp, message: str, found: catalog.ConstraintInfo, values: Sequence[str]
) -> DefinitionConflict:
    """``found`` (by its name) is not the CHECK allowing ``values`` that was wanted."""
    return DefinitionConflict(
        message,
        name=found.name,
        existing=found.render(),
        wanted=f"CHECK ({check_sql(op.column_name, values)})",
    )


def _fits(state: ChoiceState, op: AlterChoicesOp, target: int) -> Callable[[Connection], None]:
    """Refuse to narrow the column while rows hold longer values."""
    table, label = state.table, f"{state.table.name}.{op.column_name}"

    def test(conn: Connection) -> None:
        sample = preflight.rows_longer_than(
            conn, table.name, op.column_name, target, schema=table.schema
        )
        if sample.count:
            raise preflight.violation(
                table.name,
                op.column_name,
                sample,
                what=f"narrow {label} to VARCHAR({target})",
                why=f"hold values longer than {target} characters",
                hints=(
                    f"Keep the length (omit length=), or shorten those values to {target} "
                    "characters in a data migration first.",
                ),
            )

    return test
