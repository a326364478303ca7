"""How autogenerate writes the house choice ops (Alembic's ``render.py`` for them).

Each renderer writes the call a person would type, with every argument that fixes
the result spelled out: ``length=`` is always written, even when it equals today's
default, because a migration must mean the same thing after the default changes.
Values are Python literals (``repr``), so quotes, backslashes and unicode survive
exactly; the post-write hook (ruff format) then lays the call out in house style.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.autogenerate.render import _constraint_renderers

from conventions.autogen.tables import ChoiceConstraint
from conventions.operations.choice import (
    AddChoiceColumnOp,
    AlterChoicesOp,
    DropChoiceCheckOp,
    DropChoiceColumnOp,
)


def _prefix(autogen_context: AutogenContext) -> str:
    return autogen_context.opts.get("alembic_module_prefix") or "op."


def _values(values: Iterable[str]) -> str:
    return "[" + ", ".join(repr(v) for v in values) + "]"


def _call(autogen_context: AutogenContext, name: str, args: list[str], kw: dict[str, Any]) -> str:
    parts = args + [f"{key}={value}" for key, value in kw.items()]
    return f"{_prefix(autogen_context)}{name}({', '.join(parts)})"


@renderers.dispatch_for(AddChoiceColumnOp)
def _add_choice_column(autogen_context: AutogenContext, op: AddChoiceColumnOp) -> str:
    kw: dict[str, Any] = {"length": op.length}
    if not op.nullable:
        kw["nullable"] = False
    if op.server_default is not None:
        kw["server_default"] = repr(op.server_default)
    if op.comment is not None:
        kw["comment"] = repr(op.comment)
    if op.schema is not None:
        kw["schema"] = repr(op.schema)
    args = [repr(op.table_name), repr(op.column_name), _values(op.values)]
    return _call(autogen_context, "add_choice_column", args, kw)


# squawk (``make lint``) reads these as file-level opt-outs with their reason; each is
# true of what alter_choices emits, so only the hazards that are real stay flagged
# (a narrowing rewrites the table; a dropped column breaks readers).
SQUAWK_RENAME = (
    "# squawk-ignore-file: renaming-object  (alter_choices renames only its temporary CHECK)"
)
SQUAWK_WIDEN = "# squawk-ignore-file: changing-column-type  (widening a VARCHAR is metadata-only)"


@renderers.dispatch_for(AlterChoicesOp)
def _alter_choices(autogen_context: AutogenContext, op: AlterChoicesOp) -> list[str]:
    kw: dict[str, Any] = {}
    if op.length is not None:
        kw["length"] = op.length
    if op.existing_values is not None:
        kw["existing_values"] = _values(op.existing_values)
    if op.existing_length is not None:
        kw["existing_length"] = op.existing_length
    if op.schema is not None:
        kw["schema"] = repr(op.schema)
    args = [repr(op.table_name), repr(op.column_name), _values(op.values)]
    lines = [SQUAWK_RENAME]
    widening = op.existing_length is not None and (op.length or 0) > op.existing_length
    if widening:
        lines.append(SQUAWK_WIDEN)
    return [*lines, _call(autogen_context, "alter_choices", args, kw)]


@renderers.dispatch_for(DropChoiceColumnOp)
def _drop_choice_column(autogen_context: AutogenContext, op: DropChoiceColumnOp) -> str:
    kw: dict[str, Any] = {"schema": repr(op.schema)} if op.schema is not None else {}
    return _call(
        autogen_context, "drop_choice_column", [repr(op.table_name), repr(op.column_name)], kw
    )


@renderers.dispatch_for(DropChoiceCheckOp)
def _drop_choice_check(autogen_context: AutogenContext, op: DropChoiceCheckOp) -> list[str]:
    name = f"{_prefix(autogen_context)}f({str(op.constraint_name)!r})"
    kw: dict[str, Any] = {"type_": repr("check")}
    if op.schema is not None:
        kw["schema"] = repr(op.schema)
    lines = [_call(autogen_context, "drop_constraint", [name, repr(op.table_name)], kw)]
    if op.restore is not None:
        # A hand-written CHECK of the house name was swapped out by the upgrade.
        restore_kw = {"schema": repr(op.schema)} if op.schema is not None else {}
        lines.append(
            _call(
                autogen_context,
                "add_check_constraint",
                [name, repr(op.table_name), repr(op.restore)],
                restore_kw,
            )
        )
    return lines


# Alembic renders constraints inside create_table through this dispatcher, by type.
# It is private API (stable since Alembic 0.8, and the version is pinned); the
# public render_item hook would need every env.py to configure it, and
# tests/test_autogenerate_compare.py fails loudly if the dispatcher goes away.
@_constraint_renderers.dispatch_for(ChoiceConstraint)
def _choice_check(
    constraint: ChoiceConstraint, autogen_context: AutogenContext, namespace_metadata: Any
) -> str:
    sa = autogen_context.opts.get("sqlalchemy_module_prefix") or "sa."
    name = f"{_prefix(autogen_context)}f({str(constraint.name)!r})"
    expression = f"{sa}column({constraint.column_name!r}).in_({_values(constraint.values)})"
    return f"{sa}CheckConstraint({expression}, name={name})"
