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
(``conventions.runtime.archive_store``). Upgrades that drop things are deliberate,
reviewed changes and are not archived.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from alembic.operations import Operations, ops, toimpl
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from conventions import logs
from conventions.db import catalog
from conventions.db.sqltext import clip_bytes, fit_name, ident, numbered, qualified
from conventions.errors import ArchiveError
from conventions.history.schema import ARCHIVE_INDEX, ARCHIVE_SCHEMA
from conventions.runtime.recorder import ensure_tables

# How an archive column kept as text records the type it came from.
TYPE_NOTE = "original type: "
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
    """Return ``<table>__<column>__<revision>`` (or ``<table>__<revision>``), unique, ≤63 bytes.

    Sized in bytes: PostgreSQL cuts identifiers at 63 bytes, so a name sized in
    characters (30 × 'ö') was stored cut, never found in ``taken`` again, and the next
    downgrade of the same revision failed with "already exists".
    """
    parts = [table, column, revision] if column else [table, revision]
    base = fit_name("__".join(parts))
    name, n = base, 1
    while name in taken:
        n += 1
        name = numbered(base, n)
    return name


@dataclass(frozen=True)
class _Relation:
    """The relation a DROP will remove, as the catalog names it."""

    oid: int
    schema: str
    name: str
    force_rls: bool


def find_relation(connection: Connection, schema: str | None, table: str) -> _Relation | None:
    """Resolve ``table`` exactly as the DROP will: qualified, or through the search path.

    Looking it up in ``current_schema()`` missed a table in ``public`` whenever the
    role had a schema of its own (``"$user"`` first in the path): nothing was archived
    and the DROP, resolving through the whole path, removed the data.
    """
    found = catalog.table(connection, table, schema=schema)
    if found is None:
        return None
    force_rls = catalog.forces_row_security(connection, found.oid)
    return _Relation(found.oid, found.schema, found.name, force_rls)


def _columns(connection: Connection, oid: int) -> list[catalog.ColumnInfo]:
    return list(catalog.columns(connection, oid).values())


def _selected(connection: Connection, column: catalog.ColumnInfo) -> str:
    """Select a column so the archive does not depend on its type (which a downgrade may drop).

    A value of a domain, enum or composite is kept as its text; the type's name is
    recorded on the archive column, and restore casts back to the column's type then.
    """
    quoted = ident(column.name)
    return f"CAST({quoted} AS text) AS {quoted}" if column.own_type else quoted


def _taken(connection: Connection) -> set[str]:
    rows = connection.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": ARCHIVE_SCHEMA}
    )
    return set(rows.scalars())


