"""How alter_choices runs: swap a choice column's CHECK without a moment unchecked.

The online path reads the whole state first — the current constraint, a leftover
``ck_…_new`` from an interrupted run, the column's length — checks it (drift, data
that would not fit) and only then acts, so a failed preflight changes nothing and a
crash between the steps converges when the migration runs again.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic.operations import Operations

from conventions import logs
from conventions.choice import check_values, constraint_name
from conventions.db import catalog, preflight
from conventions.db.sqltext import fit_name, ident, qualified
from conventions.errors import DefinitionConflict
from conventions.operations.choice import AlterChoicesOp
from conventions.ops.choice_impl import check_sql, preflight_values, rejected, same_set
from conventions.ops.runner import OpRunner


@Operations.implementation_for(AlterChoicesOp)
def alter_choices(operations: Operations, op: AlterChoicesOp) -> None:
    run = OpRunner(operations)
    table_sql = qualified(op.table_name, op.schema)
    name = constraint_name(op.table_name, op.column_name)
    temp = fit_name(f"{name}_new")
    check = check_sql(op.column_name, op.values)
    if run.offline:
        if op.length is None:
            run.run(
                f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(temp)} CHECK ({check}) NOT VALID"
            )
            run.validate(table_sql, [temp])
            _swap(run, table_sql, name, temp, drop_old=True)
        else:
            run.run(f"ALTER TABLE {table_sql} DROP CONSTRAINT {ident(name)}")
            _resize(run, table_sql, op.column_name, op.length)
            run.run(
                f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} CHECK ({check}) NOT VALID"
            )
            run.validate(table_sql, [name])
        return
    _AlterChoices(run, op, table_sql, name, temp).apply()


def _swap(run: OpRunner, table_sql: str, name: str, temp: str, *, drop_old: bool) -> None:
    if drop_old:
        run.run(f"ALTER TABLE {table_sql} DROP CONSTRAINT {ident(name)}")
    run.run(f"ALTER TABLE {table_sql} RENAME CONSTRAINT {ident(temp)} TO {ident(name)}")


def _resize(run: OpRunner, table_sql: str, column: str, length: int) -> None:
    run.run(f"ALTER TABLE {table_sql} ALTER COLUMN {ident(column)} TYPE VARCHAR({length})")


class _AlterChoices:
    """The online decision for alter_choices: read the state, check it, then act."""

    def __init__(
        self, run: OpRunner, op: AlterChoicesOp, table_sql: str, name: str, temp: str
    ) -> None:
        self.run, self.op, self.table_sql, self.name, self.temp = run, op, table_sql, name, temp
        self.table, column, self.old = run.require_table_with(
            op.table_name, op.schema, column=op.column_name, constraint=name
        )
        self.column = column or run.require_column(self.table, op.column_name)  # raises
        self.label = f"{self.table.name}.{op.column_name}"
        self.new = catalog.constraint(run.conn, self.table.oid, temp)

    def apply(self) -> None:
        op, run = self.op, self.run
        if not self.column.is_varchar:
            raise DefinitionConflict(
                f"Column {self.label} is not a VARCHAR; alter_choices changes choice columns.",
                name=self.label,
                existing=self.column.render(),
                wanted=f"{ident(op.column_name)} character varying(…) with a CHECK",
            )
        current = self.column.varchar_length
        target = op.length if op.length is not None else current
        if target is not None:
            check_values(op.values, column=self.label, length=target)
        resize = target != current
        old_choice = self.old.choice() if self.old is not None else None
        self._check_drift(old_choice)

        if same_set(old_choice, op.column_name, op.values) and not resize:
            assert self.old is not None
            if self.new is not None:
                logs.warn(f"Dropping leftover constraint {self.temp} on {self.table.name}")
                run.run(f"ALTER TABLE {self.table_sql} DROP CONSTRAINT {ident(self.temp)}")
            if self.old.validated:
                logs.warn(f"{self.label} already allows exactly these values, skipping")
                return
            preflight_values(run, self.table, op.column_name, op.values)
            run.validate(self.table_sql, [self.name])
            return

        # Preflight: nothing has been changed yet.
        narrowing = resize and target is not None and (current is None or target < current)
        if narrowing:
            assert target is not None
            self._preflight_length(target)
        only_added = (
            self.old is not None
            and self.old.validated
            and old_choice is not None
            and old_choice.column == op.column_name
            and set(old_choice.values) <= set(op.values)
        )
        if not only_added:
            preflight_values(run, self.table, op.column_name, op.values)

        check = check_sql(op.column_name, op.values)
        in_place = self.table.created_in_transaction  # nobody else can see the table
        if not resize and not in_place:
            if self.new is None:
                run.run(
                    f"ALTER TABLE {self.table_sql} ADD CONSTRAINT {ident(self.temp)} "
                    f"CHECK ({check}) NOT VALID"
                )
            if self.new is None or not self.new.validated:
                # A writer can still slip a removed value in between the preflight and
                # the ADD; then VALIDATE fails after the commit, and the new CHECK is
                # dropped again (the old one never left) and the rows are counted.
                new = rejected(self.table, op.column_name, op.values, name=self.temp)
                run.validate(self.table_sql, [self.temp], added={self.temp: new})
            _swap(run, self.table_sql, self.name, self.temp, drop_old=self.old is not None)
            return
        # Type change: PostgreSQL re-checks every *validated* CHECK on a column whose
        # type changes, scanning under ACCESS EXCLUSIVE, and re-deparses it. So in one
        # transaction — atomic to every other session, never a visible moment without
        # a constraint — drop the old CHECK, change the type, add the new one NOT VALID
        # (parsed fresh against the new type); validate after the commit.
        for leftover, present in ((self.temp, self.new), (self.name, self.old)):
            if present is not None:
                run.run(f"ALTER TABLE {self.table_sql} DROP CONSTRAINT {ident(leftover)}")
        if resize:
            assert target is not None
            if narrowing:
                logs.warn(
                    f"Narrowing {self.label} to VARCHAR({target}) rewrites {self.table.name} "
                    "under ACCESS EXCLUSIVE"
                )
            _resize(run, self.table_sql, op.column_name, target)
        add = f"ALTER TABLE {self.table_sql} ADD CONSTRAINT {ident(self.name)} CHECK ({check})"
        if in_place:
            run.run(add)
            return
        run.run(f"{add} NOT VALID")
        run.validate(self.table_sql, [self.name])

    def _check_drift(self, old_choice: catalog.ChoiceCheck | None) -> None:
        op = self.op
        if self.old is not None and self.old.kind != "c":
            raise self._conflict(
                f"{self.name} on {self.table.name} is not a CHECK constraint.", self.old, op.values
            )
        if self.new is not None and not same_set(self.new.choice(), op.column_name, op.values):
            raise self._conflict(
                f"A leftover {self.temp} on {self.table.name} checks other values than wanted; "
                "it is not this migration's.",
                self.new,
                op.values,
            )
        if op.existing_values is None or self.old is None:
            return
        expected = (op.existing_values, op.values)
        if not any(same_set(old_choice, op.column_name, vs) for vs in expected):
            raise self._conflict(
                f"{self.name} on {self.table.name} does not allow the values this migration "
                "expects to change from.",
                self.old,
                op.existing_values,
            )

    def _conflict(
        self, message: str, found: catalog.ConstraintInfo, values: Sequence[str]
    ) -> DefinitionConflict:
        """``found`` (by its name) is not the CHECK allowing ``values`` that was wanted."""
        return DefinitionConflict(
            message,
            name=found.name,
            existing=found.render(),
            wanted=f"CHECK ({check_sql(self.op.column_name, values)})",
        )

    def _preflight_length(self, target: int) -> None:
        sample = preflight.rows_longer_than(
            self.run.conn, self.table.name, self.op.column_name, target, schema=self.table.schema
        )
        if sample.count:
            raise preflight.violation(
                self.table.name,
                self.op.column_name,
                sample,
                what=f"narrow {self.label} to VARCHAR({target})",
                why=f"hold values longer than {target} characters",
                hints=(
                    f"Keep the length (omit length=), or shorten those values to {target} "
                    "characters in a data migration first.",
                ),
            )
