"""The one scratch-database helper: what tests, harness, plan and bench rely on."""

from __future__ import annotations

from psycopg2 import sql

from conventions.harness.scratch import DatabaseFactory, ScratchServer, connect, url_text


def _rows(url) -> list[tuple[int]]:
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT n FROM kept ORDER BY n")
            return cur.fetchall()
    finally:
        conn.close()


def test_a_clone_carries_the_template_and_is_dropped_after_the_block(
    db_factory: DatabaseFactory,
) -> None:
    template = db_factory.create(prefix="tpl_scratch")
    try:
        conn = connect(template)
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE kept (n int)")
            cur.execute("INSERT INTO kept VALUES (1), (2)")
        conn.close()
        with db_factory.scratch(template=template.database, prefix="t_scratch") as url:
            assert str(url.database).startswith("t_scratch_")
            assert _rows(url) == [(1,), (2,)]
        assert not db_factory.exists(str(url.database))
    finally:
        db_factory.drop(url_text(template))  # a URL string drops too
    assert not db_factory.exists(str(template.database))


def test_the_factory_holds_no_session_between_statements(db_factory: DatabaseFactory) -> None:
    """A long-lived factory must not hold a session a test could kill or count."""
    url = db_factory.create()
    try:
        conn = connect(db_factory.admin)
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = 'postgres' AND pid <> pg_backend_pid()"
                " AND query LIKE 'CREATE DATABASE%%'"
            )
            assert cur.fetchone() == (0,)
        conn.close()
    finally:
        db_factory.drop(url)


def test_a_server_drops_what_it_owns_on_close_and_keeps_the_rest(
    db_factory: DatabaseFactory,
) -> None:
    server = ScratchServer(db_factory.base, prefix="t_scratch_close")
    owned = server.create(label="mine")
    shared = server.create(label="shared", owned=False)
    try:
        with server.clone(None, label="block") as block:
            assert server.exists(str(block.database))
        assert not server.exists(str(block.database))
        server.close()
        assert not db_factory.exists(str(owned.database))
        assert db_factory.exists(str(shared.database))
    finally:
        db_factory.drop(shared)


def test_a_database_name_is_quoted_whatever_it_holds(db_factory: DatabaseFactory) -> None:
    server = ScratchServer(db_factory.base)
    url = server.create(name='odd "name"; x')
    try:
        conn = connect(url)
        with conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT current_database()"))
            assert cur.fetchone() == ('odd "name"; x',)
        conn.close()
    finally:
        server.close()
    assert not db_factory.exists('odd "name"; x')
