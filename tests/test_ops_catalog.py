"""The catalog lookups behind every house op, and the CHECK value-set parser."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from conventions.db import catalog
from conventions.db.catalog import ChoiceCheck, parse_choice_check, parse_literal
from conventions.db.sqltext import literal_list
from tests.ops_harness import sql

TRICKY = ["it's", 'say "hi"', "a,b", "back\\slash", "100%", "ünïcødé ✓", " lead", "trail "]
TRICKY += ["x'); DROP TABLE t; --", "(", "]", "ARRAY[", "::text", "\\'", "tab\there", "''"]

# --- the parser -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "column", "values"),
    [
        ("status IN ('a', 'b')", "status", ("a", "b")),
        ("CHECK (status IN ('a','b'))", "status", ("a", "b")),
        ("status = ANY (ARRAY['a', 'b'])", "status", ("a", "b")),
        ("(status)::text = 'a'::text", "status", ("a",)),
        ("s = 'a' OR s = 'b' OR s = 'c'", "s", ("a", "b", "c")),
        ("\"Mixed Case\" IN ('x')", "Mixed Case", ("x",)),
        ('CHECK ((("we""ird")::text = \'x\'::text))', 'we"ird', ("x",)),
        ("Status in ('A')", "status", ("A",)),  # unquoted names fold, values do not
        ("s IN (E'a\\\\b', E'it\\'s', E'\\x41\\u00e9\\n')", "s", ("a\\b", "it's", "Aé\n")),
        (
            "CHECK (((s)::text = ANY ((ARRAY['a'::character varying(20), 'b'::character "
            "varying])::text[])))",
            "s",
            ("a", "b"),
        ),
        (
            "CHECK (((s)::text = ANY (ARRAY[('a'::character varying)::text, "
            "('b'::character varying)::text])))",
            "s",
            ("a", "b"),
        ),
    ],
)
def test_parse_accepts_the_forms_people_and_postgresql_write(
    text: str, column: str, values: tuple[str, ...]
) -> None:
    assert parse_choice_check(text) == ChoiceCheck(column, values, True)


def test_parse_reports_not_valid() -> None:
    found = parse_choice_check("CHECK ((s = ANY (ARRAY['a'::text]))) NOT VALID")
    assert found == ChoiceCheck("s", ("a",), validated=False)


@pytest.mark.parametrize(
    "text",
    [
        "s NOT IN ('a')",
        "NOT (s IN ('a'))",
        "s IN ('a') AND s <> 'b'",
        "s = 'a' OR t = 'b'",
        "lower(s) IN ('a')",
        "s IN (1, 2)",
        "s IN ()",
        "s IN ('a',)",
        "s = ANY ('{a,b}'::text[])",
        "s::int IN ('1')",
        "s IS NULL OR s IN ('a')",
        "",
        "'a' = s",
        "s IN ('unterminated)",
    ],
)
def test_parse_refuses_anything_that_is_not_a_plain_value_set(text: str) -> None:
    assert parse_choice_check(text) is None


def test_parse_literal() -> None:
    assert parse_literal("'pending'::character varying") == "pending"
    assert parse_literal("'it''s'::text") == "it's"
    assert parse_literal("E'a\\\\b'") == "a\\b"
    assert parse_literal("now()") is None
    assert parse_literal("'a'::text || 'b'::text") is None


@pytest.mark.parametrize("standard", [True, False])
def test_parse_reads_back_exactly_what_postgresql_stored(engine: Engine, standard: bool) -> None:
    sql(engine, "CREATE TABLE t (s varchar(40), u text)")
    sql(engine, f"ALTER TABLE t ADD CONSTRAINT ck_s CHECK (s IN ({literal_list(TRICKY)}))")
    sql(engine, f"ALTER TABLE t ADD CONSTRAINT ck_u CHECK (u IN ({literal_list(TRICKY[:1])}))")
    sql(engine, "ALTER TABLE t ALTER COLUMN s TYPE varchar(50)")  # re-deparsed with casts
    setting = "on" if standard else "off"
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SET standard_conforming_strings = {setting}")
        oid = catalog.table(conn, "t")
        assert oid is not None
        for name, column, values in (("ck_s", "s", TRICKY), ("ck_u", "u", TRICKY[:1])):
            found = catalog.constraint(conn, oid.oid, name)
            assert found is not None and found.standard_conforming_strings is standard
            assert found.choice() == ChoiceCheck(column, tuple(values), True)


# --- catalog lookups --------------------------------------------------------------------


def test_table_lookup_and_created_in_this_transaction(engine: Engine) -> None:
    sql(engine, "CREATE TABLE old (id int)")
    with engine.begin() as conn:
        assert catalog.table(conn, "missing") is None
        conn.exec_driver_sql("ALTER TABLE old ADD COLUMN x int")  # rewrites its pg_class row
        old = catalog.table(conn, "old")
        assert old is not None and old.created_in_transaction is False
        conn.exec_driver_sql("CREATE TABLE fresh (id int)")
        fresh = catalog.table(conn, "fresh")
        assert fresh is not None and fresh.created_in_transaction is True
        assert (fresh.name, fresh.schema) == ("fresh", "public")
    with engine.connect() as conn:
        later = catalog.table(conn, "fresh")
        assert later is not None and later.created_in_transaction is False


def test_column_constraint_index_and_comment_lookups(engine: Engine) -> None:
    sql(
        engine,
        "CREATE TABLE t (id int PRIMARY KEY, s varchar(12) NOT NULL DEFAULT 'a', n text,"
        " CONSTRAINT ck_t_s CHECK (s IN ('a', 'b')))",
    )
    sql(engine, "ALTER TABLE t ADD CONSTRAINT ck_t_n CHECK (n <> '') NOT VALID")
    sql(engine, "CREATE UNIQUE INDEX ix_t_n ON t (n) WHERE n IS NOT NULL")
    sql(engine, "COMMENT ON COLUMN t.s IS 'state'")
    sql(engine, "COMMENT ON TABLE t IS 'things'")
    with engine.connect() as conn:
        table = catalog.table(conn, "t")
        assert table is not None
        s = catalog.column(conn, table.oid, "s")
        assert s == catalog.ColumnInfo(
            "s", "character varying(12)", 12, True, True, "'a'::character varying", "state"
        )
        n = catalog.column(conn, table.oid, "n")
        assert n is not None and (n.is_varchar, n.varchar_length) == (False, None)
        assert catalog.column(conn, table.oid, "nope") is None
        assert list(catalog.columns(conn, table.oid)) == ["id", "s", "n"]
        ck = catalog.constraint(conn, table.oid, "ck_t_n")
        assert ck is not None and (ck.kind, ck.validated) == ("c", False)
        assert ck.definition == "CHECK ((n <> ''::text))"
        assert ck.render() == "CHECK ((n <> ''::text)) NOT VALID"
        assert ck.choice() is None
        assert set(catalog.constraints(conn, table.oid)) == {"t_pkey", "ck_t_s", "ck_t_n"}
        ix = catalog.index(conn, "ix_t_n")
        assert ix is not None and (ix.valid, ix.unique, ix.constraint) == (True, True, None)
        assert ix.body == "USING btree (n) WHERE (n IS NOT NULL)"
        assert catalog.index(conn, "t_pkey").constraint == "t_pkey"  # type: ignore[union-attr]
        assert set(catalog.indexes(conn, table.oid)) == {"t_pkey", "ix_t_n"}
        assert catalog.comment(conn, table.oid) == "things"
        assert catalog.comment(conn, table.oid, "s") == "state"


def test_one_lookup_answers_table_column_and_constraint_like_the_three(engine: Engine) -> None:
    sql(engine, "CREATE SCHEMA s2")
    sql(
        engine,
        'CREATE TABLE s2."we%ird ""t""" (id int, "Sta%(x)s" varchar(9) DEFAULT \'a\','
        ' CONSTRAINT "ck %s" CHECK ("Sta%(x)s" IN (\'a\')))',
    )
    name, column, check = 'we%ird "t"', "Sta%(x)s", "ck %s"
    with engine.connect() as conn:
        table = catalog.table(conn, name, schema="s2")
        assert table is not None
        expected = catalog.Lookup(
            table,
            catalog.column(conn, table.oid, column),
            catalog.constraint(conn, table.oid, check),
        )
        assert expected.column is not None and expected.constraint is not None
        found = catalog.lookup(conn, name, schema="s2", column=column, constraint=check)
        assert found == expected
        assert catalog.lookup(conn, name, schema="s2", column="nope", constraint=None) == (
            catalog.Lookup(table, None, None)
        )
        assert catalog.lookup(conn, name, column=column) == catalog.Lookup(None, None, None)
        conn.rollback()  # the statement is prepared once per session and outlives a rollback
        with conn.begin():
            conn.exec_driver_sql("CREATE TABLE fresh (id int)")
            fresh = catalog.lookup(conn, "fresh", column="id")
            assert fresh.table is not None and fresh.table.created_in_transaction is True
            assert fresh.column is not None and fresh.column.type == "integer"
        with engine.connect() as other:  # another session (conn is still out) prepares its own
            assert other.connection.dbapi_connection is not conn.connection.dbapi_connection
            again = catalog.lookup(other, name, schema="s2", column=column, constraint=check)
            assert again == found
