"""One name shortening (in bytes) and one way to sample offending rows, on a real server.

PostgreSQL cuts identifiers at 63 *bytes*; a generated name the tooling must find
again has to be the name PostgreSQL stores, so each case creates the object and reads
its name back from ``pg_catalog``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import CheckConstraint, Column, Integer, MetaData, Table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateTable

from conventions.db import catalog, preflight
from conventions.db.sqltext import MAX_IDENTIFIER, fit_name, ident, numbered
from conventions.naming import NAMING_CONVENTION
from conventions.runtime.archive import archive_name
from conventions.runtime.explain import explain
from conventions.runtime.limits import Limits
from tests.ops_harness import sql

NAMES = [
    "ck_" + "ö" * 40,  # 83 bytes, 43 characters: SQLAlchemy would not shorten it
    "ck_" + "x" * 70,  # plain ASCII over the limit
    "ck_" + "日本" * 15,  # 3-byte characters: the cut must not split one
    "ck_" + "a" * 54 + "é" * 5,  # the 55-byte cut falls inside a 2-byte character
    "ck_" + "ö" * 30,  # 63 bytes exactly: kept as it is
]


@pytest.mark.parametrize("name", NAMES)
def test_fit_name_is_the_name_postgresql_stores(engine: Engine, name: str) -> None:
    fitted = fit_name(name)
    assert len(fitted.encode("utf-8")) <= MAX_IDENTIFIER
    assert fitted == name or fitted.endswith("_" + fitted[-4:])
    sql(engine, f"CREATE TABLE t (n int, CONSTRAINT {ident(fitted)} CHECK (n > 0))")
    stored = sql(engine, "SELECT conname::text FROM pg_constraint WHERE conrelid = 't'::regclass")
    assert stored == [(fitted,)]


def test_fit_name_keeps_two_long_names_apart(engine: Engine) -> None:
    first, second = fit_name("ck_" + "ö" * 40 + "_a"), fit_name("ck_" + "ö" * 40 + "_b")
    assert first != second
    sql(engine, f"CREATE TABLE t (n int, CONSTRAINT {ident(first)} CHECK (n > 0))")
    sql(engine, f"ALTER TABLE t ADD CONSTRAINT {ident(second)} CHECK (n > 1)")  # no clash


def test_fit_name_agrees_with_sqlalchemy_for_ascii_names() -> None:
    """The models' naming convention and the house ops must produce the same name."""
    table_name = "a_table_name_long_enough_that_the_check_name_runs_over_the_limit"
    table = Table(
        table_name,
        MetaData(naming_convention=NAMING_CONVENTION),
        Column("amount", Integer),
        CheckConstraint("amount > 0", name="positive_amount"),
    )
    ddl = str(CreateTable(table).compile(dialect=postgresql.dialect()))
    wanted = fit_name(f"ck_{table_name}_positive_amount")
    assert len(f"ck_{table_name}_positive_amount") > MAX_IDENTIFIER
    assert f"CONSTRAINT {wanted} CHECK" in ddl


def test_archive_names_are_fitted_and_numbered_in_bytes(engine: Engine) -> None:
    table, column = "ö" * 25, "ü" * 10  # 50 + 20 bytes + revision: over the limit
    first = archive_name(table, column, "c4d8e2a61b29", set())
    second = archive_name(table, column, "c4d8e2a61b29", {first})
    assert second == numbered(first, 2) and second.endswith("_2")
    for name in (first, second):
        assert len(name.encode("utf-8")) <= MAX_IDENTIFIER
        sql(engine, f"CREATE TABLE {ident(name)} ()")
    stored = sql(engine, "SELECT relname::text FROM pg_class WHERE relname LIKE 'ö%' ORDER BY 1")
    assert sorted([(first,), (second,)]) == stored


def _order_lines(engine: Engine, *rows: str) -> None:
    """A table keyed by two columns, ``(order_id, line)``, holding ``rows``."""
    sql(
        engine,
        "CREATE TABLE lines (order_id int, line int, note text, PRIMARY KEY (order_id, line));"
        f" INSERT INTO lines VALUES {', '.join(rows)}",
    )


def test_offenders_show_every_primary_key_column(engine: Engine) -> None:
    _order_lines(engine, "(7, 1, 'x')", "(7, 2, NULL)", "(9, 1, NULL)", "(9, 3, NULL)")
    with engine.connect() as conn:
        oid = catalog.table(conn, "lines").oid  # type: ignore[union-attr]
        key = catalog.primary_key(conn, oid)
        found = preflight.offenders(conn, "lines", "note IS NULL", shown=key)
    assert key == ("order_id", "line")
    assert found.count == 3
    assert found.samples == ("(7,2)", "(9,1)", "(9,3)")


def test_a_not_null_violation_names_rows_by_their_whole_key(engine: Engine) -> None:
    """The error after the fact samples rows exactly as the preflight does."""
    _order_lines(engine, "(7, 1, 'x')", "(7, 2, NULL)", "(9, 1, NULL)")
    with engine.connect() as conn:
        with pytest.raises(DBAPIError) as failed:
            with conn.begin():
                conn.execute(text("ALTER TABLE lines ALTER COLUMN note SET NOT NULL"))
        err = explain(failed.value, "r1", connection=conn, limits=Limits())
    assert err.count == 2  # type: ignore[attr-defined]
    assert err.samples == ("(7,2)", "(9,1)")  # type: ignore[attr-defined]
    assert "2 existing row(s) offend, e.g. '(7,2)', '(9,1)'" in str(err)
    assert sql(engine, "SELECT count(*) FROM lines WHERE note IS NULL") == [(2,)]


def test_offenders_without_a_primary_key_fall_back_to_ctid(engine: Engine) -> None:
    sql(engine, "CREATE TABLE bare (n int); INSERT INTO bare VALUES (NULL), (1)")
    with engine.connect() as conn:
        found = preflight.offenders(conn, "bare", "n IS NULL", shown=())
    assert found.count == 1 and found.samples == ("(0,1)",)
