"""``op.change_column_type``: in place when PostgreSQL needs no rewrite, else refused with steps.

``ALTER COLUMN … TYPE`` holds ACCESS EXCLUSIVE for as long as it takes; when the old
type is binary-coercible into the new one (widening a VARCHAR, VARCHAR → TEXT, more
numeric precision) that is an instant, otherwise PostgreSQL rewrites the table and
every index. The choice made here, on purpose: the op does the instant change, and
the rewrite on a table small enough to be harmless (``threshold_rows``) or created in
this migration; on a busy table it refuses and writes out the expand/contract steps.
Automating the swap was judged unsafe: it renames columns under the running
application and must recreate every index, constraint, view, trigger and foreign key
that depends on the column — getting one wrong is worse than the lock it avoids.
"""

from __future__ import annotations

from alembic.operations import Operations

from conventions import logs
from conventions.db import preflight
from conventions.db.sizes import table_size
from conventions.db.sqltext import ident, literal, qualified
from conventions.db.types import in_place
from conventions.errors import UnsafeTypeChange
from conventions.operations.column_type import ChangeColumnTypeOp
from conventions.ops.runner import OpRunner
from conventions.runtime.safety_checks import format_type, sql_of


def steps(op: ChangeColumnTypeOp, wanted: str) -> list[str]:
    """The expand/contract recipe, with this table's names filled in."""
    t, c, new = op.table_name, op.column_name, f"{op.column_name}_new"
    cast = op.using or f"CAST({ident(c)} AS {wanted})"
    return [
        f"migration 1: op.ensure_column({t!r}, sa.Column({new!r}, <{wanted}>)); a trigger "
        f"BEFORE INSERT OR UPDATE setting NEW.{new} := {cast}; "
        f"op.backfill({t!r}, set={{{new!r}: sa.text({cast!r})}}, where={new + ' IS NULL'!r}); "
        f"op.set_not_null / op.add_index(..., postgresql_concurrently=True) on {new} as {c} has",
        f"deploy: the application reads {new} (and still writes {c})",
        f"migration 2: in one short transaction rename {c} → {c}_old and {new} → {c}, drop "
        "the trigger (ACCESS EXCLUSIVE for an instant); deploy code that no longer knows "
        f"{c}_old",
        f"migration 3: op.drop_column({t!r}, '{c}_old')",
    ]


def _unconvertible(run: OpRunner, op: ChangeColumnTypeOp, wanted: str) -> None:
    """Refuse values that will not convert, before any DDL (PostgreSQL 16+ can test them)."""
    if op.using is not None or (run.conn.dialect.server_version_info or (0,)) < (16,):
        return
    column = ident(op.column_name)
    preflight.Rejected(
        table=op.table_name,
        name=op.column_name,
        source=qualified(op.table_name, op.schema),
        where=f"{column} IS NOT NULL AND NOT pg_input_is_valid({column}::text, {literal(wanted)})",
        shown=(op.column_name,),
        why=f"hold values that are not valid {wanted}",
        what=f"change {op.table_name}.{op.column_name} to {wanted}",
        hints=("Fix those values first, or pass using='…' saying how to convert them.",),
    ).check(run.conn)


@Operations.implementation_for(ChangeColumnTypeOp)
def change_column_type(operations: Operations, op: ChangeColumnTypeOp) -> None:
    from conventions.runtime.safety import config

    run = OpRunner(operations)
    wanted = format_type(op.type_)
    table_sql = qualified(op.table_name, op.schema)
    using = f" USING {sql_of(op.using)}" if op.using is not None else ""
    alter = f"ALTER TABLE {table_sql} ALTER COLUMN {ident(op.column_name)} TYPE {sql_of(op.type_)}"
    if run.offline:
        run.run(alter + using)
        return
    table = run.require_table(op.table_name, op.schema)
    current = run.require_column(table, op.column_name).type
    where = f"{table.name}.{op.column_name}"
    if op.using is None and format_type(current) == wanted:
        logs.warn(f"Column {where} is already {wanted}, skipping")
        return
    if op.using is None and in_place(current, wanted):
        run.run(alter)
        logs.done(f"{where}: {current} → {wanted} in place (no rewrite, no scan)")
        return
    threshold = config().threshold_rows
    size = table_size(run.conn, table.oid, name=table.name, schema=table.schema, cap=threshold)
    if not table.created_in_transaction and size.rows > threshold:
        raise UnsafeTypeChange(
            f"Refused to change {where} from {current} to {wanted} ({size.describe()}, over "
            f"the {threshold:,}-row threshold): PostgreSQL would rewrite the table and its "
            "indexes under ACCESS EXCLUSIVE.",
            details=" Not automated (the swap renames columns under the running application "
            "and must recreate what depends on the column); do it in steps:",
            table=table.name,
            column=op.column_name,
            hints=steps(op, wanted),
        )
    _unconvertible(run, op, wanted)
    run.run(alter + using)
    logs.done(f"{where}: {current} → {wanted} by a rewrite of a small table ({size.describe()})")