@contextmanager
def every_row(
    connection: Connection, relation: _Relation, *, restoring: bool = False
) -> Iterator[None]:
    """Let the copy read (or the restore write) every row, or fail: never a policy's subset.

    Only the table's owner (or a superuser) can drop it; the owner bypasses row-level
    security unless it is FORCEd, so FORCE is lifted for the copy (in the drop's own
    transaction, restored after). ``row_security = off`` turns any policy that still
    applies into an error instead of a silently shorter archive. A restore needs the
    same: a policy would hide rows from its UPDATE and refuse its INSERT of other
    tenants' rows.
    """
    table = qualified(relation.name, relation.schema)
    if relation.force_rls:
        connection.execute(text(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"))
    previous = connection.execute(text("SELECT current_setting('row_security')")).scalar()
    connection.execute(text("SELECT set_config('row_security', 'off', true)"))
    try:
        yield
    except DBAPIError as err:
        if "row-level security" not in str(err.orig):
            raise
        doing, rest = (
            ("restore into", "restoring only the visible ones would leave the rest out")
            if restoring
            else ("archive", "archiving only the visible ones would lose the rest")
        )
        outcome = "Nothing was restored." if restoring else "Nothing was dropped."
        raise ArchiveError(
            f"Cannot {doing} {relation.schema}.{relation.name}"
            f"{'' if restoring else ' before dropping it'}: row-level security hides some of "
            f"its rows from this user, and {rest}. {outcome}",
            name=relation.name,
            hints=[
                f"Run the {'restore' if restoring else 'downgrade'} as the table's owner, a "
                "superuser or a role with BYPASSRLS.",
            ],
        ) from err
    connection.execute(text("SELECT set_config('row_security', :v, true)"), {"v": previous})
    if relation.force_rls:
        connection.execute(text(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))


def _copy(
    connection: Connection,
    *,
    relation: _Relation,
    column: str | None,
    keys: list[str],
    columns: list[catalog.ColumnInfo],
    revision: str,
) -> tuple[str, int]:
    ensure_tables(connection)
    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {ARCHIVE_SCHEMA}"))
    name = archive_name(relation.name, column, revision, _taken(connection))
    target = qualified(name, ARCHIVE_SCHEMA)
    source = qualified(relation.name, relation.schema)
    select = ", ".join(_selected(connection, c) for c in columns)
    rows = connection.execute(text(f"CREATE TABLE {target} AS SELECT {select} FROM {source}"))
    count = rows.rowcount
    what = f"{relation.schema}.{relation.name}" + (f".{column}" if column else "")
    note = f"Data of {what} dropped by the downgrade of {revision}; see migration_meta.archives."
    connection.execute(text(f"COMMENT ON TABLE {target} IS :note"), {"note": note})
    for kept in columns:
        if kept.own_type:
            connection.execute(
                text(f"COMMENT ON COLUMN {target}.{ident(kept.name)} IS :note"),
                {"note": f"{TYPE_NOTE}{kept.type}"},
            )
    connection.execute(
        text(
            f"INSERT INTO {ARCHIVE_INDEX} (archive_table, source_schema, source_table,"
            " source_column, key_columns, revision, row_count)"
            " VALUES (:name, :schema, :table, :column, :keys, :revision, :rows)"
        ),
        {
            "name": name,
            "schema": relation.schema,
            "table": relation.name,
            "column": column,
            "keys": keys,
            "revision": revision,
            "rows": count,
        },
    )
    return name, count


def _archive_column(connection: Connection, op: ops.DropColumnOp, revision: str) -> None:
    relation = find_relation(connection, op.schema, op.table_name)
    if relation is None:
        return  # nothing to keep; the drop itself reports a missing table
    present = _columns(connection, relation.oid)
    wanted = clip_bytes(op.column_name)
    dropped = next((c for c in present if c.name == wanted), None)
    if dropped is None:
        return  # the drop itself reports a missing column
    source = qualified(relation.name, relation.schema)
    column = ident(dropped.name)
    with every_row(connection, relation):
        filled = connection.execute(
            text(f"SELECT count(*) FROM {source} WHERE {column} IS NOT NULL")
        ).scalar()
        if not filled:
            return
        keys = [k for k in list(catalog.primary_key(connection, relation.oid)) if k != dropped.name]
        by_name = {c.name: c for c in present}
        # Without a primary key there is nothing to join back on: keep whole rows.
        kept = [by_name[k] for k in keys] + [dropped] if keys else present
        name, rows = _copy(
            connection,
            relation=relation,
            column=dropped.name,
            keys=keys,
            columns=kept,
            revision=revision,
        )
    logs.warn(
        f"Archived {relation.name}.{dropped.name} before dropping it: {rows} row(s), "
        f"{filled} non-NULL, into {ARCHIVE_SCHEMA}.{name}. "
        f"Restore after upgrading again: python -m conventions archive restore {name}"
    )


def _archive_table(connection: Connection, op: ops.DropTableOp, revision: str) -> None:
    relation = find_relation(connection, op.schema, op.table_name)
    if relation is None:
        return
    source = qualified(relation.name, relation.schema)
    with every_row(connection, relation):
        if not connection.execute(text(f"SELECT EXISTS (SELECT 1 FROM {source})")).scalar():
            return
        name, rows = _copy(
            connection,
            relation=relation,
            column=None,
            keys=list(catalog.primary_key(connection, relation.oid)),
            columns=_columns(connection, relation.oid),
            revision=revision,
        )
    logs.warn(
        f"Archived table {relation.name} before dropping it: {rows} row(s) into "
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
