"""Choice-column operations as plain objects: what ``op.add_choice_column`` & co. *are*.

Like Alembic's ``ops.py``: each class holds its arguments (validated, so an
impossible op cannot exist), builds itself in a classmethod that Alembic exposes as
``op.<name>``, and carries its conversions: ``reverse()``, the ``from_…``
constructors autogenerate uses, and ``to_diff_tuple()``. ``alembic check``,
``compare_metadata`` (``status``'s drift) and pytest-alembic's "models match" read
an autogenerate result as diff tuples (``UpgradeOps.as_diffs()``); these ops report
themselves in the shapes Alembic uses (``add_column``, ``remove_column``,
``modify_<what>``), so every reader of diffs understands them. How each runs is in
:mod:`conventions.ops.choice_impl` / :mod:`conventions.ops.choice_alter`; how
autogenerate writes it, in :mod:`conventions.autogen.render`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alembic.operations import MigrateOperation, Operations
from alembic.operations.ops import DropConstraintOp
from sqlalchemy import Column
from sqlalchemy.sql.elements import conv
from sqlalchemy.types import NULLTYPE

from conventions.choice import Choice, check_values, constraint_name, default_length
from conventions.db.catalog import parse_literal
from conventions.errors import InvalidChoices, Irreversible
from conventions.operations.base import invoke

Diff = tuple[Any, ...]


def _values(values: Iterable[str], table: str, column: str, length: int | None) -> tuple[str, ...]:
    return check_values(values, column=f"{table}.{column}", length=length)


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

    For ``status``: says which values the models add and remove rather than
    printing both sets.
    """
    if not diff or diff[0] not in ("modify_choices", "modify_length"):
        return None
    kind, _schema, table, column, _info, old, new = (*diff, None, None, None)[:7]
    if kind == "modify_length":
        return f"column {table}.{column}: VARCHAR({old}) in the database, {new} in the models"
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


@Operations.register_operation("add_choice_column")
class AddChoiceColumnOp(MigrateOperation):
    """Add a VARCHAR column restricted by a CHECK named ``ck_<table>_<column>``."""

    column: Column[Any] | None = None
    """The model's column, when autogenerate built the op from one."""

    def __init__(
        self,
        table_name: str,
        column_name: str,
        values: Iterable[str],
        *,
        length: int | None = None,
        nullable: bool = True,
        server_default: str | None = None,
        comment: str | None = None,
        schema: str | None = None,
    ) -> None:
        checked = _values(values, table_name, column_name, None)
        self.length = length if length is not None else default_length(checked)
        self.values = _values(checked, table_name, column_name, self.length)
        if server_default is not None and server_default not in self.values:
            raise InvalidChoices(
                f"server_default {server_default!r} of {table_name}.{column_name} is not one "
                f"of its values: {', '.join(repr(v) for v in self.values)}.",
                column=f"{table_name}.{column_name}",
                values=self.values,
            )
        self.table_name = table_name
        self.column_name = column_name
        self.nullable = nullable
        self.server_default = server_default
        self.comment = comment
        self.schema = schema

    @classmethod
    def add_choice_column(
        cls,
        operations: Operations,
        table_name: str,
        column_name: str,
        values: Iterable[str],
        *,
        length: int | None = None,
        nullable: bool = True,
        server_default: str | None = None,
        comment: str | None = None,
        schema: str | None = None,
    ) -> None:
        """Add a ``VARCHAR(length)`` column limited to ``values``, online-safely, idempotently.

        Steps and locks, on an existing table:

        1. ``ADD COLUMN`` — ACCESS EXCLUSIVE for an instant: a constant default is
           stored in the catalog (PostgreSQL 11+), so no row is rewritten.
        2. ``ADD CONSTRAINT ck_<table>_<column> CHECK (… IN (…)) NOT VALID`` — ACCESS
           EXCLUSIVE for an instant: new writes are checked, existing rows are not.
        3. Commit, then ``VALIDATE CONSTRAINT`` in its own transaction — SHARE UPDATE
           EXCLUSIVE while it scans, so reads and writes continue.

        On a table created earlier in the same transaction nobody else can see it, so
        the CHECK is written inline and validated at once. Already there and identical:
        skipped with a warning (a NOT VALID leftover is just validated); there but
        different (type, nullability, default, values): DefinitionConflict, nothing
        changed. ``NOT NULL`` without ``server_default`` on a table with rows is refused
        before any DDL. Offline (``--sql``) prints steps 1-3.
        """
        op = cls(
            table_name,
            column_name,
            values,
            length=length,
            nullable=nullable,
            server_default=server_default,
            comment=comment,
            schema=schema,
        )
        return invoke(operations, op)

    @classmethod
    def from_column(cls, schema: str | None, table: str, column: Column[Any]) -> AddChoiceColumnOp:
        """The op for a ``Choice`` column that is in the models only (autogenerate)."""
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

    def to_column(self) -> Column[Any]:
        """The column this op adds: the model's when there is one, else built from the op."""
        if self.column is not None:
            return self.column
        return Column(
            self.column_name,
            Choice(self.values, length=self.length),
            nullable=self.nullable,
            server_default=self.server_default,
            comment=self.comment,
        )

    def to_diff_tuple(self) -> Diff:
        return ("add_column", self.schema, self.table_name, self.to_column())

    def reverse(self) -> DropChoiceColumnOp:
        return DropChoiceColumnOp(
            self.table_name, self.column_name, schema=self.schema, _reverse=self
        )


