"""Tier 2: add_choice_column and drop_choice_column on a real PostgreSQL.

Every op runs as one migration step (``tests.ops_harness.migration``): Alembic's
per-migration transaction, so the separate VALIDATE transaction is real. Statements
are recorded with whether they ran inside a transaction block.
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from conventions.db.catalog import parse_choice_check
from conventions.errors import ConstraintViolation, DefinitionConflict, RelationMissing
from conventions.ops import AddChoiceColumnOp
from tests.ops_harness import apply, checks, ddl, house_log, recording, snapshot, sql

VALUES = ["new", "paid", "void"]
TRICKY = ["it's", 'say "hi"', "a,b", "back\\slash", "100%", "ünïcødé ✓", " lead", "trail ", ":x"]
TRICKY.append("x'); DROP TABLE orders; --")


def make_orders(engine: Engine, rows: int) -> None:
    sql(engine, "CREATE TABLE orders (id bigserial PRIMARY KEY, amount int)")
    if rows:
        sql(engine, "INSERT INTO orders (amount) SELECT g FROM generate_series(1, :n) g", n=rows)


def add_status(op, **kw) -> None:  # type: ignore[no-untyped-def]
    options = {"server_default": "new", "nullable": False, **kw}
    op.add_choice_column("orders", "status", VALUES, **options)


@pytest.mark.parametrize("rows", [0, 250])
def test_add_choice_column_adds_not_valid_then_validates_in_its_own_transaction(
    engine: Engine, rows: int
) -> None:
    make_orders(engine, rows)
    with recording(engine) as seen:
        apply(engine, add_status)
    assert ddl(seen) == [
        ("ALTER TABLE orders ADD COLUMN status VARCHAR(20) DEFAULT 'new' NOT NULL", False),
        (
            "ALTER TABLE orders ADD CONSTRAINT ck_orders_status "
            "CHECK (status IN ('new', 'paid', 'void')) NOT VALID",
            False,
        ),
        ("ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_status", True),
    ]
    definition, validated = checks(engine, "orders")["ck_orders_status"]
    assert validated
    found = parse_choice_check(definition)
    assert found is not None and found.column == "status" and set(found.values) == set(VALUES)
    assert sql(engine, "SELECT count(*) FROM orders WHERE status = 'new'") == [(rows,)]


def test_add_choice_column_on_a_table_created_in_the_same_transaction_is_inline(
    engine: Engine,
) -> None:
    def migration(op) -> None:  # type: ignore[no-untyped-def]
        op.execute("CREATE TABLE orders (id bigserial PRIMARY KEY)")
        op.add_choice_column("orders", "status", VALUES)

    with recording(engine) as seen:
        apply(engine, migration)
    assert ddl(seen)[1:] == [
        (
            "ALTER TABLE orders ADD COLUMN status VARCHAR(20) CONSTRAINT ck_orders_status "
            "CHECK (status IN ('new', 'paid', 'void'))",
            False,
        )
    ]
    assert checks(engine, "orders")["ck_orders_status"][1] is True


def test_add_choice_column_twice_skips_with_warnings_and_changes_nothing(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_orders(engine, 10)
    apply(engine, lambda op: add_status(op, comment="state"))
    before = snapshot(engine, "orders")
    with house_log(caplog), recording(engine) as seen:
        apply(engine, lambda op: add_status(op, comment="state"))
    assert ddl(seen) == []
    assert "Column orders.status already exists, skipping" in caplog.messages
    assert "Constraint ck_orders_status on orders already exists, skipping" in caplog.messages
    assert snapshot(engine, "orders") == before


def test_an_empty_string_default_is_a_value_and_a_second_run_skips(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_orders(engine, 3)

    def add_flag(op) -> None:  # type: ignore[no-untyped-def]
        op.add_choice_column("orders", "flag", ["", "a"], server_default="", nullable=False)

    apply(engine, add_flag)
    assert sql(engine, "SELECT DISTINCT flag FROM orders") == [("",)]
    before = snapshot(engine, "orders")
    with house_log(caplog), recording(engine) as seen:
        apply(engine, add_flag)
    assert ddl(seen) == []
    assert "Column orders.flag already exists, skipping" in caplog.messages
    assert snapshot(engine, "orders") == before


def test_half_applied_column_without_its_check_converges(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_orders(engine, 5)
    sql(engine, "ALTER TABLE orders ADD COLUMN status varchar(20) NOT NULL DEFAULT 'new'")
    with house_log(caplog), recording(engine) as seen:
        apply(engine, add_status)
    assert [s for s, _ in ddl(seen)] == [
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status "
        "CHECK (status IN ('new', 'paid', 'void')) NOT VALID",
        "ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_status",
    ]
    assert "Column orders.status already exists, skipping" in caplog.messages
    assert checks(engine, "orders")["ck_orders_status"][1] is True


def test_crash_between_commit_and_validate_converges_by_validating_only(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_orders(engine, 5)
    sql(engine, "ALTER TABLE orders ADD COLUMN status varchar(20) NOT NULL DEFAULT 'new'")
    sql(
        engine,
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status "
        "CHECK (status IN ('void', 'new', 'paid')) NOT VALID",
    )
    with house_log(caplog), recording(engine) as seen:
        apply(engine, add_status)
    assert ddl(seen) == [("ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_status", True)]
    assert "Constraint ck_orders_status on orders exists but is NOT VALID; validating it" in (
        caplog.messages
    )
    assert checks(engine, "orders")["ck_orders_status"][1] is True


def test_half_applied_column_holding_other_values_is_refused_with_samples(engine: Engine) -> None:
    make_orders(engine, 0)
    sql(engine, "ALTER TABLE orders ADD COLUMN status varchar(20) NOT NULL DEFAULT 'new'")
    sql(engine, "INSERT INTO orders (status) VALUES ('lost'), ('lost'), ('gone'), ('new')")
    before = snapshot(engine, "orders")
    with recording(engine) as seen, pytest.raises(ConstraintViolation) as err:
        apply(engine, add_status)
    assert (err.value.count, err.value.samples) == (3, ("lost", "gone"))
    assert "3 row(s) of orders hold other values in status (e.g. 'lost', 'gone')" in str(err.value)
    assert "Add a data migration first" in str(err.value)
    assert "or keep the value in the allowed set" in str(err.value)
    assert ddl(seen) == []
    assert snapshot(engine, "orders") == before


@pytest.mark.parametrize(
    ("existing", "shown"),
    [
        (
            "varchar(10) NOT NULL DEFAULT 'new'",
            "character varying(10) DEFAULT 'new'::character varying NOT NULL",
        ),
        (
            "varchar(20) DEFAULT 'new'",
            "character varying(20) DEFAULT 'new'::character varying NULL",
        ),
        (
            "varchar(20) NOT NULL DEFAULT 'paid'",
            "character varying(20) DEFAULT 'paid'::character varying NOT NULL",
        ),
        ("text NOT NULL DEFAULT 'new'", "text DEFAULT 'new'::text NOT NULL"),
    ],
)
def test_existing_column_with_another_definition_is_a_conflict(
    engine: Engine, existing: str, shown: str
) -> None:
    make_orders(engine, 3)
    sql(engine, f"ALTER TABLE orders ADD COLUMN status {existing}")
    before = snapshot(engine, "orders")
    with pytest.raises(DefinitionConflict) as err:
        apply(engine, add_status)
    message = str(err.value)
    assert message.startswith("Column orders.status already exists with another definition.")
    assert f"\n  existing: status {shown}\n" in message
    assert (
        "\n  wanted:   status character varying(20) DEFAULT 'new'::character varying NOT NULL\n"
        in message
    )
    assert snapshot(engine, "orders") == before


def test_existing_check_with_other_values_is_a_conflict(engine: Engine) -> None:
    make_orders(engine, 3)
    sql(engine, "ALTER TABLE orders ADD COLUMN status varchar(20) NOT NULL DEFAULT 'new'")
    sql(engine, "ALTER TABLE orders ADD CONSTRAINT ck_orders_status CHECK (status IN ('new'))")
    before = snapshot(engine, "orders")
    with pytest.raises(DefinitionConflict) as err:
        apply(engine, add_status)
    assert err.value.name == "ck_orders_status"
    assert err.value.existing == "CHECK (((status)::text = 'new'::text))"
    assert err.value.wanted == "CHECK (status IN ('new', 'paid', 'void'))"
    assert snapshot(engine, "orders") == before


def test_not_null_without_default_is_refused_on_a_table_with_rows(engine: Engine) -> None:
    make_orders(engine, 7)
    before = snapshot(engine, "orders")
    with pytest.raises(ConstraintViolation) as err:
        apply(engine, lambda op: add_status(op, server_default=None))
    assert "Cannot add orders.status as NOT NULL without a default" in str(err.value)
    assert "Give it a server_default" in str(err.value)
    assert snapshot(engine, "orders") == before
    sql(engine, "DELETE FROM orders")
    apply(engine, lambda op: add_status(op, server_default=None))  # empty: fine
    assert checks(engine, "orders")["ck_orders_status"][1] is True


def test_missing_table_is_named_with_hints(engine: Engine) -> None:
    with pytest.raises(RelationMissing) as err:
        apply(engine, lambda op: op.add_choice_column("ordres", "status", VALUES))
    assert err.value.table == "ordres"
    assert "Relation ordres does not exist." in str(err.value)
    assert "quoted names are case-sensitive" in str(err.value)
    assert sql(engine, "SELECT count(*) FROM pg_class WHERE relname = 'ordres'") == [(0,)]


def test_tricky_values_are_stored_and_enforced_exactly(engine: Engine) -> None:
    make_orders(engine, 0)
    apply(engine, lambda op: op.add_choice_column("orders", "label", TRICKY, length=40))
    definition, validated = checks(engine, "orders")["ck_orders_label"]
    found = parse_choice_check(definition)
    assert validated and found is not None and list(found.values) == TRICKY
    for value in TRICKY:
        sql(engine, "INSERT INTO orders (label) VALUES (:v)", v=value)
    assert [r[0] for r in sql(engine, "SELECT label FROM orders ORDER BY id")] == TRICKY
    for near_miss in ["it''s", "back\\\\slash", "lead", "trail", "100", "x"]:
        with pytest.raises(IntegrityError, match="ck_orders_label"):
            sql(engine, "INSERT INTO orders (label) VALUES (:v)", v=near_miss)
    assert sql(engine, "SELECT to_regclass('orders') IS NOT NULL") == [(True,)]


def test_upgrade_then_downgrade_with_reverse_then_upgrade_again(engine: Engine) -> None:
    make_orders(engine, 20)
    empty = snapshot(engine, "orders")
    add = AddChoiceColumnOp("orders", "status", VALUES, server_default="new", nullable=False)
    apply(engine, lambda op: op.invoke(add))
    upgraded = snapshot(engine, "orders")
    with recording(engine) as seen:
        apply(engine, lambda op: op.invoke(add.reverse()))
    assert [s for s, _ in ddl(seen)] == [
        "ALTER TABLE orders DROP CONSTRAINT ck_orders_status",
        "ALTER TABLE orders DROP COLUMN status",
    ]
    assert snapshot(engine, "orders") == empty
    apply(engine, lambda op: op.invoke(add))
    assert snapshot(engine, "orders") == upgraded


def test_drop_choice_column_twice_skips_the_second_time(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_orders(engine, 3)
    apply(engine, add_status)
    apply(engine, lambda op: op.drop_choice_column("orders", "status"))
    with house_log(caplog), recording(engine) as seen:
        apply(engine, lambda op: op.drop_choice_column("orders", "status"))
    assert ddl(seen) == []
    assert "Column orders.status does not exist, skipping" in caplog.messages
    assert "ck_orders_status" not in checks(engine, "orders")


def test_drop_choice_column_without_its_check_still_drops_the_column(engine: Engine) -> None:
    make_orders(engine, 3)
    sql(engine, "ALTER TABLE orders ADD COLUMN status varchar(20)")
    with recording(engine) as seen:
        apply(engine, lambda op: op.drop_choice_column("orders", "status"))
    assert [s for s, _ in ddl(seen)] == ["ALTER TABLE orders DROP COLUMN status"]


def test_hostile_identifiers_are_quoted_everywhere(engine: Engine) -> None:
    table, column = 'Order%s "x"', "Sta%(tus)s"
    sql(engine, 'CREATE TABLE "Order%s ""x""" (id bigserial PRIMARY KEY)')
    sql(engine, 'INSERT INTO "Order%s ""x""" DEFAULT VALUES')
    for _ in range(2):
        apply(engine, lambda op: op.add_choice_column(table, column, TRICKY, length=40))
    apply(engine, lambda op: op.alter_choices(table, column, TRICKY[:3], length=40))
    found = checks(engine, table)[f"ck_{table}_{column}"]
    parsed = parse_choice_check(found[0])
    assert found[1] and parsed is not None and parsed.values == tuple(TRICKY[:3])
    for _ in range(2):
        apply(engine, lambda op: op.drop_choice_column(table, column))
    assert checks(engine, table) == {}
