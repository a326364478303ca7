"""Autogenerate writes the safe way for model changes on existing tables.

Alembic's comparators see a column become NOT NULL, change type, or gain a UNIQUE
constraint and write ``op.alter_column(...)`` / ``op.create_unique_constraint(...)``:
exactly the operations the safety check refuses on a busy table. Here, inside the
``ModifyTableOps`` of an existing table, they become the house ops that do them
online: ``op.set_not_null`` / ``op.drop_not_null``, ``op.change_column_type`` and
``op.add_unique_constraint``. What else an ``alter_column`` changes (default,
comment) stays an ``alter_column``. Columns the choice comparators handle (their
type change belongs with the CHECK) are left alone. Downgrades come from each op's
``reverse()``, as for every house op.
"""

from __future__ import annotations

from typing import Any

from alembic.operations.ops import AlterColumnOp, CreateUniqueConstraintOp, ModifyTableOps

from conventions.operations.choice import AlterChoicesOp, DropChoiceCheckOp
from conventions.operations.column_type import ChangeColumnTypeOp
from conventions.operations.not_null import NullabilityOp
from conventions.operations.unique import AddUniqueConstraintOp

_CHOICE_OPS = (DropChoiceCheckOp, AlterChoicesOp)


def _choice_columns(ops: list[Any]) -> set[str]:
    return {op.column_name for op in ops if isinstance(op, _CHOICE_OPS)}


def _split_alter(op: AlterColumnOp) -> list[Any]:
    """The house ops for an ``alter_column``, plus what is left of it (if anything)."""
    out: list[Any] = []
    diffs = op.to_diff_tuple()
    if op.modify_type is not None:
        out.append(ChangeColumnTypeOp.from_alter(op, diffs))
        op.modify_type = None
    if op.modify_nullable is not None:
        out.append(NullabilityOp.from_alter(op, diffs))
        op.modify_nullable = None
    if op.has_changes():
        out.insert(0, op)
    return out


def rewrite(table_ops: ModifyTableOps) -> None:
    """Replace the dangerous plain ops of one existing table by the house ops."""
    skip = _choice_columns(table_ops.ops)
    result: list[Any] = []
    for op in table_ops.ops:
        if isinstance(op, AlterColumnOp) and op.column_name not in skip:
            result.extend(_split_alter(op))
        elif isinstance(op, CreateUniqueConstraintOp):
            result.append(AddUniqueConstraintOp.from_create(op))
        else:
            result.append(op)
    table_ops.ops = result
