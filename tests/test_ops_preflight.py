"""Tier 2: the generic house ops refuse violating rows before any DDL, with count and samples.

add_check_constraint, add_foreign_key, ensure_column and create_or_sync_table count
the rows a constraint would reject before their first statement, so a refusal leaves
the database exactly as it was: no NOT VALID constraint, no added column. A writer
that slips a bad row in after the preflight makes VALIDATE fail after the commit;
then the NOT VALID constraint the op added is dropped again and the rows counted.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from conventions import Choice
from conventions.db import preflight
from conventions.errors import ConstraintViolation
from conventions.ops.choice_impl import check_sql
from tests.ops_harness import apply, checks, ddl, recording, snapshot, sql, write_after_preflight


def make_orders(engine: Engine, *rows: tuple[int | None, int | None]) -> None:
    """customers 1 and 2; orders with the given (amount, customer_id) rows."""
    sql(engine, "CREATE TABLE customers (id int PRIMARY KEY)")
    sql(engine, "INSERT INTO customers VALUES (1), (2)")
    sql(engine, "CREATE TABLE orders (id bigserial PRIMARY KEY, amount int, customer_id int)")
    for amount, customer in rows:
        sql(
            engine, "INSERT INTO orders (amount, customer_id) VALUES (:a, :c)", a=amount, c=customer
        )


def constraints(engine: Engine, table: str) -> list[tuple[str, bool]]:
    return sql(
        engine,
        "SELECT conname, convalidated FROM pg_constraint"
        " WHERE conrelid = to_regclass(:t) AND contype <> 'n' ORDER BY conname",
        t=table,
    )


def refused(engine: Engine, table: str, fn: Callable[..., object]) -> ConstraintViolation:
    """Run ``fn`` as a migration step; it must raise and change nothing at all."""
    before = snapshot(engine, table)
    with recording(engine) as seen, pytest.raises(ConstraintViolation) as err:
        apply(engine, fn)
    assert ddl(seen) == []
    assert snapshot(engine, table) == before
    return err.value


# --- the queries ----------------------------------------------------------------------


def test_row_preflights_count_and_sample_even_with_hostile_names(engine: Engine) -> None:
    sql(engine, 'CREATE TABLE "we%ird ""t""" ("Sta%(x)s" varchar(20))')
    rows = ["a"] * 3 + ["zz"] * 4 + ["yyy"] + ["it's"] * 2 + ["c", "d", "e", "100%", None]
    for value in rows:
        sql(engine, 'INSERT INTO "we%ird ""t""" VALUES (:v)', v=value)
    source = preflight.relation('we%ird "t"')

    def outside(values: list[str]) -> preflight.RowSample:
        where = preflight.failing_check(check_sql("Sta%(x)s", values))
        return preflight.offenders(conn, source, where, shown=["Sta%(x)s"])

    with engine.connect() as conn:
        found = outside(["a", "c"])
        assert found.count == 10
        assert found.samples == ("zz", "it's", "100%", "d", "e")  # most frequent, then by value
        assert outside([v for v in rows if v is not None]).count == 0
        long = preflight.rows_longer_than(conn, 'we%ird "t"', "Sta%(x)s", 2)
        assert (long.count, long.samples) == (4, ("it's", "100%", "yyy"))
        assert preflight.table_has_rows(conn, 'we%ird "t"') is True


# --- add_check_constraint -------------------------------------------------------------


def test_add_check_constraint_over_violating_rows_is_refused_before_any_ddl(
    engine: Engine,
) -> None:
    make_orders(engine, (-5, 1), (-5, 1), (0, 1), (3, 1), (None, 1))
    err = refused(
        engine, "orders", lambda op: op.add_check_constraint("positive", "orders", "amount > 0")
    )
    assert str(err).startswith(
        "Cannot add constraint ck_orders_positive to orders: 3 row(s) of orders fail "
        "CHECK (amount > 0) (e.g. '-5', '0'). Nothing was changed.\n"
    )
    assert "data migration" in str(err)
    assert (err.table, err.column, err.count, err.samples) == ("orders", "amount", 3, ("-5", "0"))
    assert constraints(engine, "orders") == [("orders_pkey", True)]


def test_add_check_constraint_lets_null_pass_as_postgresql_does(engine: Engine) -> None:
    make_orders(engine, (None, 1), (4, 1))
    apply(engine, lambda op: op.add_check_constraint("positive", "orders", "amount > 0"))
    assert checks(engine, "orders")["ck_orders_positive"] == ("CHECK ((amount > 0))", True)


