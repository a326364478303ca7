"""Autogenerate comparators that see choice columns: registered on ``import conventions.autogen``.

Plain Alembic compares a ``Choice`` column as the VARCHAR it is and never looks at
what its CHECK allows. These comparators, registered in Alembic's global
``comparators`` registry (which every ``AutogenContext`` branches from, so
``alembic check``, ``alembic revision --autogenerate``, ``compare_metadata`` in
``make status`` and pytest-alembic's "models match" all use them):

- ``column``/``types`` (first, before Alembic's): a ``Choice`` column whose database
  column is already a house choice column is compared by :func:`_compare_choices`
  instead, so a length change is not also an ``alter_column``;
- ``table``/``choices``: for columns on both sides, compare the allowed *set* (order
  does not matter) and the length with the live catalog → ``op.alter_choices``; a
  VARCHAR lacking its CHECK → ``op.alter_choices`` that adds it; a house CHECK whose
  column is no longer a ``Choice`` → ``op.drop_constraint``;
- ``schema`` (last, after every table is compared): turn Alembic's ``add_column`` of a
  ``Choice`` into ``op.add_choice_column``, ``drop_column`` of a choice column into
  ``op.drop_choice_column``, and ``create_table`` into the house form
  (:mod:`conventions.autogen.tables`).

A CHECK that is not a house choice CHECK (another name, or not a value set) is left
alone, as Alembic leaves it.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import comparators
from alembic.autogenerate.api import AutogenContext
from alembic.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateTableOp,
    DropColumnOp,
    DropTableOp,
    ModifyTableOps,
    UpgradeOps,
)
from alembic.util import DispatchPriority, PriorityDispatchResult
from sqlalchemy import Column, String, Table

from conventions.autogen import safe_way
from conventions.autogen.live import LiveChoice, live_table
from conventions.autogen.tables import house_create_table, house_recreate_table
from conventions.choice import Choice
from conventions.db.catalog import parse_literal
from conventions.operations.choice import (
    AddChoiceColumnOp,
    AlterChoicesOp,
    DropChoiceCheckOp,
    DropChoiceColumnOp,
)

CONTINUE = PriorityDispatchResult.CONTINUE
STOP = PriorityDispatchResult.STOP


@comparators.dispatch_for(
    "column", subgroup="types", priority=DispatchPriority.FIRST, qualifier="postgresql"
)
def _choice_type(
    autogen_context: AutogenContext,
    alter_column_op: AlterColumnOp,
    schema: str | None,
    tname: str,
    cname: str,
    conn_col: Column[Any],
    metadata_col: Column[Any],
) -> PriorityDispatchResult:
    """Leave a ``Choice`` over an existing house choice column to the choices comparator."""
    if not isinstance(metadata_col.type, Choice):
        return CONTINUE
    live = live_table(autogen_context, tname, schema).column(cname)
    if live is None or not live.is_choice:
        return CONTINUE  # not yet a choice column: Alembic's type comparison applies
    alter_column_op.existing_type = conn_col.type
    return STOP


@comparators.dispatch_for("table", subgroup="choices", qualifier="postgresql")
def _compare_choices(
    autogen_context: AutogenContext,
    modify_table_ops: ModifyTableOps,
    schema: str | None,
    tname: str,
    conn_table: Table | None,
    metadata_table: Table | None,
) -> PriorityDispatchResult:
    """Compare allowed sets and lengths of the columns both sides have."""
    if conn_table is None or metadata_table is None:
        return CONTINUE
    live = live_table(autogen_context, tname, schema)
    named = {str(c.name) for c in metadata_table.constraints if c.name is not None}
    for column in metadata_table.c:
        if column.name not in conn_table.c:
            continue  # an added column: _house_ops turns it into add_choice_column
        if not isinstance(column.type, Choice) and live.house_check(column.name) is None:
            continue
        found = live.column(column.name)
        if found is None:
            continue
        if isinstance(column.type, Choice):
            _compare_choice_column(modify_table_ops, schema, tname, column, found)
        elif found.is_choice and found.name not in named:
            assert found.values is not None
            modify_table_ops.ops.append(
                DropChoiceCheckOp.from_live(schema, tname, column.name, found.values)
            )
    return CONTINUE


def _compare_choice_column(
    modify_table_ops: ModifyTableOps,
    schema: str | None,
    table: str,
    column: Column[Any],
    found: LiveChoice,
) -> None:
    choice = column.type
    assert isinstance(choice, Choice)
    if found.is_choice:
        assert found.values is not None
        old_length = found.column.varchar_length
        resize = old_length != choice.length
        if set(found.values) == set(choice.values) and not resize:
            return
        modify_table_ops.ops.append(
            AlterChoicesOp(
                table,
                column.name,
                choice.values,
                length=choice.length if resize else None,
                existing_values=found.values,
                existing_length=old_length if resize else None,
                schema=schema,
            )
        )
        return
    # Not a choice column yet (another type, or a VARCHAR without its CHECK): Alembic's
    # alter_column changes the type, written as String(n); the CHECK follows.
    at = len(modify_table_ops.ops)
    for index, op in enumerate(modify_table_ops.ops):
        if isinstance(op, AlterColumnOp) and op.column_name == column.name:
            if isinstance(op.modify_type, Choice):
                op.modify_type = String(choice.length)
            at = index + 1
    add = AlterChoicesOp.adding_check(
        schema, table, column.name, choice.values, replaces=found.condition
    )
    modify_table_ops.ops.insert(at, add)


@comparators.dispatch_for("schema", priority=DispatchPriority.LAST, qualifier="postgresql")
def _house_ops(
    autogen_context: AutogenContext, upgrade_ops: UpgradeOps, schemas: set[str | None]
) -> PriorityDispatchResult:
    """Rewrite what Alembic found for choice columns into the house ops."""
    for index, op in enumerate(upgrade_ops.ops):
        if isinstance(op, CreateTableOp):
            upgrade_ops.ops[index] = house_create_table(op)
        elif isinstance(op, DropTableOp) and op._reverse is not None:
            op._reverse = house_recreate_table(op._reverse)
        elif isinstance(op, ModifyTableOps):
            op.ops = [_house_column_op(autogen_context, item) for item in op.ops]
            safe_way.rewrite(op)
    return CONTINUE


def _house_column_op(autogen_context: AutogenContext, op: Any) -> Any:
    if isinstance(op, AddColumnOp) and isinstance(op.column.type, Choice):
        return AddChoiceColumnOp.from_column(op.schema, op.table_name, op.column)
    if isinstance(op, DropColumnOp) and type(op) is DropColumnOp:
        dropped = op.to_column()
        found = live_table(autogen_context, op.table_name, op.schema).column(op.column_name)
        if found is None or not found.is_choice or found.column.varchar_length is None:
            return op
        assert found.values is not None
        default = found.column.default
        value = parse_literal(default) if default is not None else None
        if (default is not None and value is None) or (
            value is not None and value not in found.values
        ):
            return op  # a default add_choice_column cannot recreate: keep Alembic's ops
        return DropChoiceColumnOp.from_live(
            op.schema,
            op.table_name,
            dropped,
            values=found.values,
            length=found.column.varchar_length,
            server_default=value,
        )
    return op
