"""How autogenerate writes the safe-way ops (:mod:`conventions.autogen.safe_way`).

Types and generated names are rendered by Alembic's own helpers (``_repr_type`` adds
the ``sa.`` import, ``_render_gen_name`` writes ``op.f('…')``), so a house call reads
exactly like the ``alter_column`` / ``create_unique_constraint`` it replaces.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.autogenerate.render import _render_gen_name, _repr_type

from conventions.autogen.render import _call
from conventions.operations.column_type import ChangeColumnTypeOp
from conventions.operations.not_null import DropNotNullOp, SetNotNullOp
from conventions.operations.unique import AddPrimaryKeyOp, AddUniqueConstraintOp


def _schema(kw: dict[str, Any], schema: str | None) -> dict[str, Any]:
    if schema is not None:
        kw["schema"] = repr(schema)
    return kw


@renderers.dispatch_for(SetNotNullOp)
def _set_not_null(autogen_context: AutogenContext, op: SetNotNullOp) -> str:
    args = [repr(op.table_name), repr(op.column_name)]
    return _call(autogen_context, "set_not_null", args, _schema({}, op.schema))


@renderers.dispatch_for(DropNotNullOp)
def _drop_not_null(autogen_context: AutogenContext, op: DropNotNullOp) -> str:
    args = [repr(op.table_name), repr(op.column_name)]
    return _call(autogen_context, "drop_not_null", args, _schema({}, op.schema))


@renderers.dispatch_for(ChangeColumnTypeOp)
def _change_column_type(autogen_context: AutogenContext, op: ChangeColumnTypeOp) -> str:
    args = [repr(op.table_name), repr(op.column_name), _repr_type(op.type_, autogen_context)]
    kw: dict[str, Any] = {}
    if op.using is not None:
        kw["using"] = repr(op.using)
    if op.existing_type is not None:
        kw["existing_type"] = _repr_type(op.existing_type, autogen_context)
    return _call(autogen_context, "change_column_type", args, _schema(kw, op.schema))


@renderers.dispatch_for(AddUniqueConstraintOp)
@renderers.dispatch_for(AddPrimaryKeyOp)
def _add_unique_constraint(autogen_context: AutogenContext, op: AddUniqueConstraintOp) -> str:
    name = _render_gen_name(autogen_context, op.constraint_name)
    args = [str(name), repr(op.table_name), repr(list(op.columns))]
    verb = "add_primary_key" if op.primary else "add_unique_constraint"
    return _call(autogen_context, verb, args, _schema({}, op.schema))