@Operations.register_operation("alter_choices")
class AlterChoicesOp(MigrateOperation):
    """Replace the allowed values (and optionally the length) of a choice column."""

    adds_check = False
    """Built by :meth:`adding_check`: the column had no house CHECK (autogenerate)."""
    replaces: str | None = None
    """With ``adds_check``: the condition of a CHECK of the house name that is no value
    set, which ``alter_choices`` swaps out and the downgrade puts back."""

    def __init__(
        self,
        table_name: str,
        column_name: str,
        values: Iterable[str],
        *,
        length: int | None = None,
        existing_values: Iterable[str] | None = None,
        existing_length: int | None = None,
        schema: str | None = None,
    ) -> None:
        self.table_name = table_name
        self.column_name = column_name
        self.values = _values(values, table_name, column_name, length)
        self.length = length
        self.existing_values = (
            None
            if existing_values is None
            else _values(existing_values, table_name, column_name, existing_length)
        )
        self.existing_length = existing_length
        self.schema = schema

    @classmethod
    def alter_choices(
        cls,
        operations: Operations,
        table_name: str,
        column_name: str,
        values: Iterable[str],
        *,
        length: int | None = None,
        existing_values: Iterable[str] | None = None,
        existing_length: int | None = None,
        schema: str | None = None,
    ) -> None:
        """Make ``values`` the allowed set of a choice column, never leaving it unchecked.

        Preflight, before any DDL: rows holding a value outside the new set (or longer
        than a new, smaller ``length``) make it fail with ConstraintViolation — count and
        up to 5 samples — and nothing changes. The scan is skipped when values are only
        added to a validated set (no row can be outside it).

        Steps and locks, keeping the length:

        1. ``ADD CONSTRAINT ck_…_new CHECK (…) NOT VALID`` — ACCESS EXCLUSIVE, instant.
        2. Commit; ``VALIDATE CONSTRAINT ck_…_new`` alone — SHARE UPDATE EXCLUSIVE
           while it scans; writes continue, checked by both constraints. If it fails
           (a writer stored a removed value between the preflight and step 1),
           ``ck_…_new`` is dropped again, the old CHECK still stands, and the
           ConstraintViolation counts the rows.
        3. ``DROP CONSTRAINT ck_<table>_<column>`` and ``RENAME CONSTRAINT ck_…_new TO
           ck_<table>_<column>`` — ACCESS EXCLUSIVE, instant, one transaction.

        Changing the length (``length=``): PostgreSQL re-checks every *validated* CHECK
        on a column whose type changes, scanning under ACCESS EXCLUSIVE. So one
        transaction — atomic to every other session — drops the old CHECK, runs
        ``ALTER COLUMN … TYPE VARCHAR(n)`` and adds the new CHECK NOT VALID (new writes
        are checked from the moment anyone can see the change); VALIDATE follows after
        the commit. Widening is then metadata-only (no rewrite, no scan, no index
        rebuild); narrowing rewrites the table under ACCESS EXCLUSIVE and logs a
        warning — on a big table, keep the length.

        ``existing_values`` (what autogenerate writes) makes the op reversible and
        turns an unexpected current set into a DefinitionConflict. Idempotent: a column
        that already has these values is skipped with a warning; a half-done change
        (``ck_…_new`` left behind) is finished.
        """
        op = cls(
            table_name,
            column_name,
            values,
            length=length,
            existing_values=existing_values,
            existing_length=existing_length,
            schema=schema,
        )
        return invoke(operations, op)

    @classmethod
    def adding_check(
        cls,
        schema: str | None,
        table: str,
        column: str,
        values: Iterable[str],
        *,
        replaces: str | None = None,
    ) -> AlterChoicesOp:
        """A VARCHAR column the models make a ``Choice``: its CHECK is missing (autogenerate).

        ``alter_choices`` with no ``existing_values`` adds ``ck_<table>_<column>`` (NOT
        VALID, then VALIDATE); when ``replaces`` holds the condition of a CHECK of that
        name that is not a value set, it swaps it out and the downgrade puts it back.
        """
        op = cls(table, column, values, schema=schema)
        op.adds_check = True
        op.replaces = replaces
        return op

    # A list of diffs, as Alembic's own ModifyTableOps returns (as_diffs flattens it).
    def to_diff_tuple(self) -> Diff | list[Diff]:  # type: ignore[override]
        """``modify_choices`` for the set, ``modify_length`` for the length (one or both)."""
        if self.adds_check:
            return _choices_diff(self.schema, self.table_name, self.column_name, None, self.values)
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

    def reverse(self) -> MigrateOperation:
        if self.adds_check:
            return DropChoiceCheckOp.from_live(
                self.schema, self.table_name, self.column_name, self.values, restore=self.replaces
            )
        if self.existing_values is None:
            raise Irreversible(
                "alter_choices is not reversible without existing_values= (the values to go "
                "back to).",
                operation="alter_choices",
            )
        return AlterChoicesOp(
            self.table_name,
            self.column_name,
            self.existing_values,
            length=self.existing_length,
            existing_values=self.values,
            existing_length=self.length,
            schema=self.schema,
        )


