"""Tier 2: alter_choices on a real PostgreSQL — never a moment without a constraint."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from conventions.db.catalog import parse_choice_check
from conventions.errors import (
    ColumnMissing,
    ConstraintViolation,
    DefinitionConflict,
    InvalidChoices,
)
from conventions.ops import AlterChoicesOp
from tests.ops_harness import (
    apply,
    checks,
    ddl,
    house_log,
    recording,
    snapshot,
    sql,
    write_after_preflight,
)

OLD = ["new", "paid", "void"]
TRICKY = ["it's", 'say "hi"', "a,b", "back\\slash", "100%", "ünïcødé ✓", " lead", "trail "]
SWAP = [
    "ALTER TABLE orders DROP CONSTRAINT ck_orders_status",
    "ALTER TABLE orders RENAME CONSTRAINT ck_orders_status_new TO ck_orders_status",
]


def make_orders(engine: Engine, statuses: list[str]) -> None:
    sql(
        engine,
        "CREATE TABLE orders (id bigserial PRIMARY KEY, status varchar(20) NOT NULL DEFAULT 'new'"
        " CONSTRAINT ck_orders_status CHECK (status IN ('new', 'paid', 'void')))",
    )
    for status in statuses:
        sql(engine, "INSERT INTO orders (status) VALUES (:s)", s=status)


def allowed(engine: Engine) -> tuple[set[str], bool]:
    definition, validated = checks(engine, "orders")["ck_orders_status"]
    found = parse_choice_check(definition)
    assert found is not None and found.column == "status"
    return set(found.values), validated


def filenode(engine: Engine) -> int:
    return sql(engine, "SELECT relfilenode FROM pg_class WHERE relname = 'orders'")[0][0]


@pytest.mark.parametrize("statuses", [[], ["new", "paid", "paid", "void"]])
def test_adding_a_value_validates_the_new_check_before_swapping(
    engine: Engine, statuses: list[str]
) -> None:
    make_orders(engine, statuses)
    with recording(engine) as seen:
        apply(engine, lambda op: op.alter_choices("orders", "status", [*OLD, "refunded"]))
    assert ddl(seen) == [
        (
            "ALTER TABLE orders ADD CONSTRAINT ck_orders_status_new "
            "CHECK (status IN ('new', 'paid', 'void', 'refunded')) NOT VALID",
            False,
        ),
        ("ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_status_new", True),
        *[(s, False) for s in SWAP],
    ]
    # Only values added to a validated set: no row can be outside it, so no preflight scan.
    assert not any("WITH bad AS" in s for s, _ in seen)
    assert allowed(engine) == ({*OLD, "refunded"}, True)
    assert set(checks(engine, "orders")) == {"ck_orders_status"}
    sql(engine, "INSERT INTO orders (status) VALUES ('refunded')")


def test_removing_an_unused_value_preflights_then_swaps(engine: Engine) -> None:
    make_orders(engine, ["new", "paid"])
    with recording(engine) as seen:
        apply(engine, lambda op: op.alter_choices("orders", "status", ["new", "paid"]))
    assert any("WITH bad AS" in s for s, _ in seen)
    assert allowed(engine) == ({"new", "paid"}, True)
    with pytest.raises(IntegrityError, match="ck_orders_status"):
        sql(engine, "INSERT INTO orders (status) VALUES ('void')")


def test_removing_a_value_in_use_fails_before_any_ddl_with_count_and_samples(
    engine: Engine,
) -> None:
    make_orders(engine, ["void"] * 3 + ["paid"] * 5 + ["new"])
    before = snapshot(engine, "orders")
    with recording(engine) as seen, pytest.raises(ConstraintViolation) as err:
        apply(engine, lambda op: op.alter_choices("orders", "status", ["new"]))
    assert ddl(seen) == []
    assert snapshot(engine, "orders") == before
    assert (err.value.table, err.value.column, err.value.count) == ("orders", "status", 8)
    assert err.value.samples == ("paid", "void")  # most frequent first
    message = str(err.value)
    assert message.startswith(
        "Cannot restrict orders.status to 'new': 8 row(s) of orders hold other values in status "
        "(e.g. 'paid', 'void'). Nothing was changed."
    )
    assert "Add a data migration first" in message and "keep the value" in message


def test_a_removed_value_written_after_the_preflight_drops_the_new_check_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_orders(engine, ["new", "paid"])
    write_after_preflight(monkeypatch, engine, "INSERT INTO orders (status) VALUES ('void')")
    with recording(engine) as seen, pytest.raises(ConstraintViolation) as err:
        apply(engine, lambda op: op.alter_choices("orders", "status", ["new", "paid"]))
    assert [s for s, _ in ddl(seen)] == [
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status_new "
        "CHECK (status IN ('new', 'paid')) NOT VALID",
        "ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_status_new",
        "ALTER TABLE orders DROP CONSTRAINT IF EXISTS ck_orders_status_new",
    ]
    assert (err.value.count, err.value.samples) == (1, ("void",))
    assert str(err.value).startswith(
        "Cannot restrict orders.status to 'new', 'paid': 1 row(s) of orders hold other values "
        "in status (e.g. 'void'). Rows that broke it were written after the preflight"
    )
    assert set(checks(engine, "orders")) == {"ck_orders_status"}  # the old one never left
    assert allowed(engine) == (set(OLD), True)
    sql(engine, "UPDATE orders SET status = 'paid' WHERE status = 'void'")  # fixed: converges
    apply(engine, lambda op: op.alter_choices("orders", "status", ["new", "paid"]))
    assert allowed(engine) == ({"new", "paid"}, True)


def test_samples_are_at_most_five(engine: Engine) -> None:
    sql(engine, "CREATE TABLE orders (id bigserial PRIMARY KEY, status varchar(20))")
    sql(engine, "INSERT INTO orders (status) SELECT 'v' || g FROM generate_series(1, 9) g")
    with pytest.raises(ConstraintViolation) as err:
        apply(engine, lambda op: op.alter_choices("orders", "status", ["new"]))
    assert err.value.count == 9 and len(err.value.samples) == 5


def test_running_twice_skips_with_a_warning(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_orders(engine, ["paid"])
    apply(engine, lambda op: op.alter_choices("orders", "status", ["paid", "new", "held"]))
    before = snapshot(engine, "orders")
    with house_log(caplog), recording(engine) as seen:
        apply(engine, lambda op: op.alter_choices("orders", "status", ["held", "new", "paid"]))
    assert ddl(seen) == []
    assert "orders.status already allows exactly these values, skipping" in caplog.messages
    assert snapshot(engine, "orders") == before


def test_crash_after_adding_the_new_check_converges(engine: Engine) -> None:
    make_orders(engine, ["new"])
    sql(
        engine,
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status_new "
        "CHECK (status IN ('new', 'paid', 'void', 'held')) NOT VALID",
    )
    with recording(engine) as seen:
        apply(engine, lambda op: op.alter_choices("orders", "status", [*OLD, "held"]))
    assert [s for s, _ in ddl(seen)] == [
        "ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_status_new",
        *SWAP,
    ]
    assert allowed(engine) == ({*OLD, "held"}, True)


def test_crash_after_validating_the_new_check_converges(engine: Engine) -> None:
    make_orders(engine, ["new"])
    sql(
        engine,
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status_new "
        "CHECK (status IN ('new', 'paid', 'void', 'held'))",
    )
    with recording(engine) as seen:
        apply(engine, lambda op: op.alter_choices("orders", "status", [*OLD, "held"]))
    assert [s for s, _ in ddl(seen)] == SWAP
    assert set(checks(engine, "orders")) == {"ck_orders_status"}


def test_a_leftover_new_check_with_other_values_is_a_conflict(engine: Engine) -> None:
    make_orders(engine, ["new"])
    sql(engine, "ALTER TABLE orders ADD CONSTRAINT ck_orders_status_new CHECK (status <> 'x')")
    before = snapshot(engine, "orders")
    with pytest.raises(DefinitionConflict) as err:
        apply(engine, lambda op: op.alter_choices("orders", "status", ["new"]))
    assert err.value.name == "ck_orders_status_new"
    assert "existing: CHECK (((status)::text <> 'x'::text))" in str(err.value)
    assert "wanted:   CHECK (status IN ('new'))" in str(err.value)
    assert snapshot(engine, "orders") == before


def test_widening_is_metadata_only_and_atomic_to_other_sessions(engine: Engine) -> None:
    make_orders(engine, ["new", "paid"])
    node = filenode(engine)
    longer = "awaiting_manual_review_by_finance"
    with recording(engine) as seen:
        apply(engine, lambda op: op.alter_choices("orders", "status", [*OLD, longer], length=40))
    assert ddl(seen) == [
        ("ALTER TABLE orders DROP CONSTRAINT ck_orders_status", False),
        ("ALTER TABLE orders ALTER COLUMN status TYPE VARCHAR(40)", False),
        (
            "ALTER TABLE orders ADD CONSTRAINT ck_orders_status CHECK (status IN "
            f"('new', 'paid', 'void', '{longer}')) NOT VALID",
            False,
        ),
        ("ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_status", True),
    ]
    assert filenode(engine) == node  # not rewritten
    status_type = sql(
        engine,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'orders'::regclass AND attname = 'status'",
    )
    assert status_type == [("character varying(40)",)]
    assert allowed(engine) == ({*OLD, longer}, True)


def test_a_value_longer_than_the_column_asks_for_length(engine: Engine) -> None:
    make_orders(engine, [])
    before = snapshot(engine, "orders")
    with pytest.raises(InvalidChoices) as err:
        apply(engine, lambda op: op.alter_choices("orders", "status", ["x" * 25]))
    assert "longer than the column (VARCHAR(20))" in str(err.value)
    assert "pass a larger length=" in str(err.value)
    assert snapshot(engine, "orders") == before


def test_narrowing_refuses_data_that_would_not_fit(engine: Engine) -> None:
    make_orders(engine, ["paid", "void", "new"])
    before = snapshot(engine, "orders")
    with pytest.raises(ConstraintViolation) as err:
        apply(engine, lambda op: op.alter_choices("orders", "status", ["new"], length=3))
    assert (err.value.count, err.value.samples) == (2, ("paid", "void"))
    assert "Cannot narrow orders.status to VARCHAR(3)" in str(err.value)
    assert "hold values longer than 3 characters" in str(err.value)
    assert snapshot(engine, "orders") == before


def test_narrowing_data_that_fits_warns_about_the_rewrite(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_orders(engine, ["new", "paid"])
    with house_log(caplog):
        apply(engine, lambda op: op.alter_choices("orders", "status", ["new", "paid"], length=4))
    assert "Narrowing orders.status to VARCHAR(4) rewrites orders under ACCESS EXCLUSIVE" in (
        caplog.messages
    )
    assert allowed(engine) == ({"new", "paid"}, True)


def test_unexpected_current_values_are_drift(engine: Engine) -> None:
    make_orders(engine, [])
    before = snapshot(engine, "orders")
    with pytest.raises(DefinitionConflict) as err:
        apply(
            engine,
            lambda op: op.alter_choices(
                "orders", "status", ["new", "held"], existing_values=["new", "paid"]
            ),
        )
    assert "does not allow the values this migration expects to change from" in str(err.value)
    assert err.value.wanted == "CHECK (status IN ('new', 'paid'))"
    assert snapshot(engine, "orders") == before


def test_missing_and_non_varchar_columns_are_refused(engine: Engine) -> None:
    make_orders(engine, [])
    sql(engine, "ALTER TABLE orders ADD COLUMN flag int")
    with pytest.raises(ColumnMissing) as missing:
        apply(engine, lambda op: op.alter_choices("orders", "stauts", ["a"]))
    assert (missing.value.table, missing.value.column) == ("orders", "stauts")
    assert "Column stauts does not exist in public.orders." in str(missing.value)
    with pytest.raises(DefinitionConflict, match=r"orders\.flag is not a VARCHAR"):
        apply(engine, lambda op: op.alter_choices("orders", "flag", ["a"]))


def test_on_a_table_created_in_the_same_transaction_the_swap_is_in_place(engine: Engine) -> None:
    def migration(op) -> None:  # type: ignore[no-untyped-def]
        op.add_choice_column("orders", "status", OLD)
        op.alter_choices("orders", "status", ["new"])

    sql(engine, "CREATE TABLE other (id int)")  # the connection must exist before
    with recording(engine) as seen:
        apply(engine, lambda op: (op.execute("CREATE TABLE orders (id int)"), migration(op)))
    assert [s for s, _ in ddl(seen)][-2:] == [
        "ALTER TABLE orders DROP CONSTRAINT ck_orders_status",
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status CHECK (status IN ('new'))",
    ]
    assert not any(auto for _, auto in ddl(seen))
    assert allowed(engine) == ({"new"}, True)


def test_tricky_values_round_trip(engine: Engine) -> None:
    make_orders(engine, ["new"])
    apply(engine, lambda op: op.alter_choices("orders", "status", ["new", *TRICKY], length=30))
    values, validated = allowed(engine)
    assert validated and values == {"new", *TRICKY}
    for value in TRICKY:
        sql(engine, "INSERT INTO orders (status) VALUES (:v)", v=value)
    with pytest.raises(IntegrityError):
        sql(engine, "INSERT INTO orders (status) VALUES ('trail')")


def test_upgrade_downgrade_upgrade_with_reverse(engine: Engine) -> None:
    make_orders(engine, ["paid"])
    original = snapshot(engine, "orders")
    forward = AlterChoicesOp(
        "orders", "status", [*OLD, "held"], length=30, existing_values=OLD, existing_length=20
    )
    apply(engine, lambda op: op.invoke(forward))
    upgraded = snapshot(engine, "orders")
    assert upgraded != original
    back = forward.reverse()
    assert (back.values, back.length, back.existing_values) == (tuple(OLD), 20, (*OLD, "held"))
    apply(engine, lambda op: op.invoke(back))
    assert snapshot(engine, "orders") == original  # byte-identical catalog text
    apply(engine, lambda op: op.invoke(forward))
    assert snapshot(engine, "orders") == upgraded
