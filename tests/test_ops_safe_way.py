"""Tier 2 (and offline): the house ops that do the dangerous changes the safe way.

set_not_null / drop_not_null, add_unique_constraint / add_primary_key,
change_column_type — each online (the statements and where they ran), offline
(``--sql``), re-run (converges), and refused on bad data before any DDL.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from conventions.errors import (
    ConstraintViolation,
    DefinitionConflict,
    Irreversible,
    UnsafeTypeChange,
)
from conventions.ops import (
    AddPrimaryKeyOp,
    AddUniqueConstraintOp,
    ChangeColumnTypeOp,
    DropNotNullOp,
    SetNotNullOp,
)
from tests.ops_harness import apply, ddl, house_log, offline, recording, snapshot, sql, statements


def make_orders(engine: Engine, rows: int = 100) -> None:
    sql(
        engine,
        "CREATE TABLE orders (id bigint PRIMARY KEY, code varchar(20), note text, amount int,"
        " legacy_id bigint)",
    )
    sql(
        engine,
        "INSERT INTO orders SELECT g, 'c' || g, 'n' || g, g, g FROM generate_series(1, :n) g",
        n=rows,
    )


def not_null(engine: Engine, column: str) -> bool:
    rows = sql(
        engine,
        "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = :c",
        c=column,
    )
    return bool(rows[0][0])


# --- set_not_null / drop_not_null -------------------------------------------------------


def test_set_not_null_validates_outside_then_sets_without_a_scan(engine: Engine, caplog) -> None:  # type: ignore[no-untyped-def]
    make_orders(engine)
    with recording(engine) as seen, house_log(caplog):
        apply(engine, lambda op: op.set_not_null("orders", "note"))
    assert ddl(seen) == [
        (
            "ALTER TABLE orders ADD CONSTRAINT ck_orders_note_not_null"
            " CHECK (note IS NOT NULL) NOT VALID",
            False,
        ),
        ("ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_note_not_null", True),
        ("ALTER TABLE orders ALTER COLUMN note SET NOT NULL", False),
        ("ALTER TABLE orders DROP CONSTRAINT ck_orders_note_not_null", False),
    ]
    assert not_null(engine, "note")
    assert sql(engine, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'orders'::regclass"
               " AND contype = 'c'") == [(0,)]  # fmt: skip
    assert "orders.note is NOT NULL" in caplog.text
    # Re-run: converges, with a warning, and no DDL.
    with recording(engine) as seen, house_log(caplog):
        apply(engine, lambda op: op.set_not_null("orders", "note"))
    assert ddl(seen) == []
    assert "already NOT NULL, skipping" in caplog.text


def test_set_not_null_refuses_nulls_with_count_and_sample_keys(engine: Engine) -> None:
    make_orders(engine)
    sql(engine, "UPDATE orders SET note = NULL WHERE id IN (3, 7)")
    before = snapshot(engine, "orders")
    with pytest.raises(ConstraintViolation) as caught:
        apply(engine, lambda op: op.set_not_null("orders", "note"))
    err = caught.value
    assert err.count == 2 and set(err.samples) == {"3", "7"}
    assert "Cannot set orders.note NOT NULL: 2 row(s) of orders hold NULL in note, by id" in str(
        err
    )
    assert "op.backfill" in str(err) and "Nothing was changed" in str(err)
    assert snapshot(engine, "orders") == before


def test_set_not_null_reuses_a_leftover_check(engine: Engine) -> None:
    make_orders(engine)
    sql(engine, "ALTER TABLE orders ADD CONSTRAINT ck_orders_note_not_null"
                " CHECK (note IS NOT NULL) NOT VALID")  # fmt: skip
    with recording(engine) as seen:
        apply(engine, lambda op: op.set_not_null("orders", "note"))
    assert next(s for s, _ in ddl(seen)) == (
        "ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_note_not_null"
    )
    assert not_null(engine, "note")


def test_set_not_null_offline_and_reverse() -> None:
    script = offline(lambda op: op.set_not_null("orders", "note"))
    assert statements(script) == [
        "BEGIN",
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_note_not_null CHECK (note IS NOT NULL)"
        " NOT VALID",
        "COMMIT",
        "ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_note_not_null",
        "BEGIN",
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL",
        "ALTER TABLE orders DROP CONSTRAINT ck_orders_note_not_null",
        "COMMIT",
    ]
    assert isinstance(SetNotNullOp("orders", "note").reverse(), DropNotNullOp)
    assert isinstance(DropNotNullOp("orders", "note").reverse(), SetNotNullOp)
    assert "ALTER TABLE orders ALTER COLUMN note DROP NOT NULL" in offline(
        lambda op: op.drop_not_null("orders", "note")
    )


def test_drop_not_null_then_skip(engine: Engine, caplog) -> None:  # type: ignore[no-untyped-def]
    make_orders(engine)
    sql(engine, "ALTER TABLE orders ALTER COLUMN note SET NOT NULL")
    apply(engine, lambda op: op.drop_not_null("orders", "note"))
    assert not not_null(engine, "note")
    with house_log(caplog):
        apply(engine, lambda op: op.drop_not_null("orders", "note"))
    assert "already nullable, skipping" in caplog.text


# --- add_unique_constraint / add_primary_key -----------------------------------------------


def test_add_unique_constraint_builds_concurrently_then_attaches(engine: Engine, caplog) -> None:  # type: ignore[no-untyped-def]
    make_orders(engine)
    with recording(engine) as seen:
        apply(engine, lambda op: op.add_unique_constraint("uq_orders_code", "orders", ["code"]))
    assert ddl(seen) == [
        ("CREATE UNIQUE INDEX CONCURRENTLY uq_orders_code ON orders (code)", True),
        (
            "ALTER TABLE orders ADD CONSTRAINT uq_orders_code UNIQUE USING INDEX uq_orders_code",
            False,
        ),
    ]
    assert sql(engine, "SELECT contype FROM pg_constraint WHERE conname = 'uq_orders_code'") == [
        ("u",)
    ]
    with recording(engine) as seen, house_log(caplog):
        apply(engine, lambda op: op.add_unique_constraint("uq_orders_code", "orders", ["code"]))
    assert ddl(seen) == [] and "already exists, skipping" in caplog.text
    with pytest.raises(DefinitionConflict):
        apply(engine, lambda op: op.add_unique_constraint("uq_orders_code", "orders", ["note"]))


def test_add_unique_constraint_refuses_duplicates_with_samples(engine: Engine) -> None:
    make_orders(engine)
    sql(engine, "UPDATE orders SET code = 'dup' WHERE id IN (1, 2, 3)")
    sql(engine, "UPDATE orders SET code = NULL WHERE id IN (4, 5)")  # NULLs never collide
    before = snapshot(engine, "orders")
    with pytest.raises(ConstraintViolation) as caught:
        apply(engine, lambda op: op.add_unique_constraint("uq_orders_code", "orders", ["code"]))
    assert caught.value.count == 3 and caught.value.samples == ("dup",)
    assert "share their (code) with another row" in str(caught.value)
    assert snapshot(engine, "orders") == before


def test_add_unique_constraint_rebuilds_an_invalid_leftover(engine: Engine, caplog) -> None:  # type: ignore[no-untyped-def]
    make_orders(engine)
    sql(engine, "CREATE UNIQUE INDEX uq_orders_code ON orders (code)")
    sql(engine, "UPDATE pg_index SET indisvalid = false"
                " WHERE indexrelid = 'uq_orders_code'::regclass")  # fmt: skip
    with recording(engine) as seen, house_log(caplog):
        apply(engine, lambda op: op.add_unique_constraint("uq_orders_code", "orders", ["code"]))
    assert [s for s, _ in ddl(seen)][:2] == [
        "DROP INDEX CONCURRENTLY uq_orders_code",
        "CREATE UNIQUE INDEX CONCURRENTLY uq_orders_code ON orders (code)",
    ]
    assert "INVALID" in caplog.text


def test_add_unique_constraint_offline_and_reverse() -> None:
    script = offline(lambda op: op.add_unique_constraint("uq_orders_code", "orders", ["code"]))
    assert statements(script) == [
        "BEGIN",
        "COMMIT",
        "CREATE UNIQUE INDEX CONCURRENTLY uq_orders_code ON orders (code)",
        "BEGIN",
        "ALTER TABLE orders ADD CONSTRAINT uq_orders_code UNIQUE USING INDEX uq_orders_code",
        "COMMIT",
    ]
    reverse = AddUniqueConstraintOp("uq_orders_code", "orders", ["code"]).reverse()
    assert (reverse.constraint_type, reverse.constraint_name) == ("unique", "uq_orders_code")
    assert AddPrimaryKeyOp("pk_orders", "orders", ["id"]).reverse().constraint_type == "primary"


def test_add_primary_key_sets_not_null_online_then_uses_the_index(engine: Engine) -> None:
    sql(engine, "CREATE TABLE legacy (code varchar(20), note text)")
    sql(engine, "INSERT INTO legacy SELECT 'c' || g, 'n' FROM generate_series(1, 50) g")
    with recording(engine) as seen:
        apply(engine, lambda op: op.add_primary_key("pk_legacy", "legacy", ["code"]))
    assert [s for s, _ in ddl(seen)] == [
        "ALTER TABLE legacy ADD CONSTRAINT ck_legacy_code_not_null"
        " CHECK (code IS NOT NULL) NOT VALID",
        "ALTER TABLE legacy VALIDATE CONSTRAINT ck_legacy_code_not_null",
        "ALTER TABLE legacy ALTER COLUMN code SET NOT NULL",
        "ALTER TABLE legacy DROP CONSTRAINT ck_legacy_code_not_null",
        "CREATE UNIQUE INDEX CONCURRENTLY pk_legacy ON legacy (code)",
        "ALTER TABLE legacy ADD CONSTRAINT pk_legacy PRIMARY KEY USING INDEX pk_legacy",
    ]
    assert sql(engine, "SELECT contype FROM pg_constraint WHERE conname = 'pk_legacy'") == [("p",)]


def test_add_primary_key_refuses_null_keys(engine: Engine) -> None:
    sql(engine, "CREATE TABLE legacy (code varchar(20))")
    sql(engine, "INSERT INTO legacy VALUES ('a'), (NULL)")
    with pytest.raises(ConstraintViolation, match="have a NULL in the key"):
        apply(engine, lambda op: op.add_primary_key("pk_legacy", "legacy", ["code"]))
    assert sql(
        engine, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'legacy'::regclass"
    ) == [(0,)]


# --- change_column_type -------------------------------------------------------------------


def test_change_column_type_in_place_when_no_rewrite(engine: Engine, caplog) -> None:  # type: ignore[no-untyped-def]
    make_orders(engine, rows=20_000)
    sql(engine, "ANALYZE orders")
    relfile = sql(engine, "SELECT pg_relation_filenode('orders')")
    with house_log(caplog):
        apply(engine, lambda op: op.change_column_type("orders", "code", sa.String(60)))
        apply(engine, lambda op: op.change_column_type("orders", "code", sa.Text()))
    assert sql(engine, "SELECT pg_relation_filenode('orders')") == relfile  # not rewritten
    assert "in place (no rewrite, no scan)" in caplog.text
    with house_log(caplog):
        apply(engine, lambda op: op.change_column_type("orders", "code", sa.Text()))
    assert "already text, skipping" in caplog.text


def test_change_column_type_refuses_a_rewrite_of_a_busy_table_with_steps(engine: Engine) -> None:
    make_orders(engine, rows=20_000)
    sql(engine, "ANALYZE orders")
    before = snapshot(engine, "orders")
    with pytest.raises(UnsafeTypeChange) as caught:
        apply(engine, lambda op: op.change_column_type("orders", "amount", sa.BigInteger()))
    text = str(caught.value)
    assert "from integer to bigint (about 20,000 rows (planner estimate)" in text
    assert "ACCESS EXCLUSIVE" in text and "Nothing was changed" in text
    assert "op.backfill('orders', set={'amount_new'" in text and "rename amount" in text
    assert snapshot(engine, "orders") == before


def test_change_column_type_rewrites_a_small_table_after_a_preflight(engine: Engine) -> None:
    make_orders(engine, rows=10)
    apply(engine, lambda op: op.change_column_type("orders", "amount", sa.BigInteger()))
    typed = sql(
        engine,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'orders'::regclass AND attname = 'amount'",
    )
    assert typed == [("bigint",)]
    if sql(engine, "SHOW server_version_num")[0][0] >= "160000":
        sql(engine, "UPDATE orders SET note = 'x' WHERE id = 2")
        with pytest.raises(ConstraintViolation, match="not valid integer"):
            apply(engine, lambda op: op.change_column_type("orders", "note", sa.Integer()))
    apply(
        engine,
        lambda op: op.change_column_type(
            "orders", "code", sa.Integer(), using="substr(code, 2)::integer"
        ),
    )
    assert sql(engine, "SELECT code FROM orders WHERE id = 3") == [(3,)]


def test_change_column_type_offline_and_reverse() -> None:
    script = offline(lambda op: op.change_column_type("orders", "code", sa.Text()))
    assert "ALTER TABLE orders ALTER COLUMN code TYPE TEXT" in script
    op = ChangeColumnTypeOp("orders", "code", sa.Text(), existing_type=sa.String(20))
    assert isinstance(op.reverse().type_, sa.String)
    with pytest.raises(Irreversible, match="existing_type="):
        ChangeColumnTypeOp("orders", "code", sa.Text()).reverse()


# --- ensure_column with a volatile default ---------------------------------------------


def test_ensure_column_volatile_default_without_a_rewrite(engine: Engine, caplog) -> None:  # type: ignore[no-untyped-def]
    make_orders(engine, rows=300)
    relfile = sql(engine, "SELECT pg_relation_filenode('orders')")
    column = sa.Column(
        "token", sa.Text(), server_default=sa.text("md5(random()::text)"), nullable=False
    )
    with recording(engine) as seen, house_log(caplog):
        apply(engine, lambda op: op.ensure_column("orders", column))
    statements_run = [s for s, _ in ddl(seen)]
    assert statements_run[:2] == [
        "ALTER TABLE orders ADD COLUMN token TEXT",
        "ALTER TABLE orders ALTER COLUMN token SET DEFAULT md5(random()::text)",
    ]
    assert "ALTER TABLE orders ALTER COLUMN token SET NOT NULL" in statements_run
    assert sql(engine, "SELECT pg_relation_filenode('orders')") == relfile  # no rewrite
    assert sql(engine, "SELECT count(DISTINCT token), count(*) FROM orders") == [(300, 300)]
    assert not_null(engine, "token")
    assert "without a rewrite" in caplog.text
    sql(engine, "INSERT INTO orders (id) VALUES (1000)")  # new rows get the default
    assert sql(engine, "SELECT token IS NOT NULL FROM orders WHERE id = 1000") == [(True,)]
    # Re-run converges: the column is there, identical.
    with house_log(caplog):
        apply(engine, lambda op: op.ensure_column("orders", column))
    assert "already exists, skipping" in caplog.text


def test_ensure_column_volatile_default_offline() -> None:
    column = sa.Column("token", sa.Text(), server_default=sa.text("gen_random_uuid()::text"))
    script = offline(lambda op: op.ensure_column("orders", column))
    assert "ALTER TABLE orders ADD COLUMN token TEXT;" in script
    assert "SET DEFAULT gen_random_uuid()::text" in script
    assert "DO $backfill$" in script and "token IS NULL" in script


def test_add_primary_key_offline_and_rerun(engine: Engine, caplog) -> None:  # type: ignore[no-untyped-def]
    script = statements(offline(lambda op: op.add_primary_key("pk_legacy", "legacy", ["code"])))
    assert script[1].endswith("CHECK (code IS NOT NULL) NOT VALID")
    assert "CREATE UNIQUE INDEX CONCURRENTLY pk_legacy ON legacy (code)" in script
    assert (
        script[-2]
        == "ALTER TABLE legacy ADD CONSTRAINT pk_legacy PRIMARY KEY USING INDEX pk_legacy"
    )
    sql(engine, "CREATE TABLE legacy (code varchar(20))")
    sql(engine, "INSERT INTO legacy SELECT 'c' || g FROM generate_series(1, 20) g")
    apply(engine, lambda op: op.add_primary_key("pk_legacy", "legacy", ["code"]))
    with recording(engine) as seen, house_log(caplog):
        apply(engine, lambda op: op.add_primary_key("pk_legacy", "legacy", ["code"]))
    assert ddl(seen) == [] and "already exists, skipping" in caplog.text
