"""``create_table`` the house way: choice columns as ``sa.String(n)`` with their CHECK inline.

Left alone, autogenerate would write ``conventions.choice.Choice([...])`` as the
column type of a new table, tying the migration to today's model code, and leave
the CHECK implicit. Here each ``Choice`` column becomes a plain ``String(length)``
and its CHECK an explicit ``sa.CheckConstraint("col IN (…)", name=op.f("ck_…"))``
in the same ``create_table`` call: created with the table, validated at once (nobody
else can see the table yet), named as every later migration expects.

The same applies to the ``create_table`` a ``drop_table`` downgrade writes from the
reflected table: a house CHECK is rewritten from PostgreSQL's
``(col)::text = ANY ((ARRAY[…])::text[])`` into the same readable ``IN (…)`` form.
"""

from __future__ import annotations

from typing import Any

from alembic.operations.ops import CreateTableOp
from sqlalchemy import CheckConstraint, Column, String
from sqlalchemy.schema import DefaultClause
from sqlalchemy.sql.elements import conv

from conventions.check_parser import parse_choice_check
from conventions.choice import Choice, constraint_name
from conventions.sqltext import ident


def _literal(value: str) -> str:
    """A SQL string literal that survives being written into ``sa.CheckConstraint("…")``.

    ``CheckConstraint`` turns its text into ``sa.text()``, which reads ``:name`` as a
    bind parameter (and ``\\:`` as an escaped colon) and, with psycopg2, doubles ``%``.
    So a value holding ``:``, ``%`` or a backslash is written as an ``E'…'`` literal
    with those characters as octal escapes: the text then holds none of them, and
    PostgreSQL reads back exactly the value.
    """
    body = value.replace("'", "''")
    if not any(ch in value for ch in ":%\\"):
        return f"'{body}'"
    body = body.replace("\\", "\\\\").replace(":", "\\072").replace("%", "\\045")
    return f"E'{body}'"


def check_text(column: str, values: tuple[str, ...]) -> str:
    """Return ``col IN ('a', 'b')`` for a choice column's CHECK, safe for ``sa.text()``."""
    name = ident(column)
    if ":" in name or "%" in name:
        raise ValueError(f"cannot write a CHECK for a column named {column!r}")
    return f"{name} IN ({', '.join(_literal(v) for v in values)})"


def house_check(table: str, column: str, values: tuple[str, ...]) -> CheckConstraint:
    """The explicit CHECK a ``Choice`` column stands for, under its final name."""
    return CheckConstraint(check_text(column, values), name=conv(constraint_name(table, column)))


def _plain_column(column: Column[Any]) -> Column[Any]:
    """A copy of a ``Choice`` column typed ``String(length)`` (no type-bound CHECK)."""
    choice = column.type
    assert isinstance(choice, Choice)
    default = column.server_default
    if isinstance(default, DefaultClause):
        default = DefaultClause(default.arg)
    return Column(
        column.name,
        String(choice.length),
        key=column.key,
        primary_key=column.primary_key,
        nullable=column.nullable,
        server_default=default,
        comment=column.comment,
        autoincrement=column.autoincrement,
    )


def _rebuild(op: CreateTableOp, items: list[Any]) -> CreateTableOp:
    return CreateTableOp(
        op.table_name,
        items,
        schema=op.schema,
        _namespace_metadata=op._namespace_metadata,
        _constraints_included=op._constraints_included,
        comment=op.comment,
        info=op.info,
        prefixes=op.prefixes,
        **op.kw,
    )


def house_create_table(op: CreateTableOp) -> CreateTableOp:
    """Return ``op`` with its ``Choice`` columns as ``String`` plus an explicit CHECK each."""
    choices = {
        item.name: item.type
        for item in op.columns
        if isinstance(item, Column) and isinstance(item.type, Choice)
    }
    if not choices:
        return op
    bound = {constraint_name(op.table_name, name) for name in choices}
    items: list[Any] = []
    for item in op.columns:
        if isinstance(item, Column) and item.name in choices:
            items.append(_plain_column(item))
        elif isinstance(item, CheckConstraint) and str(item.name) in bound:
            continue  # the type's own CHECK; replaced by the explicit one below
        else:
            items.append(item)
    items.extend(house_check(op.table_name, name, c.values) for name, c in choices.items())
    return _rebuild(op, items)


def house_recreate_table(op: CreateTableOp) -> CreateTableOp:
    """Rewrite the reflected house CHECKs of a ``create_table`` (a downgrade) as ``IN (…)``."""
    columns = {item.name for item in op.columns if isinstance(item, Column)}
    items: list[Any] = []
    changed = False
    for item in op.columns:
        if isinstance(item, CheckConstraint) and item.name is not None:
            found = parse_choice_check(str(item.sqltext))
            if (
                found is not None
                and found.column in columns
                and str(item.name) == constraint_name(op.table_name, found.column)
            ):
                items.append(house_check(op.table_name, found.column, found.values))
                changed = True
                continue
        items.append(item)
    return _rebuild(op, items) if changed else op
