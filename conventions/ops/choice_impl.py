"""How the choice-column ops run (Alembic's ``toimpl`` for ``choice_ops``).

Each implementation first decides everything from the catalog — what exists, whether
it is identical, whether the data allows the change — and raises before its first
statement; only then does it emit DDL. Offline there is no catalog, so it prints the
DDL for the usual case: an existing, possibly busy table.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic.operations import Operations

from conventions import catalog, logs
from conventions.choice import check_values, constraint_name
from conventions.errors import ConstraintViolation, DefinitionConflict
from conventions.ops.choice_ops import AddChoiceColumnOp, AlterChoicesOp, DropChoiceColumnOp
from conventions.ops.runner import OpRunner
from conventions.sqltext import fit_name, ident, literal, literal_list, qualified

_DATA_HINTS = (
    "Add a data migration first that moves those rows to an allowed value "
    "(UPDATE … SET … WHERE …, in an earlier migration),",
    "or keep the value in the allowed set.",
)


def _check_sql(column: str, values: Sequence[str]) -> str:
    return f"{ident(column)} IN ({literal_list(values)})"


def _column_sql(op: AddChoiceColumnOp) -> str:
    parts = [f"{ident(op.column_name)} VARCHAR({op.length})"]
    if op.server_default is not None:
        parts.append(f"DEFAULT {literal(op.server_default)}")
    if not op.nullable:
        parts.append("NOT NULL")
    return " ".join(parts)


def _comment_sql(table_sql: str, column: str, comment: str) -> str:
    return f"COMMENT ON COLUMN {table_sql}.{ident(column)} IS {literal(comment)}"


def _same_set(found: catalog.ChoiceCheck | None, column: str, values: Sequence[str]) -> bool:
    return found is not None and found.column == column and set(found.values) == set(values)


def _violation(
    table: str,
    column: str,
    sample: catalog.RowSample,
    *,
    what: str,
    why: str,
    hints: Sequence[str],
) -> ConstraintViolation:
    shown = ", ".join(repr(v) for v in sample.samples)
    return ConstraintViolation(
        f"Cannot {what}: {sample.count} row(s) of {table} {why} (e.g. {shown}). "
        "Nothing was changed.",
        table=table,
        column=column,
        count=sample.count,
        samples=sample.samples,
        hints=hints,
    )


def _preflight_values(
    run: OpRunner, table: catalog.TableInfo, column: str, values: Sequence[str]
) -> None:
    sample = catalog.rows_outside(run.conn, table.name, column, values, schema=table.schema)
    if sample.count:
        raise _violation(
            table.name,
            column,
            sample,
            what=f"restrict {table.name}.{column} to {', '.join(repr(v) for v in values)}",
            why=f"hold other values in {column}",
            hints=_DATA_HINTS,
        )


@Operations.implementation_for(AddChoiceColumnOp)
def add_choice_column(operations: Operations, op: AddChoiceColumnOp) -> None:
    run = OpRunner(operations)
    table_sql = qualified(op.table_name, op.schema)
    name = constraint_name(op.table_name, op.column_name)
    check = _check_sql(op.column_name, op.values)
    if run.offline:
        run.run(f"ALTER TABLE {table_sql} ADD COLUMN {_column_sql(op)}")
        if op.comment is not None:
            run.run(_comment_sql(table_sql, op.column_name, op.comment))
        run.run(f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} CHECK ({check}) NOT VALID")
        run.validate(table_sql, [name])
        return

    table = run.require_table(op.table_name, op.schema)
    column = catalog.column(run.conn, table.oid, op.column_name)
    existing = catalog.constraint(run.conn, table.oid, name)
    label = f"{table.name}.{op.column_name}"
    if column is not None:
        _compare_column(column, op, label)
    if existing is not None and not _same_set(existing.choice(), op.column_name, op.values):
        raise DefinitionConflict(
            f"Constraint {name} on {table.name} already exists with another definition.",
            name=name,
            existing=existing.render(),
            wanted=f"CHECK ({check})",
        )
    if column is None and not op.nullable and op.server_default is None:
        if catalog.table_has_rows(run.conn, table.name, schema=table.schema):
            raise ConstraintViolation(
                f"Cannot add {label} as NOT NULL without a default: {table.name} has rows, "
                "which would all be NULL. Nothing was changed.",
                table=table.name,
                column=op.column_name,
                hints=[
                    "Give it a server_default (one of its values),",
                    "or add it nullable, fill it in a data migration, then make it NOT NULL.",
                ],
            )
    if column is not None and existing is None:
        _preflight_values(run, table, op.column_name, op.values)  # half-applied: data first

    inline = table.created_in_transaction and existing is None
    if column is None:
        column_sql = _column_sql(op)
        if inline:  # nobody else can see this table: check in place, no NOT VALID
            column_sql += f" CONSTRAINT {ident(name)} CHECK ({check})"
        run.run(f"ALTER TABLE {table_sql} ADD COLUMN {column_sql}")
    else:
        logs.warn(f"Column {label} already exists, skipping")
    if op.comment is not None and (column is None or column.comment is None):
        run.run(_comment_sql(table_sql, op.column_name, op.comment))

    if existing is None:
        if column is not None and inline:
            run.run(f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} CHECK ({check})")
        elif not inline:
            run.run(
                f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} CHECK ({check}) NOT VALID"
            )
            run.validate(table_sql, [name])
    elif existing.validated:
        logs.warn(f"Constraint {name} on {table.name} already exists, skipping")
    else:
        logs.warn(f"Constraint {name} on {table.name} exists but is NOT VALID; validating it")
        _preflight_values(run, table, op.column_name, op.values)
        run.validate(table_sql, [name])


def _compare_column(column: catalog.ColumnInfo, op: AddChoiceColumnOp, label: str) -> None:
    wanted_type = f"character varying({op.length})"
    found_default = (
        None
        if column.default is None
        else catalog.parse_literal(column.default) or f"<{column.default}>"
    )
    same = (
        column.type == wanted_type
        and column.not_null == (not op.nullable)
        and found_default == op.server_default
        and (column.comment is None or op.comment is None or column.comment == op.comment)
    )
    if same:
        return
    wanted = catalog.ColumnInfo(
        name=op.column_name,
        type=wanted_type,
        varchar_length=op.length,
        is_varchar=True,
        not_null=not op.nullable,
        default=None
        if op.server_default is None
        else f"{literal(op.server_default)}::character varying",
        comment=op.comment,
    )
    raise DefinitionConflict(
        f"Column {label} already exists with another definition.",
        name=label,
        existing=column.render(),
        wanted=wanted.render(),
    )


@Operations.implementation_for(AlterChoicesOp)
def alter_choices(operations: Operations, op: AlterChoicesOp) -> None:
    run = OpRunner(operations)
    table_sql = qualified(op.table_name, op.schema)
    name = constraint_name(op.table_name, op.column_name)
    temp = fit_name(f"{name}_new")
    check = _check_sql(op.column_name, op.values)
    if run.offline:
        run.run(f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(temp)} CHECK ({check}) NOT VALID")
        if op.length is None:
            run.validate(table_sql, [temp])
            _swap(run, table_sql, name, temp, drop_old=True)
        else:
            _swap(run, table_sql, name, temp, drop_old=True)
            _resize(run, table_sql, op.column_name, op.length)
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
        self.table = run.require_table(op.table_name, op.schema)
        self.column = run.require_column(self.table, op.column_name)
        self.label = f"{self.table.name}.{op.column_name}"
        self.old = catalog.constraint(run.conn, self.table.oid, name)
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

        if _same_set(old_choice, op.column_name, op.values) and not resize:
            assert self.old is not None
            if self.new is not None:
                logs.warn(f"Dropping leftover constraint {self.temp} on {self.table.name}")
                run.run(f"ALTER TABLE {self.table_sql} DROP CONSTRAINT {ident(self.temp)}")
            if self.old.validated:
                logs.warn(f"{self.label} already allows exactly these values, skipping")
                return
            _preflight_values(run, self.table, op.column_name, op.values)
            run.validate(self.table_sql, [self.name])
            return

        # Preflight: nothing has been changed yet.
        only_added = (
            self.old is not None
            and self.old.validated
            and old_choice is not None
            and old_choice.column == op.column_name
            and set(old_choice.values) <= set(op.values)
        )
        if not only_added:
            _preflight_values(run, self.table, op.column_name, op.values)
        narrowing = resize and target is not None and (current is None or target < current)
        if narrowing:
            assert target is not None
            self._preflight_length(target)

        check = _check_sql(op.column_name, op.values)
        if self.table.created_in_transaction:  # invisible to others: swap in place
            if self.new is not None:
                run.run(f"ALTER TABLE {self.table_sql} DROP CONSTRAINT {ident(self.temp)}")
            if self.old is not None:
                run.run(f"ALTER TABLE {self.table_sql} DROP CONSTRAINT {ident(self.name)}")
            if resize:
                assert target is not None
                _resize(run, self.table_sql, op.column_name, target)
            run.run(
                f"ALTER TABLE {self.table_sql} ADD CONSTRAINT {ident(self.name)} CHECK ({check})"
            )
            return
        if self.new is None:
            run.run(
                f"ALTER TABLE {self.table_sql} ADD CONSTRAINT {ident(self.temp)} "
                f"CHECK ({check}) NOT VALID"
            )
        if not resize:
            if self.new is None or not self.new.validated:
                run.validate(self.table_sql, [self.temp])
            _swap(run, self.table_sql, self.name, self.temp, drop_old=self.old is not None)
            return
        assert target is not None
        # Type change: no validated CHECK may remain on the column, or PostgreSQL
        # re-checks it under ACCESS EXCLUSIVE. The NOT VALID one still checks writes.
        _swap(run, self.table_sql, self.name, self.temp, drop_old=self.old is not None)
        if narrowing:
            logs.warn(
                f"Narrowing {self.label} to VARCHAR({target}) rewrites {self.table.name} "
                "under ACCESS EXCLUSIVE"
            )
        _resize(run, self.table_sql, op.column_name, target)
        run.validate(self.table_sql, [self.name])

    def _check_drift(self, old_choice: catalog.ChoiceCheck | None) -> None:
        op = self.op
        if self.old is not None and self.old.kind != "c":
            raise DefinitionConflict(
                f"{self.name} on {self.table.name} is not a CHECK constraint.",
                name=self.name,
                existing=self.old.render(),
                wanted=f"CHECK ({_check_sql(op.column_name, op.values)})",
            )
        if self.new is not None and not _same_set(self.new.choice(), op.column_name, op.values):
            raise DefinitionConflict(
                f"A leftover {self.temp} on {self.table.name} checks other values than wanted; "
                "it is not this migration's.",
                name=self.temp,
                existing=self.new.render(),
                wanted=f"CHECK ({_check_sql(op.column_name, op.values)})",
            )
        if op.existing_values is None or self.old is None:
            return
        expected = (op.existing_values, op.values)
        if not any(_same_set(old_choice, op.column_name, vs) for vs in expected):
            raise DefinitionConflict(
                f"{self.name} on {self.table.name} does not allow the values this migration "
                "expects to change from.",
                name=self.name,
                existing=self.old.render(),
                wanted=f"CHECK ({_check_sql(op.column_name, op.existing_values)})",
            )

    def _preflight_length(self, target: int) -> None:
        sample = catalog.rows_longer_than(
            self.run.conn, self.table.name, self.op.column_name, target, schema=self.table.schema
        )
        if sample.count:
            raise _violation(
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


@Operations.implementation_for(DropChoiceColumnOp)
def drop_choice_column(operations: Operations, op: DropChoiceColumnOp) -> None:
    run = OpRunner(operations)
    table_sql = qualified(op.table_name, op.schema)
    name = constraint_name(op.table_name, op.column_name)
    if not run.offline:
        table = run.require_table(op.table_name, op.schema)
        if catalog.column(run.conn, table.oid, op.column_name) is None:
            logs.warn(f"Column {table.name}.{op.column_name} does not exist, skipping")
            return
        if catalog.constraint(run.conn, table.oid, name) is None:
            operations.drop_column(op.table_name, op.column_name, schema=op.schema)
            return
    run.run(f"ALTER TABLE {table_sql} DROP CONSTRAINT {ident(name)}")
    operations.drop_column(op.table_name, op.column_name, schema=op.schema)
