"""How add_choice_column and drop_choice_column run (``toimpl`` for ``operations.choice``).

Decide, then do: :func:`plan_add_choice_column` decides everything from the catalog
rows — what exists, whether it is identical, which data checks come before the first
statement — and raises on a conflict; :func:`conventions.ops.steps.execute` then
runs the steps. Offline there is no catalog, so :func:`offline_add_choice_column`
prints the DDL for the usual case: an existing, possibly busy table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from alembic.operations import Operations
from sqlalchemy.engine import Connection

from conventions import logs
from conventions.choice import constraint_name
from conventions.db import catalog, preflight
from conventions.db.sqltext import ident, literal, literal_list, qualified
from conventions.errors import ConstraintViolation, DefinitionConflict
from conventions.operations.choice import AddChoiceColumnOp, DropChoiceColumnOp
from conventions.ops.runner import OpRunner
from conventions.ops.steps import Check, Run, Step, Validate, Warn, execute


def check_sql(column: str, values: Sequence[str]) -> str:
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


def same_set(found: catalog.ChoiceCheck | None, column: str, values: Sequence[str]) -> bool:
    return found is not None and found.column == column and set(found.values) == set(values)


def rejected(
    table: catalog.TableInfo, column: str, values: Sequence[str], *, name: str | None = None
) -> preflight.Rejected:
    """The rows of ``table`` a CHECK allowing only ``values`` in ``column`` rejects.

    The test is the CHECK's own (NULL passes), so a clean preflight means its
    VALIDATE will pass.
    """
    return preflight.Rejected(
        table=table.name,
        name=name or constraint_name(table.name, column),
        source=preflight.relation(table.name, schema=table.schema),
        where=preflight.failing_check(check_sql(column, values)),
        shown=(column,),
        why=f"hold other values in {column}",
        what=f"restrict {table.name}.{column} to {', '.join(repr(v) for v in values)}",
        hints=preflight.DATA_HINTS,
    )


def offline_add_choice_column(op: AddChoiceColumnOp) -> list[Step]:
    """What ``--sql`` prints: the steps for an existing, possibly busy table."""
    table_sql = qualified(op.table_name, op.schema)
    name = constraint_name(op.table_name, op.column_name)
    steps: list[Step] = [Run(f"ALTER TABLE {table_sql} ADD COLUMN {_column_sql(op)}")]
    if op.comment is not None:
        steps.append(Run(_comment_sql(table_sql, op.column_name, op.comment)))
    check = check_sql(op.column_name, op.values)
    steps.append(
        Run(f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} CHECK ({check}) NOT VALID")
    )
    steps.append(Validate(table_sql, (name,)))
    return steps


def plan_add_choice_column(
    op: AddChoiceColumnOp,
    table: catalog.TableInfo,
    column: catalog.ColumnInfo | None,
    existing: catalog.ConstraintInfo | None,
) -> list[Step]:
    """Decide from the catalog what adding the column takes; raise if it cannot be done.

    ``column`` and ``existing`` are what the table has under the op's column and CHECK
    names. A different definition raises DefinitionConflict here, before any step.
    """
    table_sql = qualified(op.table_name, op.schema)
    name = constraint_name(op.table_name, op.column_name)
    check = check_sql(op.column_name, op.values)
    label = f"{table.name}.{op.column_name}"
    if column is not None:
        _compare_column(column, op, label)
    if existing is not None and not same_set(existing.choice(), op.column_name, op.values):
        raise DefinitionConflict(
            f"Constraint {name} on {table.name} already exists with another definition.",
            name=name,
            existing=existing.render(),
            wanted=f"CHECK ({check})",
        )
    steps: list[Step] = []
    if column is None and not op.nullable and op.server_default is None:
        steps.append(
            Check(f"{table.name} has no rows (NOT NULL without a default)", _no_rows(table, op))
        )
    if column is not None and existing is None:
        steps.append(Check.rows(rejected(table, op.column_name, op.values)))  # half-applied

    inline = table.created_in_transaction and existing is None
    if column is None:
        column_sql = _column_sql(op)
        if inline:  # nobody else can see this table: check in place, no NOT VALID
            column_sql += f" CONSTRAINT {ident(name)} CHECK ({check})"
        steps.append(Run(f"ALTER TABLE {table_sql} ADD COLUMN {column_sql}"))
    else:
        steps.append(Warn(f"Column {label} already exists, skipping"))
    if op.comment is not None and (column is None or column.comment is None):
        steps.append(Run(_comment_sql(table_sql, op.column_name, op.comment)))

    add = f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} CHECK ({check})"
    if existing is None:
        if column is not None and inline:
            steps.append(Run(add))
        elif not inline:
            steps += [Run(f"{add} NOT VALID"), Validate(table_sql, (name,))]
    elif existing.validated:
        steps.append(Warn(f"Constraint {name} on {table.name} already exists, skipping"))
    else:
        steps += [
            Warn(f"Constraint {name} on {table.name} exists but is NOT VALID; validating it"),
            Check.rows(rejected(table, op.column_name, op.values)),
            Validate(table_sql, (name,)),
        ]
    return steps


def _no_rows(table: catalog.TableInfo, op: AddChoiceColumnOp) -> Callable[[Connection], None]:
    """Refuse a NOT NULL column without a default on a table with rows (all would be NULL)."""

    def test(conn: Connection) -> None:
        if preflight.table_has_rows(conn, table.name, schema=table.schema):
            raise ConstraintViolation(
                f"Cannot add {table.name}.{op.column_name} as NOT NULL without a default: "
                f"{table.name} has rows, which would all be NULL.",
                unchanged=True,
                table=table.name,
                column=op.column_name,
                hints=[
                    "Give it a server_default (one of its values),",
                    "or add it nullable, fill it in a data migration, then make it NOT NULL.",
                ],
            )

    return test


@Operations.implementation_for(AddChoiceColumnOp)
def add_choice_column(operations: Operations, op: AddChoiceColumnOp) -> None:
    run = OpRunner(operations)
    if run.offline:
        execute(run, offline_add_choice_column(op))
        return
    table, column, existing = run.require_table_with(
        op.table_name,
        op.schema,
        column=op.column_name,
        constraint=constraint_name(op.table_name, op.column_name),
    )
    execute(run, plan_add_choice_column(op, table, column, existing))


def _compare_column(column: catalog.ColumnInfo, op: AddChoiceColumnOp, label: str) -> None:
    wanted_type = f"character varying({op.length})"
    found_default = None
    if column.default is not None:
        parsed = catalog.parse_literal(column.default)  # '' is a value, not "unparseable"
        found_default = parsed if parsed is not None else f"<{column.default}>"
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


@Operations.implementation_for(DropChoiceColumnOp)
def drop_choice_column(operations: Operations, op: DropChoiceColumnOp) -> None:
    run = OpRunner(operations)
    table_sql = qualified(op.table_name, op.schema)
    name = constraint_name(op.table_name, op.column_name)
    if not run.offline:
        table, column, check = run.require_table_with(
            op.table_name, op.schema, column=op.column_name, constraint=name
        )
        if column is None:
            logs.warn(f"Column {table.name}.{op.column_name} does not exist, skipping")
            return
        if check is None:
            operations.drop_column(op.table_name, op.column_name, schema=op.schema)
            return
    run.run(f"ALTER TABLE {table_sql} DROP CONSTRAINT {ident(name)}")
    operations.drop_column(op.table_name, op.column_name, schema=op.schema)
