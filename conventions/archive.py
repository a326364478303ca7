"""Rollback never silently loses data: a downgrade archives what it drops.

Design (chosen over "refuse unless confirmed", which blocks an emergency rollback
at the worst moment): Alembic's own implementations of ``DropColumnOp`` and
``DropTableOp`` are replaced, so every ``op.drop_column`` / ``op.drop_table`` —
and every house helper built on ``operations.drop_column`` — runs through here.
During a *downgrade* step, a column holding at least one non-NULL value, or a
table holding at least one row, is first copied into the ``migration_archive``
schema (a column with the table's primary key, so it can be put back), in the same
transaction as the drop: if the downgrade fails, neither happened. Each copy is
listed in ``migration_meta.archives`` and logged with its row count;
``python -m conventions archive list|restore|purge`` manage them
(``conventions.archive_store``). Upgrades that drop things are deliberate,
reviewed changes and are not archived.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from alembic.operations import Operations, ops, toimpl
from sqlalchemy import text
from sqlalchemy.engine import Connection

from conventions import logs
from conventions.history import ARCHIVE_INDEX, ARCHIVE_SCHEMA
from conventions.recorder import ensure_tables

_MAX_IDENT = 63
_downgrading: ContextVar[str | None] = ContextVar("downgrading_revision", default=None)
_Drop = TypeVar("_Drop", ops.DropColumnOp, ops.DropTableOp)


@contextmanager
def downgrade_of(revision: str) -> Iterator[None]:
    """Mark the ops run inside as part of the downgrade of ``revision``."""
    token = _downgrading.set(revision)
    try:
        yield
    finally:
        _downgrading.reset(token)


def archive_name(table: str, column: str | None, revision: str, taken: set[str]) -> str:
    """Return ``<table>__<column>__<revision>`` (or ``<table>__<revision>``), unique, ≤63."""
    parts = [table, column, revision] if column else [table, revision]
    base = "__".join(parts)
    if len(base) > _MAX_IDENT:
        digest = hashlib.sha1(base.encode()).hexdigest()[:8]
        base = f"{base[: _MAX_IDENT - 10]}__{digest}"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base[: _MAX_IDENT - len(str(n)) - 1]}_{n}"
    return name


def quote(connection: Connection, *names: str) -> str:
    preparer = connection.dialect.identifier_preparer
    return ".".join(preparer.quote_identifier(name) for name in names)


def _schema(connection: Connection, schema: str | None) -> str:
    return schema or str(connection.execute(text("SELECT current_schema()")).scalar())


def _relation(connection: Connection, schema: str, table: str) -> int | None:
    query = text("SELECT to_regclass(format('%I.%I', CAST(:s AS text), CAST(:t AS text)))::oid")
    return connection.execute(query, {"s": schema, "t": table}).scalar()


def primary_key(connection: Connection, oid: int) -> list[str]:
    rows = connection.execute(
        text(
            "SELECT a.attname FROM pg_index i"
            " JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n) ON true"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
            " WHERE i.indrelid = :oid AND i.indisprimary ORDER BY k.n"
        ),
        {"oid": oid},
    )
    return list(rows.scalars())


def _has_column(connection: Connection, oid: int, column: str) -> bool:
    query = text(
        "SELECT 1 FROM pg_attribute WHERE attrelid = :oid AND attname = :c"
        " AND attnum > 0 AND NOT attisdropped"
    )
    return connection.execute(query, {"oid": oid, "c": column}).first() is not None


def _taken(connection: Connection) -> set[str]:
    rows = connection.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": ARCHIVE_SCHEMA}
    )
    return set(rows.scalars())


def _copy(
    connection: Connection,
    *,
    schema: str,
    table: str,
    column: str | None,
    keys: list[str],
    select: str,
    revision: str,
) -> tuple[str, int]:
    ensure_tables(connection)
    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {ARCHIVE_SCHEMA}"))
    name = archive_name(table, column, revision, _taken(connection))
    target = quote(connection, ARCHIVE_SCHEMA, name)
    rows = connection.execute(text(f"CREATE TABLE {target} AS {select}")).rowcount
    what = f"{schema}.{table}" + (f".{column}" if column else "")
    note = f"Data of {what} dropped by the downgrade of {revision}; see migration_meta.archives."
    connection.execute(text(f"COMMENT ON TABLE {target} IS :note"), {"note": note})
    connection.execute(
        text(
            f"INSERT INTO {ARCHIVE_INDEX} (archive_table, source_schema, source_table,"
            " source_column, key_columns, revision, row_count)"
            " VALUES (:name, :schema, :table, :column, :keys, :revision, :rows)"
        ),
        {
            "name": name,
            "schema": schema,
            "table": table,
            "column": column,
            "keys": keys,
            "revision": revision,
            "rows": rows,
        },
    )
    return name, rows


def _archive_column(connection: Connection, op: ops.DropColumnOp, revision: str) -> None:
    schema = _schema(connection, op.schema)
    oid = _relation(connection, schema, op.table_name)
    if oid is None or not _has_column(connection, oid, op.column_name):
        return  # nothing to keep; the drop itself reports a missing table or column
    source = quote(connection, schema, op.table_name)
    column = quote(connection, op.column_name)
    filled = connection.execute(
        text(f"SELECT count(*) FROM {source} WHERE {column} IS NOT NULL")
    ).scalar()
    if not filled:
        return
    keys = [k for k in primary_key(connection, oid) if k != op.column_name]
    # Without a primary key there is nothing to join back on: keep whole rows.
    selected = ", ".join(quote(connection, k) for k in keys) + f", {column}" if keys else "*"
    name, rows = _copy(
        connection,
        schema=schema,
        table=op.table_name,
        column=op.column_name,
        keys=keys,
        select=f"SELECT {selected} FROM {source}",
        revision=revision,
    )
    logs.warn(
        f"Archived {op.table_name}.{op.column_name} before dropping it: {rows} row(s), "
        f"{filled} non-NULL, into {ARCHIVE_SCHEMA}.{name}. "
        f"Restore after upgrading again: python -m conventions archive restore {name}"
    )


def _archive_table(connection: Connection, op: ops.DropTableOp, revision: str) -> None:
    schema = _schema(connection, op.schema)
    oid = _relation(connection, schema, op.table_name)
    if oid is None:
        return
    source = quote(connection, schema, op.table_name)
    if not connection.execute(text(f"SELECT EXISTS (SELECT 1 FROM {source})")).scalar():
        return
    name, rows = _copy(
        connection,
        schema=schema,
        table=op.table_name,
        column=None,
        keys=primary_key(connection, oid),
        select=f"TABLE {source}",
        revision=revision,
    )
    logs.warn(
        f"Archived table {op.table_name} before dropping it: {rows} row(s) into "
        f"{ARCHIVE_SCHEMA}.{name}. "
        f"Restore after upgrading again: python -m conventions archive restore {name}"
    )


def _archive_first(
    operations: Operations,
    operation: _Drop,
    what: str,
    archive: Callable[[Connection, _Drop, str], None],
) -> None:
    """During a downgrade, ``archive`` what ``operation`` drops (offline: warn in the SQL)."""
    revision = _downgrading.get()
    if revision is None:
        return
    context = operations.migration_context
    if context.as_sql:
        context.impl.static_output(
            f"-- WARNING: this drops {what} and any data in it. An online downgrade "
            f"(without --sql) archives the data into {ARCHIVE_SCHEMA} first."
        )
    else:
        assert context.connection is not None
        archive(context.connection, operation, revision)


@Operations.implementation_for(ops.DropColumnOp, replace=True)
def drop_column(operations: Operations, operation: ops.DropColumnOp) -> None:
    """Drop a column; during a downgrade, archive its data first."""
    what = f"column {operation.table_name}.{operation.column_name}"
    _archive_first(operations, operation, what, _archive_column)
    toimpl.drop_column(operations, operation)


@Operations.implementation_for(ops.DropTableOp, replace=True)
def drop_table(operations: Operations, operation: ops.DropTableOp) -> None:
    """Drop a table; during a downgrade, archive its rows first."""
    _archive_first(operations, operation, f"table {operation.table_name}", _archive_table)
    toimpl.drop_table(operations, operation)


def downgrading() -> str | None:
    """The revision being downgraded, or None during an upgrade (for the safety check)."""
    return _downgrading.get()