@Operations.register_operation("drop_choice_column")
class DropChoiceColumnOp(MigrateOperation):
    """Drop a choice column and its CHECK."""

    column: Column[Any] | None = None
    """The live column, when autogenerate built the op from the database."""

    def __init__(
        self,
        table_name: str,
        column_name: str,
        *,
        schema: str | None = None,
        _reverse: AddChoiceColumnOp | None = None,
    ) -> None:
        self.table_name = table_name
        self.column_name = column_name
        self.schema = schema
        self._reverse = _reverse

    @classmethod
    def drop_choice_column(
        cls,
        operations: Operations,
        table_name: str,
        column_name: str,
        *,
        schema: str | None = None,
    ) -> None:
        """Drop ``ck_<table>_<column>``, then the column through ``op.drop_column``.

        Locks: ``DROP CONSTRAINT`` and ``DROP COLUMN`` each take ACCESS EXCLUSIVE for
        an instant (both are catalog changes; the column's data is reclaimed later by
        normal writes and VACUUM). Going through ``op.drop_column`` means whatever the
        project's drop_column does on the way (archiving the data on a downgrade)
        applies here too. Already gone: skipped with a warning.
        """
        return invoke(operations, cls(table_name, column_name, schema=schema))

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
    ) -> DropChoiceColumnOp:
        """A choice column in the database only: dropped, recreated on downgrade."""
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

    def to_column(self) -> Column[Any]:
        """The column this op drops, as well as it is known."""
        if self.column is not None:
            return self.column
        if self._reverse is not None:
            return self._reverse.to_column()
        return Column(self.column_name, NULLTYPE)

    def to_diff_tuple(self) -> Diff:
        return ("remove_column", self.schema, self.table_name, self.to_column())

    def reverse(self) -> AddChoiceColumnOp:
        if self._reverse is None:
            raise Irreversible(
                "drop_choice_column is not reversible: the column's values, length and "
                "default are not known here.",
                operation="drop_choice_column",
                hints=["Write its downgrade by hand: op.add_choice_column(…) with the values."],
            )
        return self._reverse


class DropChoiceCheckOp(DropConstraintOp):
    """A house CHECK whose column is no longer a ``Choice`` in the models (autogenerate).

    Alembic's ``drop_constraint`` (it renders as ``op.drop_constraint``), knowing the
    values it allowed so the downgrade can add it back; ``restore`` (a condition) is a
    hand-written CHECK of the same name to put back afterwards.
    """

    column_name: str
    values: tuple[str, ...] | None = None
    restore: str | None = None

    @classmethod
    def from_live(
        cls,
        schema: str | None,
        table: str,
        column: str,
        values: tuple[str, ...],
        *,
        restore: str | None = None,
    ) -> DropChoiceCheckOp:
        op = cls(conv(constraint_name(table, column)), table, type_="check", schema=schema)
        op.column_name = column
        op.values = values
        op.restore = restore
        return op

    def to_diff_tuple(self) -> Diff:
        return _choices_diff(self.schema, self.table_name, self.column_name, self.values, None)

    def reverse(self) -> AlterChoicesOp:  # type: ignore[override]
        if self.values is None:
            raise Irreversible(
                f"Dropping the choices of {self.table_name}.{self.column_name} is not "
                "reversible: the values to restore are not known.",
                operation="drop_choice_check",
            )
        return AlterChoicesOp.adding_check(
            self.schema, self.table_name, self.column_name, self.values
        )
