"""Decide which plain Alembic operations are dangerous, and what to use instead.

Pure decisions: an operation object in, :class:`Finding`\\ s out. Whether a finding
becomes a refusal depends on the live table (size, created in this migration) and on
the settings; :mod:`conventions.runtime.safety` asks those questions. A ``Probe``
answers the few catalog questions a decision needs (is the column already NOT NULL,
what is its type now); offline it has no connection and answers None.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from alembic.operations import ops
from sqlalchemy import Column, Computed, Identity
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.type_api import to_instance

from conventions.db.types import in_place

_DIALECT = postgresql.dialect(paramstyle="named")

EXCLUSIVE = "ACCESS EXCLUSIVE (every read and write waits)"
EXPAND_CONTRACT = (
    "expand/contract: add the new {what} next to the old one, deploy code that writes "
    "both and reads the new one, copy the data with op.backfill, deploy code that uses "
    "only the new one, then drop the old one in a later migration"
)


@dataclass(frozen=True)
class Finding:
    check: str
    operation: str
    table: str
    schema: str | None
    lock: str
    why: str
    instead: str
    size_based: bool = True
    """False: dangerous whatever the size (renames, drops the running app still uses)."""
    sql: str | None = None
    """For ``execute``: the statement, so the planner can estimate the rows it touches."""


class Probe(Protocol):
    def column_type(self, table: str, schema: str | None, column: str) -> str | None: ...

    def column_not_null(self, table: str, schema: str | None, column: str) -> bool | None: ...

    def volatile(self, expression: str) -> list[str]: ...

    def mapped(self, table: str, schema: str | None, column: str | None) -> bool: ...


def sql_of(element: Any) -> str:
    """Return an expression or type as PostgreSQL text (literal values inlined)."""
    if isinstance(element, str):
        return element
    if isinstance(element, ClauseElement):
        return str(element.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True}))
    return str(element.compile(dialect=_DIALECT))


def format_type(type_: Any) -> str:
    """A SQLAlchemy type as ``format_type`` would print it (``character varying(50)``).

    Alembic takes a type class as well as an instance (``type_=sa.UnicodeText``, common
    in old histories), so a class is instantiated first, as Alembic does.
    """
    text = sql_of(to_instance(type_)).lower().replace(", ", ",")
    text = re.sub(r"^varchar", "character varying", text)
    return {
        "timestamp": "timestamp without time zone",
        "time": "time without time zone",
        "int": "integer",
        "double precision": "double precision",
    }.get(text, text)


def _add_column(op: ops.AddColumnOp, probe: Probe) -> Iterator[Finding]:
    column: Column[Any] = op.column
    label = f"op.add_column({op.table_name!r}, {column.name!r})"
    rewrite = "while it rewrites every row (and rebuilds every index)"
    if isinstance(column.computed, Computed) and column.computed.persisted is not False:
        yield Finding(
            "add_column", label, op.table_name, op.schema, EXCLUSIVE,
            f"{rewrite}: a stored generated column is computed for each existing row",
            "add a plain nullable column, fill it with op.backfill, keep it current from "
            "the application or a trigger",
        )  # fmt: skip
        return
    if isinstance(column.identity, Identity):
        yield Finding(
            "add_column", label, op.table_name, op.schema, EXCLUSIVE,
            f"{rewrite}: an identity column gets a value per existing row",
            "add a nullable bigint column with a sequence default set afterwards "
            "(ALTER COLUMN … SET DEFAULT nextval(…)), fill old rows with op.backfill, "
            "then op.set_not_null",
        )  # fmt: skip
        return
    default = column.server_default
    expression = None
    if default is not None and hasattr(default, "arg"):
        expression = sql_of(default.arg)
    if expression is not None:
        volatile = probe.volatile(expression)
        if volatile:
            yield Finding(
                "add_column", label, op.table_name, op.schema, EXCLUSIVE,
                f"{rewrite}: its default ({expression}) calls volatile "
                f"{', '.join(volatile)}(), evaluated once per existing row",
                f"op.ensure_column({op.table_name!r}, sa.Column({column.name!r}, …, "
                f"server_default=sa.text({expression!r}))) adds it without the default, "
                "sets the default for new rows, fills old rows in batches (op.backfill) "
                "and then sets NOT NULL online when asked",
            )  # fmt: skip
        return
    if column.nullable is False:
        yield Finding(
            "add_column", label, op.table_name, op.schema, EXCLUSIVE,
            "and fails on the first existing row: NOT NULL without a default leaves "
            "existing rows without a value",
            "add it nullable (op.ensure_column), fill it with op.backfill, then "
            "op.set_not_null; or give it a constant server_default (metadata-only since "
            "PostgreSQL 11)",
        )  # fmt: skip


def _alter_column(op: ops.AlterColumnOp, probe: Probe) -> Iterator[Finding]:
    table, schema, column = op.table_name, op.schema, op.column_name
    label = f"op.alter_column({table!r}, {column!r}, …)"
    if op.modify_nullable is False and probe.column_not_null(table, schema, column) is not True:
        yield Finding(
            "set_not_null", label.replace("…", "nullable=False"), table, schema, EXCLUSIVE,
            "while it scans every row for NULLs",
            f"op.set_not_null({table!r}, {column!r}) (CHECK NOT VALID, VALIDATE under "
            "SHARE UPDATE EXCLUSIVE, then SET NOT NULL without a scan)",
        )  # fmt: skip
    if op.modify_type is not None:
        using = op.kw.get("postgresql_using")
        wanted = format_type(op.modify_type)
        current = probe.column_type(table, schema, column)
        if current is None and op.existing_type is not None:
            current = format_type(op.existing_type)  # offline: what the migration says it was
        if using is not None or current is None or not in_place(current, wanted):
            now = f" from {current}" if current else ""
            yield Finding(
                "change_type", label.replace("…", f"type_={wanted}"), table, schema, EXCLUSIVE,
                f"while it rewrites (or re-checks) every row to change the type{now} to "
                f"{wanted}",
                f"op.change_column_type({table!r}, {column!r}, …): in place when PostgreSQL "
                "needs no rewrite, otherwise it refuses with the expand/contract steps",
            )  # fmt: skip
    if op.modify_name is not None:
        yield Finding(
            "rename_column", label.replace("…", f"new_column_name={op.modify_name!r}"),
            table, schema, "ACCESS EXCLUSIVE briefly",
            f"and every running application instance that still reads {column} fails "
            "until it is redeployed",
            EXPAND_CONTRACT.format(what="column"), size_based=False,
        )  # fmt: skip


def _create_index(op: ops.CreateIndexOp, probe: Probe) -> Iterator[Finding]:
    if op.kw.get("postgresql_concurrently"):
        return
    yield Finding(
        "create_index", f"op.create_index({op.index_name!r}, {op.table_name!r}, …)",
        op.table_name, op.schema, "SHARE (every write waits)", "for the whole index build",
        f"op.add_index({op.index_name!r}, {op.table_name!r}, …, postgresql_concurrently=True)",
    )  # fmt: skip


@dataclass(frozen=True)
class _ConstraintRule:
    """A plain ``op.create_*`` constraint: the lock it takes, for how long, the op to use.

    ``check`` is the Alembic op's name (and the finding's); the texts are templates over
    ``name``, ``table``, ``referent`` and ``columns``.
    """

    check: str
    lock: str
    why: str
    instead: str


_CONSTRAINT_RULES: dict[type, _ConstraintRule] = {
    ops.CreateUniqueConstraintOp: _ConstraintRule(
        "create_unique_constraint",
        EXCLUSIVE,
        "for the whole index build",
        "op.add_unique_constraint({name!r}, {table!r}, {columns!r}) "
        "(index built CONCURRENTLY, then ADD CONSTRAINT … USING INDEX)",
    ),
    ops.CreatePrimaryKeyOp: _ConstraintRule(
        "create_primary_key",
        EXCLUSIVE,
        "for the whole index build (and a NOT NULL scan of each nullable key column)",
        "op.add_primary_key({name!r}, {table!r}, {columns!r}) "
        "(NOT NULL online, index built CONCURRENTLY, then ADD CONSTRAINT … USING INDEX)",
    ),
    ops.CreateForeignKeyOp: _ConstraintRule(
        "create_foreign_key",
        "SHARE ROW EXCLUSIVE on {table} and {referent} (writes wait)",
        "while it scans {table} to validate every row",
        "op.add_foreign_key({name!r}, {table!r}, {referent!r}, …) "
        "(NOT VALID, then VALIDATE without blocking writes)",
    ),
    ops.CreateCheckConstraintOp: _ConstraintRule(
        "create_check_constraint",
        EXCLUSIVE,
        "while it scans every row to validate",
        "op.add_check_constraint({name!r}, {table!r}, …) "
        "(NOT VALID, then VALIDATE without blocking writes)",
    ),
}


def _create_constraint(op: Any, probe: Probe) -> Iterator[Finding]:
    """Flag a plain constraint creation: each validates or builds under a heavy lock."""
    rule = _CONSTRAINT_RULES[type(op)]
    if isinstance(op, ops.CreateForeignKeyOp):  # Alembic names its table the source
        table, schema = op.source_table, op.kw.get("source_schema")
    else:
        table, schema = op.table_name, op.schema
    fields = {
        "name": op.constraint_name,
        "table": table,
        "referent": getattr(op, "referent_table", None),
        "columns": list(getattr(op, "columns", ())),
    }
    yield Finding(
        rule.check,
        f"op.{rule.check}({op.constraint_name!r}, {table!r}, …)",
        table,
        schema,
        rule.lock.format(**fields),
        rule.why.format(**fields),
        rule.instead.format(**fields),
    )


def _rename_table(op: ops.RenameTableOp, probe: Probe) -> Iterator[Finding]:
    yield Finding(
        "rename_table", f"op.rename_table({op.table_name!r}, {op.new_table_name!r})",
        op.table_name, op.schema, "ACCESS EXCLUSIVE briefly",
        f"and every running application instance that still uses {op.table_name} fails "
        "until it is redeployed",
        "expand/contract: create the new table (or rename and leave a view with the old "
        "name for one release), move readers and writers over, then drop the old name in "
        "a later migration",
        size_based=False,
    )  # fmt: skip


def _drop_column(op: ops.DropColumnOp, probe: Probe) -> Iterator[Finding]:
    if not probe.mapped(op.table_name, op.schema, op.column_name):
        return
    yield Finding(
        "drop_column", f"op.drop_column({op.table_name!r}, {op.column_name!r})",
        op.table_name, op.schema, "ACCESS EXCLUSIVE briefly",
        f"while the models still map {op.table_name}.{op.column_name}: every running "
        "instance selects it and fails",
        "remove the column from the models (or mark it deferred/unused) and deploy that "
        "first; drop it in a later migration",
        size_based=False,
    )  # fmt: skip


def _drop_table(op: ops.DropTableOp, probe: Probe) -> Iterator[Finding]:
    if not probe.mapped(op.table_name, op.schema, None):
        return
    yield Finding(
        "drop_table", f"op.drop_table({op.table_name!r})", op.table_name, op.schema,
        "ACCESS EXCLUSIVE briefly",
        f"while the models still map {op.table_name}: every running instance that "
        "uses it fails",
        "remove the model and deploy that first; drop the table in a later migration",
        size_based=False,
    )  # fmt: skip


_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
_DML = re.compile(
    r"^\s*(?:--[^\n]*\n\s*)*(?:UPDATE\s+(?:ONLY\s+)?|DELETE\s+FROM\s+(?:ONLY\s+)?)"
    rf"(?:({_NAME})\s*\.\s*)?({_NAME})",
    re.IGNORECASE,
)


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()


def dml_target(sql: str) -> tuple[str, str | None] | None:
    """Return (table, schema) an UPDATE/DELETE statement changes, or None for other SQL."""
    match = _DML.match(sql)
    if match is None:
        return None
    schema, table = match.group(1), match.group(2)
    return _unquote(table), (_unquote(schema) if schema else None)


def _execute(op: ops.ExecuteSQLOp, probe: Probe) -> Iterator[Finding]:
    text = op.sqltext
    if not isinstance(text, str | ClauseElement) or type(text).__name__ == "DDL":
        return
    try:
        sql = sql_of(text)
    except Exception:  # unbound parameters: nothing to estimate with
        return
    target = dml_target(sql)
    if target is None:
        return
    verb = sql.lstrip().split(None, 1)[0].upper()
    yield Finding(
        "execute_dml", f"op.execute({verb} {target[0]} …)", target[0], target[1],
        "a row lock on every row it touches",
        "until the migration's transaction commits: writers to those rows wait, and one "
        "huge transaction bloats the table and makes replicas lag",
        f"op.backfill({target[0]!r}, set={{…}}, where=…) (keyset batches, each its own short "
        "transaction, resumable)" if verb == "UPDATE" else
        "delete in keyset batches of a few thousand rows, each its own transaction",
        sql=sql,
    )  # fmt: skip


CHECKS: dict[type, Callable[[Any, Probe], Iterator[Finding]]] = {
    ops.AddColumnOp: _add_column,
    ops.AlterColumnOp: _alter_column,
    ops.CreateIndexOp: _create_index,
    **dict.fromkeys(_CONSTRAINT_RULES, _create_constraint),
    ops.RenameTableOp: _rename_table,
    ops.DropColumnOp: _drop_column,
    ops.DropTableOp: _drop_table,
    ops.ExecuteSQLOp: _execute,
}


def findings(operation: Any, probe: Probe) -> list[Finding]:
    """Return what is dangerous about ``operation`` (empty for a safe or unknown one)."""
    check = CHECKS.get(type(operation))
    return list(check(operation, probe)) if check is not None else []
