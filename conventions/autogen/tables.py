"""``create_table`` the house way: choice columns as ``sa.String(n)`` with their CHECK inline.

Left alone, autogenerate would write ``conventions.choice.Choice([...])`` as the
column type of a new table, tying the migration to today's model code, and leave
the CHECK implicit. Here each ``Choice`` column becomes a plain ``String(length)``
and its CHECK an explicit ``sa.CheckConstraint(sa.column("col").in_([...]),
name=op.f("ck_…"))`` in the same ``create_table`` call: created with the table,
validated at once (nobody else can see the table yet), named as every later
migration expects.

The same applies to the ``create_table`` a ``drop_table`` downgrade writes from the
reflected table: a house CHECK is rewritten from PostgreSQL's
``(col)::text = ANY ((ARRAY[…])::text[])`` into the same form.
"""

from __future__ import annotations

from typing import Any

from alembic.operations.ops import CreateTableOp
from sqlalchemy import CheckConstraint, Column, String
from sqlalchemy import column as sa_column
from sqlalchemy.schema import DefaultClause
from sqlalchemy.sql.elements import conv

from conventions.choice import Choice, constraint_name
from conventions.db.check_parser import parse_choice_check


class ChoiceConstraint(CheckConstraint):
    """The CHECK of a choice column, kept as (column, values) so it renders as Python.

    Written as ``sa.CheckConstraint(sa.column("kind").in_([...]), name=op.f(...))``:
    SQLAlchemy quotes the values when it emits the DDL (no hand-escaped SQL string in
    the migration, no ``:name`` read as a bind parameter), and a long list of values
    wraps over lines where a SQL string could not (ruff's line length).
    """

    def __init__(self, table: str, column: str, values: tuple[str, ...]) -> None:
        self.choice_table = table
        self.column_name = column
        self.values = tuple(values)
        super().__init__(
            sa_column(column).in_(self.values), name=conv(constraint_name(table, column))
        )

    def _copy(self, **kw: Any) -> ChoiceConstraint:
        # Alembic copies constraints into each Table it builds (CheckConstraint._copy
        # would return the base class, and the Python rendering with it).
        return self._schema_item_copy(
            ChoiceConstraint(self.choice_table, self.column_name, self.values)
        )


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
    items.extend(ChoiceConstraint(op.table_name, name, c.values) for name, c in choices.items())
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
                items.append(ChoiceConstraint(op.table_name, found.column, found.values))
                changed = True
                continue
        items.append(item)
    return _rebuild(op, items) if changed else op
