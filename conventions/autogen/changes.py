"""The house choice ops as autogenerate finds them: the same ops, able to report themselves.

``alembic check``, ``compare_metadata`` (``make status`` drift) and pytest-alembic's
"models match" test read an autogenerate result as diff tuples
(``UpgradeOps.as_diffs()``), which calls ``to_diff_tuple()`` on every op. The ops in
:mod:`conventions.ops.choice_ops` are for writing migrations and have none; these
subclasses add it, in the shapes Alembic itself uses (``add_column``,
``remove_column``, ``modify_<what>``), so every reader of diffs understands them.
They render exactly like their base ops (renderers dispatch along the MRO).
"""

from __future__ import annotations

from typing import Any

from alembic.operations.ops import DropConstraintOp
from sqlalchemy import Column
from sqlalchemy.sql.elements import conv

from conventions.choice import Choice, constraint_name
from conventions.db.catalog import parse_literal
from conventions.errors import InvalidChoices, Irreversible
from conventions.ops.choice_ops import AddChoiceColumnOp, AlterChoicesOp, DropChoiceColumnOp

Diff = tuple[Any, ...]


def _choices_diff(
    schema: str | None,
    table: str,
    column: str,
    old: tuple[str, ...] | None,
    new: tuple[str, ...] | None,
) -> Diff:
    """``modify_choices``: the allowed set, None meaning "no house CHECK"."""
    return ("modify_choices", schema, table, column, {}, old, new)


def server_default_value(column: Column[Any]) -> str | None:
    """Return a choice column's server default as the plain value it stores, or None."""
    default = column.server_default
    if default is None:
        return None
    arg = getattr(default, "arg", None)
    if isinstance(arg, str):
        return arg
    value = parse_literal(str(getattr(arg, "text", ""))) if arg is not None else None
    if value is None:
        label = f"{column.table.name}.{column.name}" if column.table is not None else column.name
        raise InvalidChoices(
            f"server_default of {label} must be one of its values, given as a plain string "
            f"(server_default='value'); got {default!r}.",
            column=label,
            values=column.type.values if isinstance(column.type, Choice) else (),
        )
    return value


def describe(diff: Diff) -> str | None:
    """Render a ``modify_choices`` / ``modify_length`` diff as a sentence, else None.

    For ``make status``: says which values the models add and remove rather than
    printing both sets.
    """
    if not diff or diff[0] not in ("modify_choices", "modify_length"):
        return None
    kind, _schema, table, column, _info, old, new = (*diff, None, None, None)[:7]
    if kind == "modify_length":
        return f"column {table}.{column}: VARCHAR({old}) in the database, {new} in the models"
    if kind != "modify_choices":
        return None
    if old is None:
        return f"column {table}.{column}: its choice CHECK is missing in the database"
    if new is None:
        return f"column {table}.{column}: a choice CHECK in the database, not in the models"
    added = [v for v in new if v not in old]
    removed = [v for v in old if v not in new]
    parts = []
    if added:
        parts.append("models add " + ", ".join(repr(v) for v in added))
    if removed:
        parts.append("models remove " + ", ".join(repr(v) for v in removed))
    return f"column {table}.{column}: allowed values differ ({'; '.join(parts)})"


class ChoiceColumnAdded(AddChoiceColumnOp):
    """A ``Choice`` column in the models only: ``op.add_choice_column``."""

    column: Column[Any]

    @classmethod
    def from_column(cls, schema: str | None, table: str, column: Column[Any]) -> ChoiceColumnAdded:
        choice = column.type
        assert isinstance(choice, Choice)
        op = cls(
            table,
            column.name,
            choice.values,
            length=choice.length,
            nullable=bool(column.nullable),
            server_default=server_default_value(column),
            comment=column.comment,
            schema=schema,
        )
        op.column = column
        return op

    def to_diff_tuple(self) -> Diff:
        return ("add_column", self.schema, self.table_name, self.column)