def test_add_check_constraint_over_several_columns_samples_them_as_rows(engine: Engine) -> None:
    make_orders(engine, (5, 1), (1, 2), (1, 2), (2, 2))
    err = refused(
        engine,
        "orders",
        lambda op: op.add_check_constraint("big", "orders", "amount > customer_id"),
    )
    assert (err.count, err.samples) == (3, ("(1,2)", "(2,2)"))
    # Naming the table in the condition: the rows are still counted, without samples.
    err = refused(
        engine,
        "orders",
        lambda op: op.add_check_constraint("big", "orders", "orders.amount > customer_id"),
    )
    assert (err.count, err.samples) == (3, ())
    assert "3 row(s) of orders fail CHECK (orders.amount > customer_id). Nothing" in str(err)


def test_a_left_not_valid_check_over_violating_rows_is_refused_and_kept(engine: Engine) -> None:
    make_orders(engine, (-1, 1), (2, 1))
    sql(engine, "ALTER TABLE orders ADD CONSTRAINT ck_orders_positive CHECK (amount > 0) NOT VALID")
    err = refused(
        engine, "orders", lambda op: op.add_check_constraint("positive", "orders", "amount > 0")
    )
    assert (err.count, err.samples) == (1, ("-1",))
    assert ("ck_orders_positive", False) in constraints(engine, "orders")  # not ours to drop


