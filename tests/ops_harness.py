"""Run house ops the way a migration does, online on a real database or offline as SQL.

``migration(engine)`` is one Alembic migration step: a MigrationContext with
``transaction_per_migration`` and the step's own transaction, so ``autocommit_block``
(the separate VALIDATE transaction) behaves exactly as under ``alembic upgrade``.
``offline(fn)`` is the same step in ``--sql`` mode and returns the script.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Engine

import conventions  # noqa: F401  (registers the house ops)
from conventions.db.sqltext import ident
from conventions.naming import NAMING_CONVENTION


def _opts(**extra: Any) -> dict[str, Any]:
    return {
        "transaction_per_migration": True,
        "target_metadata": MetaData(naming_convention=NAMING_CONVENTION),
        **extra,
    }


@contextmanager
def migration(engine: Engine) -> Iterator[Operations]:
    """Yield ``op`` inside one migration step's transaction (committed on success)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts=_opts())
        with ctx.begin_transaction(_per_migration=True):
            yield Operations(ctx)


def apply(engine: Engine, fn: Callable[[Operations], object]) -> None:
    with migration(engine) as op:
        fn(op)


def offline(fn: Callable[[Operations], object]) -> str:
    """Return the SQL script ``fn`` emits in offline (``--sql``) mode."""
    buf = io.StringIO()
    ctx = MigrationContext.configure(
        dialect_name="postgresql",
        dialect_opts={"paramstyle": "named"},  # as env.py configures --sql runs
        opts=_opts(as_sql=True, output_buffer=buf, literal_binds=True),
    )
    with ctx.begin_transaction(_per_migration=True):
        fn(Operations(ctx))
    return buf.getvalue()


def statements(script: str) -> list[str]:
    """Split an offline script into statements, one line each, without terminators."""
    out = []
    for chunk in script.split(";\n"):
        lines = [line.strip() for line in chunk.strip().splitlines()]
        joined = " ".join(line for line in lines if line)
        if joined:
            out.append(joined.rstrip(";"))
    return out


_DDL = ("ALTER ", "CREATE ", "DROP ", "COMMENT ")


@contextmanager
def recording(engine: Engine) -> Iterator[list[tuple[str, bool]]]:
    """Record every statement sent to the server as (one-line SQL, autocommit?).

    ``autocommit`` True means the statement ran outside any transaction block —
    Alembic's autocommit block — i.e. in a transaction of its own.
    """
    seen: list[tuple[str, bool]] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(
            (" ".join(statement.split()), bool(conn.connection.dbapi_connection.autocommit))
        )

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def ddl(seen: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Only the schema-changing statements of a recording (catalog reads left out)."""
    return [(s, auto) for s, auto in seen if s.startswith(_DDL) and "house_shadow" not in s]


def sql(engine: Engine, statement: str, **params: Any) -> list[tuple]:
    with engine.begin() as conn:
        result = conn.execute(text(statement), params)
        return [tuple(r) for r in result] if result.returns_rows else []


def snapshot(engine: Engine, table: str) -> dict[str, Any]:
    """Everything a failed op must leave untouched: columns, constraints, indexes, rows."""
    rel = {"t": table}
    return {
        "columns": sql(
            engine,
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull,"
            " pg_get_expr(d.adbin, d.adrelid), col_description(attrelid, attnum)"
            " FROM pg_attribute a LEFT JOIN pg_attrdef d"
            " ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " WHERE attrelid = to_regclass(quote_ident(:t)) AND attnum > 0 AND NOT attisdropped"
            " ORDER BY attnum",
            **rel,
        ),
        "constraints": sql(
            engine,
            "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint"
            " WHERE conrelid = to_regclass(quote_ident(:t)) ORDER BY conname",
            **rel,
        ),
        "indexes": sql(
            engine,
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid), indisvalid"
            " FROM pg_index WHERE indrelid = to_regclass(quote_ident(:t)) ORDER BY 1",
            **rel,
        ),
        "comment": sql(
            engine, "SELECT obj_description(to_regclass(quote_ident(:t)), 'pg_class')", **rel
        ),
        "rows": sql(engine, f"SELECT * FROM {ident(table)} ORDER BY 1")
        if _exists(engine, table)
        else [],
    }


def _exists(engine: Engine, table: str) -> bool:
    return bool(sql(engine, "SELECT to_regclass(quote_ident(:t)) IS NOT NULL", t=table)[0][0])


def checks(engine: Engine, table: str) -> dict[str, tuple[str, bool]]:
    """CHECK constraints of ``table``: name -> (definition, validated)."""
    rows = sql(
        engine,
        "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint"
        " WHERE conrelid = to_regclass(quote_ident(:t)) AND contype = 'c'",
        t=table,
    )
    return {name: (definition, valid) for name, definition, valid in rows}


@contextmanager
def house_log(caplog: Any) -> Iterator[Any]:
    """Capture the house logger even when a CLI in this process turned propagation off."""
    logger = logging.getLogger("conventions")
    logger.addHandler(caplog.handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(old)


def write_after_preflight(monkeypatch: Any, engine: Engine, *statements: str) -> None:
    """Make another session commit ``statements`` right after the op's clean preflight.

    The race every data preflight has: a writer between the check and the DDL. The
    statements run on their own pooled connection, in their own transaction.
    """
    from conventions.db import preflight

    pending = list(statements)
    real = preflight.Rejected.check

    def check(self: preflight.Rejected, conn: Any) -> None:
        real(self, conn)
        while pending:
            sql(engine, pending.pop(0))

    monkeypatch.setattr(preflight.Rejected, "check", check)
