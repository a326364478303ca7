"""How add_choice_column and drop_choice_column run (``toimpl`` for ``operations.choice``).

Each implementation first decides everything from the catalog — what exists, whether
it is identical, whether the data allows the change — and raises before its first
statement; only then does it emit DDL. Offline there is no catalog, so it prints the
DDL for the usual case: an existing, possibly busy table.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic.operations import Operations

from conventions import logs
from conventions.choice import constraint_name
from conventions.db import catalog, preflight
from conventions.db.sqltext import ident, literal, literal_list, qualified
from conventions.errors import ConstraintViolation, DefinitionConflict
from conventions.operations.choice import AddChoiceColumnOp, DropChoiceColumnOp
from conventions.ops.runner import OpRunner


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


def preflight_values(
    run: OpRunner, table: catalog.TableInfo, column: str, values: Sequence[str]
) -> None:
    rejected(table, column, values).check(run.conn)


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


@Operations.implementation_for(AddChoiceColumnOp)
def add_choice_column(operations: Operations, op: AddChoiceColumnOp) -> None:
    run = OpRunner(operations)
    table_sql = qualified(op.table_name, op.schema)
    name = constraint_name(op.table_name, op.column_name)
    check = check_sql(op.column_name, op.values)
    if run.offline:
        run.run(f"ALTER TABLE {table_sql} ADD COLUMN {_column_sql(op)}")
        if op.comment is not None:
            run.run(_comment_sql(table_sql, op.column_name, op.comment))
        run.run(f"ALTER TABLE {table_sql} ADD CONSTRAINT {ident(name)} CHECK ({check}) NOT VALID")
        run.validate(table_sql, [name])
        return

    table, column, existing = run.require_table_with(
        op.table_name, op.schema, column=op.column_name, constraint=name
    )
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
    if column is None and not op.nullable and op.server_default is None:
        if preflight.table_has_rows(run.conn, table.name, schema=table.schema):
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
        preflight_values(run, table, op.column_name, op.values)  # half-applied: data first

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
        preflight_values(run, table, op.column_name, op.values)
        run.validate(table_sql, [name])


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
