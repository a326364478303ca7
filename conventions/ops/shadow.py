"""Let PostgreSQL normalise a definition, so "identical" means what the server thinks.

``pg_get_constraintdef`` and ``pg_get_indexdef`` print PostgreSQL's own form of an
expression (casts, parentheses, ``= ANY (ARRAY[…])``), not the text a migration
wrote; no client-side rewriting reproduces that reliably. A *shadow* — a temporary,
empty copy of the table's columns, created inside a savepoint that is always rolled
back — lets the server print the wanted definition in its own form for comparison.

Only used on the rare path where an object of that name already exists, online.
``CREATE TEMPORARY TABLE … (LIKE t)`` takes ACCESS SHARE on ``t``: it blocks nobody.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from conventions.db import catalog


@contextmanager
def shadow_of(conn: Connection, table_sql: str, *, create_sql: str | None = None) -> Iterator[str]:
    """Yield the name of an empty temp table shaped like ``table_sql``.

    By default it copies the live table's columns (``LIKE``); given ``create_sql``
    (the CREATE TABLE a migration would run for ``table_sql``) it is that table.
    """
    name = f"house_shadow_{uuid.uuid4().hex[:12]}"
    if create_sql is None:
        ddl = f"CREATE TEMPORARY TABLE {name} (LIKE {table_sql} INCLUDING DEFAULTS)"
    else:
        head = f"CREATE TABLE {table_sql} ("
        if not create_sql.startswith(head):
            raise ValueError(f"expected {head!r} at the start of {create_sql[:80]!r}")
        ddl = f"CREATE TEMPORARY TABLE {name} (" + create_sql[len(head) :]
    savepoint = conn.begin_nested()
    try:
        conn.exec_driver_sql(ddl.replace("%", "%%"))
        yield name
    finally:
        savepoint.rollback()


def retarget_index(create_sql: str, on_sql: str, shadow: str) -> str:
    """Point a CREATE INDEX statement written for ``ON <on_sql>`` at the shadow."""
    head, sep, tail = create_sql.partition(f" ON {on_sql} ")
    if not sep:
        raise ValueError(f"cannot find 'ON {on_sql}' in {create_sql!r}")
    return f"{head} ON {shadow} {tail}"


def normalised_check(conn: Connection, table_sql: str, condition_sql: str) -> str:
    """Return ``CHECK (…)`` as PostgreSQL would print ``condition_sql`` on that table."""
    with shadow_of(conn, table_sql) as shadow:
        add = f"ALTER TABLE {shadow} ADD CONSTRAINT house_shadow_check CHECK ({condition_sql})"
        conn.exec_driver_sql(add.replace("%", "%%"))
        row = conn.exec_driver_sql(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %(rel)s::regclass AND conname = 'house_shadow_check'",
            {"rel": shadow},
        ).one()
    return str(row[0])


def check_columns(conn: Connection, table_sql: str, condition_sql: str) -> tuple[str, ...]:
    """Return the columns ``CHECK (condition_sql)`` reads on that table, as the server parses it.

    What a failed preflight shows as sample values; asked on the adding path only. A
    condition the shadow cannot take (one naming the table, ``orders.amount > 0``)
    gives no columns: the preflight then counts without samples.
    """
    try:
        with shadow_of(conn, table_sql) as shadow:
            add = f"ALTER TABLE {shadow} ADD CONSTRAINT house_shadow_check CHECK ({condition_sql})"
            conn.exec_driver_sql(add.replace("%", "%%"))
            oid = conn.exec_driver_sql(
                "SELECT %(rel)s::regclass::oid", {"rel": shadow}
            ).scalar_one()
            return catalog.constraint_columns(conn, int(oid), "house_shadow_check")
    except DBAPIError:  # the savepoint is rolled back: the migration's transaction goes on
        return ()


def normalised_index(conn: Connection, table_sql: str, create_sql: str, on_sql: str) -> str:
    """Return the ``USING …`` part of ``pg_get_indexdef`` for ``create_sql`` on a shadow.

    ``create_sql`` is the CREATE INDEX statement for the real table, whose
    ``ON <table>`` text is ``on_sql``; it is pointed at the shadow instead.
    """
    with shadow_of(conn, table_sql) as shadow:
        conn.exec_driver_sql(retarget_index(create_sql, on_sql, shadow).replace("%", "%%"))
        row = conn.exec_driver_sql(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %(rel)s::regclass",
            {"rel": shadow},
        ).one()
    definition = str(row[0])
    return definition[definition.index(" USING ") + 1 :]