def test_add_check_constraint_raced_by_a_writer_drops_its_not_valid_constraint(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_orders(engine, (1, 1), (2, 1))
    write_after_preflight(monkeypatch, engine, "INSERT INTO orders (amount) VALUES (-7)")
    with recording(engine) as seen, pytest.raises(ConstraintViolation) as err:
        apply(engine, lambda op: op.add_check_constraint("positive", "orders", "amount > 0"))
    assert [s for s, _ in ddl(seen)] == [
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_positive CHECK (amount > 0) NOT VALID",
        "ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_positive",
        "ALTER TABLE orders DROP CONSTRAINT IF EXISTS ck_orders_positive",
    ]
    message = str(err.value)
    assert "1 row(s) of orders fail CHECK (amount > 0) (e.g. '-7')" in message
    assert "were dropped again" in message and "Nothing was changed" not in message
    assert constraints(engine, "orders") == [("orders_pkey", True)]
    sql(engine, "DELETE FROM orders WHERE amount < 0")  # fix the cause, run again: converges
    apply(engine, lambda op: op.add_check_constraint("positive", "orders", "amount > 0"))
    assert checks(engine, "orders")["ck_orders_positive"][1] is True


# --- add_foreign_key ------------------------------------------------------------------


def add_fk(op) -> None:  # type: ignore[no-untyped-def]
    op.add_foreign_key(None, "orders", "customers", ["customer_id"], ["id"])


def test_add_foreign_key_over_orphan_rows_is_refused_before_any_ddl(engine: Engine) -> None:
    make_orders(engine, (1, 1), (1, 7), (1, 7), (1, 9), (1, None))
    err = refused(engine, "orders", add_fk)
    assert str(err).startswith(
        "Cannot add constraint fk_orders_customer_id_customers to orders: 3 row(s) of orders "
        "have a (customer_id) that no row of customers has in (id) (e.g. '7', '9'). "
        "Nothing was changed.\n"
    )
    assert (err.column, err.count, err.samples) == ("customer_id", 3, ("7", "9"))


def test_add_foreign_key_to_a_column_of_the_same_name_still_finds_orphans(
    engine: Engine,
) -> None:
    make_orders(engine, (1, 1), (1, 5))
    sql(engine, "CREATE TABLE accounts (customer_id int PRIMARY KEY)")
    sql(engine, "INSERT INTO accounts VALUES (1)")
    err = refused(
        engine,
        "orders",
        lambda op: op.add_foreign_key(None, "orders", "accounts", ["customer_id"], ["customer_id"]),
    )
    assert (err.count, err.samples) == (1, ("5",))


def test_add_foreign_key_match_full_rejects_half_null_keys(engine: Engine) -> None:
    make_orders(engine, (1, 1), (None, 2), (None, None))
    sql(engine, "CREATE TABLE pairs (a int, b int, PRIMARY KEY (a, b))")
    sql(engine, "INSERT INTO pairs VALUES (1, 1)")

    def add(match: str | None):  # type: ignore[no-untyped-def]
        return lambda op: op.add_foreign_key(
            "fk_pair", "orders", "pairs", ["amount", "customer_id"], ["a", "b"], match=match
        )

    err = refused(engine, "orders", add("FULL"))
    assert (err.count, err.samples) == (1, ("(,2)",))
    apply(engine, add(None))  # MATCH SIMPLE ignores a key with any NULL in it
    assert ("fk_pair", True) in constraints(engine, "orders")


def test_add_foreign_key_raced_by_a_writer_drops_its_not_valid_constraint(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_orders(engine, (1, 1))
    write_after_preflight(
        monkeypatch, engine, "INSERT INTO orders (amount, customer_id) VALUES (1, 42)"
    )
    with pytest.raises(ConstraintViolation) as err:
        apply(engine, add_fk)
    assert (err.value.count, err.value.samples) == (1, ("42",))
    assert "were dropped again" in str(err.value)
    assert constraints(engine, "orders") == [("orders_pkey", True)]


# --- ensure_column --------------------------------------------------------------------


def test_ensure_column_whose_default_breaks_its_check_is_refused_without_adding_it(
    engine: Engine,
) -> None:
    make_orders(engine, (1, 1), (2, 1))
    column = sa.Column("kind", Choice(["a", "b"]), server_default="z", nullable=False)
    err = refused(engine, "orders", lambda op: op.ensure_column("orders", column))
    assert "Cannot add constraint ck_orders_kind to orders: 2 row(s) of orders fail" in str(err)
    assert (err.column, err.count, err.samples) == ("kind", 2, ("z",))


def test_ensure_column_over_an_existing_column_with_other_values_is_refused(
    engine: Engine,
) -> None:
    make_orders(engine, (1, 1), (2, 1), (3, 1))
    sql(engine, "ALTER TABLE orders ADD COLUMN kind varchar(20)")
    sql(engine, "UPDATE orders SET kind = CASE id WHEN 1 THEN 'a' ELSE 'q' END")
    err = refused(
        engine,
        "orders",
        lambda op: op.ensure_column("orders", sa.Column("kind", Choice(["a", "b"]))),
    )
    assert (err.count, err.samples) == (2, ("q",))


def test_ensure_column_whose_foreign_key_default_references_nothing_is_refused(
    engine: Engine,
) -> None:
    make_orders(engine, (1, 1))
    column = sa.Column(
        "referrer_id", sa.Integer, sa.ForeignKey("customers.id"), server_default="99"
    )
    err = refused(engine, "orders", lambda op: op.ensure_column("orders", column))
    assert "fk_orders_referrer_id_customers" in str(err)
    assert (err.column, err.count, err.samples) == ("referrer_id", 1, ("99",))


def test_ensure_column_raced_by_a_writer_drops_its_not_valid_constraint(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_orders(engine, (1, 1))
    sql(engine, "ALTER TABLE orders ADD COLUMN kind varchar(20)")
    write_after_preflight(monkeypatch, engine, "INSERT INTO orders (kind) VALUES ('late')")
    with pytest.raises(ConstraintViolation) as err:
        apply(engine, lambda op: op.ensure_column("orders", sa.Column("kind", Choice(["a"]))))
    assert (err.value.count, err.value.samples) == (1, ("late",))
    assert "ck_orders_kind" not in checks(engine, "orders")


# --- create_or_sync_table -------------------------------------------------------------


def session_columns() -> list[sa.SchemaItem]:
    return [
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("state", Choice(["active", "revoked"]), server_default="active"),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id")),
        sa.Column("user_agent", sa.Text()),
    ]


def test_create_or_sync_over_a_hand_made_table_with_bad_values_changes_nothing(
    engine: Engine,
) -> None:
    make_orders(engine)
    sql(
        engine,
        "CREATE TABLE sessions (id bigserial PRIMARY KEY, state varchar(20) DEFAULT 'active',"
        " customer_id int)",
    )
    sql(
        engine,
        "INSERT INTO sessions VALUES (1, 'active', 1), (2, 'gone', 1), (3, 'gone', 2),"
        " (4, 'lost', 1), (5, NULL, NULL)",
    )
    err = refused(
        engine, "sessions", lambda op: op.create_or_sync_table("sessions", *session_columns())
    )
    assert "Cannot add constraint ck_sessions_state to sessions: 3 row(s) of sessions" in str(err)
    assert (err.count, err.samples) == (3, ("gone", "lost"))
    assert constraints(engine, "sessions") == [("sessions_pkey", True)]

    sql(engine, "UPDATE sessions SET state = 'revoked' WHERE state <> 'active'")
    sql(engine, "UPDATE sessions SET customer_id = 8 WHERE id = 4")
    err = refused(
        engine, "sessions", lambda op: op.create_or_sync_table("sessions", *session_columns())
    )
    assert "fk_sessions_customer_id_customers" in str(err)
    assert (err.count, err.samples) == (1, ("8",))

    sql(engine, "UPDATE sessions SET customer_id = 2 WHERE id = 4")  # fixed: it converges
    apply(engine, lambda op: op.create_or_sync_table("sessions", *session_columns()))
    assert ("ck_sessions_state", True) in constraints(engine, "sessions")
    assert ("fk_sessions_customer_id_customers", True) in constraints(engine, "sessions")
