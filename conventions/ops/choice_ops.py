"""Choice-column operations as plain objects: what ``op.add_choice_column`` & co. *are*.

Like Alembic's ``ops.py``: each class holds its arguments (validated, so an
impossible op cannot exist), builds itself in a classmethod that Alembic exposes as
``op.<name>``, and knows its ``reverse()``. How each runs is in ``choice_impl``;
how autogenerate writes it belongs with the renderers.
"""

from __future__ import annotations

from collections.abc import Iterable

from alembic.operations import MigrateOperation, Operations

from conventions.choice import check_values, default_length
from conventions.errors import InvalidChoices, Irreversible


def _values(values: Iterable[str], table: str, column: str, length: int | None) -> tuple[str, ...]:
    return check_values(values, column=f"{table}.{column}", length=length)


@Operations.register_operation("add_choice_column")
class AddChoiceColumnOp(MigrateOperation):
    """Add a VARCHAR column restricted by a CHECK named ``ck_<table>_<column>``."""

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
        return operations.invoke(op)

    def reverse(self) -> DropChoiceColumnOp:
        return DropChoiceColumnOp(
            self.table_name, self.column_name, schema=self.schema, _reverse=self
        )


@Operations.register_operation("alter_choices")
class AlterChoicesOp(MigrateOperation):
    """Replace the allowed values (and optionally the length) of a choice column."""

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
        return operations.invoke(op)

    def reverse(self) -> AlterChoicesOp:
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
        return operations.invoke(cls(table_name, column_name, schema=schema))

    def reverse(self) -> AddChoiceColumnOp:
        if self._reverse is None:
            raise Irreversible(
                "drop_choice_column is not reversible: the column's values, length and "
                "default are not known here.",
                operation="drop_choice_column",
                hints=["Write its downgrade by hand: op.add_choice_column(…) with the values."],
            )
        return self._reverse