class ChoiceColumnDropped(DropChoiceColumnOp):
    """A choice column in the database only: ``op.drop_choice_column``, recreated on downgrade."""

    column: Column[Any]

    @classmethod
    def from_live(
        cls,
        schema: str | None,
        table: str,
        column: Column[Any],
        *,
        values: tuple[str, ...],
        length: int,
        server_default: str | None,
    ) -> ChoiceColumnDropped:
        recreate = AddChoiceColumnOp(
            table,
            column.name,
            values,
            length=length,
            nullable=bool(column.nullable),
            server_default=server_default,
            comment=column.comment,
            schema=schema,
        )
        op = cls(table, column.name, schema=schema, _reverse=recreate)
        op.column = column
        return op

    def to_diff_tuple(self) -> Diff:
        return ("remove_column", self.schema, self.table_name, self.column)


class ChoicesAltered(AlterChoicesOp):
    """Another allowed set and/or length: ``op.alter_choices`` with ``existing_values``."""

    # A list of diffs, as Alembic's own AlterColumnOp.to_diff_tuple returns for a change of
    # several attributes; MigrateOperation's annotation says one tuple.
    def to_diff_tuple(self) -> list[Diff]:  # type: ignore[override]
        diffs: list[Diff] = []
        assert self.existing_values is not None
        if set(self.values) != set(self.existing_values):
            diffs.append(
                _choices_diff(
                    self.schema,
                    self.table_name,
                    self.column_name,
                    self.existing_values,
                    self.values,
                )
            )
        if self.length is not None and self.length != self.existing_length:
            diffs.append(
                (
                    "modify_length",
                    self.schema,
                    self.table_name,
                    self.column_name,
                    {},
                    self.existing_length,
                    self.length,
                )
            )
        return diffs


class ChoiceCheckAdded(AlterChoicesOp):
    """A VARCHAR column that the models make a ``Choice``: its CHECK is missing.

    ``alter_choices`` with no ``existing_values`` adds ``ck_<table>_<column>`` (NOT
    VALID, then VALIDATE); when ``replaces`` holds the condition of a CHECK of that
    name that is not a value set, ``alter_choices`` swaps it out and the downgrade
    puts it back.
    """

    replaces: str | None = None

    def to_diff_tuple(self) -> Diff:
        return _choices_diff(self.schema, self.table_name, self.column_name, None, self.values)

    # An added CHECK undoes as a dropped one (op.drop_constraint), not as alter_choices.
    def reverse(self) -> ChoiceCheckDropped:  # type: ignore[override]
        op = ChoiceCheckDropped(
            conv(constraint_name(self.table_name, self.column_name)),
            self.table_name,
            type_="check",
            schema=self.schema,
        )
        op.column_name = self.column_name
        op.values = self.values
        op.restore = self.replaces
        return op


class ChoiceCheckDropped(DropConstraintOp):
    """A house CHECK whose column is no longer a ``Choice`` in the models.

    Renders ``op.drop_constraint``; ``restore`` (a condition) is a hand-written CHECK
    of the same name to put back afterwards.
    """

    column_name: str
    values: tuple[str, ...] | None = None
    restore: str | None = None

    @classmethod
    def from_live(
        cls, schema: str | None, table: str, column: str, values: tuple[str, ...]
    ) -> ChoiceCheckDropped:
        op = cls(conv(constraint_name(table, column)), table, type_="check", schema=schema)
        op.column_name = column
        op.values = values
        return op

    def to_diff_tuple(self) -> Diff:
        return _choices_diff(self.schema, self.table_name, self.column_name, self.values, None)

    # A dropped house CHECK undoes as an added one (alter_choices), not as Alembic's
    # AddConstraintOp that DropConstraintOp.reverse is annotated to return.
    def reverse(self) -> ChoiceCheckAdded:  # type: ignore[override]
        if self.values is None:
            raise Irreversible(
                f"Dropping the choices of {self.table_name}.{self.column_name} is not "
                "reversible: the values to restore are not known.",
                operation="drop_choice_check",
            )
        op = ChoiceCheckAdded(self.table_name, self.column_name, self.values, schema=self.schema)
        return op
