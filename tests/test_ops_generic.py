"""Tier 2: the generic house helpers — check, foreign key, index, comment, column, table."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from conventions import Choice
from conventions.errors import (
    ColumnMissing,
    ConstraintViolation,
    DefinitionConflict,
    RelationMissing,
)
from conventions.ops import (
    AddCheckConstraintOp,
    AddCommentOp,
    AddForeignKeyOp,
    AddIndexOp,
    CreateOrSyncTableOp,
    EnsureColumnOp,
)
from tests.ops_harness import apply, checks, ddl, house_log, recording, snapshot, sql


def make_orders(engine: Engine, rows: int = 0) -> None:
    sql(engine, "CREATE TABLE customers (id int PRIMARY KEY)")
    sql(engine, "INSERT INTO customers VALUES (1), (2)")
    sql(engine, "CREATE TABLE orders (id bigserial PRIMARY KEY, amount int, customer_id int)")
    if rows:
        sql(
            engine,
            "INSERT INTO orders (amount, customer_id) SELECT g, 1 FROM generate_series(1, :n) g",
            n=rows,
        )


# --- add_check_constraint -------------------------------------------------------------


@pytest.mark.parametrize("rows", [0, 40])
def test_add_check_constraint_not_valid_then_validate_then_skip(
    engine: Engine, rows: int, caplog: pytest.LogCaptureFixture
) -> None:
    make_orders(engine, rows)
    with recording(engine) as seen:
        apply(engine, lambda op: op.add_check_constraint("positive", "orders", "amount > 0"))
    assert ddl(seen) == [
        (
            "ALTER TABLE orders ADD CONSTRAINT ck_orders_positive CHECK (amount > 0) NOT VALID",
            False,
        ),
        ("ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_positive", True),
    ]
    assert checks(engine, "orders")["ck_orders_positive"] == ("CHECK ((amount > 0))", True)
    before = snapshot(engine, "orders")
    # Same condition, spelled differently: PostgreSQL's normal form decides "identical".
    with house_log(caplog), recording(engine) as again:
        apply(engine, lambda op: op.add_check_constraint("positive", "orders", "(amount>0)"))
    assert ddl(again) == []
    assert "Constraint ck_orders_positive on orders already exists, skipping" in caplog.messages
    assert snapshot(engine, "orders") == before


def test_add_check_constraint_left_not_valid_is_only_validated(engine: Engine) -> None:
    make_orders(engine, 3)
    sql(engine, "ALTER TABLE orders ADD CONSTRAINT ck_orders_positive CHECK (amount > 0) NOT VALID")
    with recording(engine) as seen:
        apply(engine, lambda op: op.add_check_constraint("positive", "orders", "amount > 0"))
    assert ddl(seen) == [("ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_positive", True)]


def test_add_check_constraint_with_another_definition_is_a_conflict(engine: Engine) -> None:
    make_orders(engine, 3)
    sql(engine, "ALTER TABLE orders ADD CONSTRAINT ck_orders_positive CHECK (amount >= 0)")
    before = snapshot(engine, "orders")
    with pytest.raises(DefinitionConflict) as err:
        apply(engine, lambda op: op.add_check_constraint("positive", "orders", "amount > 0"))
    assert (err.value.existing, err.value.wanted) == (
        "CHECK ((amount >= 0))",
        "CHECK ((amount > 0))",
    )
    assert snapshot(engine, "orders") == before


def test_add_check_constraint_round_trip_with_reverse(engine: Engine) -> None:
    make_orders(engine, 3)
    original = snapshot(engine, "orders")
    forward = AddCheckConstraintOp("ck_orders_cheap", "orders", sa.text("amount < 1000"))
    apply(engine, lambda op: op.invoke(forward))
    apply(engine, lambda op: op.invoke(forward.reverse()))
    assert snapshot(engine, "orders") == original


# --- add_foreign_key ------------------------------------------------------------------


@pytest.mark.parametrize("rows", [0, 25])
def test_add_foreign_key_not_valid_then_validate_then_skip(
    engine: Engine, rows: int, caplog: pytest.LogCaptureFixture
) -> None:
    make_orders(engine, rows)

    def add(op) -> None:  # type: ignore[no-untyped-def]
        op.add_foreign_key(None, "orders", "customers", ["customer_id"], ["id"], ondelete="CASCADE")

    with recording(engine) as seen:
        apply(engine, add)
    assert ddl(seen) == [
        (
            "ALTER TABLE orders ADD CONSTRAINT fk_orders_customer_id_customers FOREIGN "
            "KEY(customer_id) REFERENCES customers (id) ON DELETE CASCADE NOT VALID",
            False,
        ),
        ("ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_customer_id_customers", True),
    ]
    before = snapshot(engine, "orders")
    with house_log(caplog), recording(engine) as again:
        apply(engine, add)
    assert ddl(again) == []
    assert "Constraint fk_orders_customer_id_customers on orders already exists, skipping" in (
        caplog.messages
    )
    assert snapshot(engine, "orders") == before


def test_add_foreign_key_with_other_actions_is_a_conflict(engine: Engine) -> None:
    make_orders(engine, 2)
    sql(
        engine,
        "ALTER TABLE orders ADD CONSTRAINT fk_orders_customer_id_customers FOREIGN KEY "
        "(customer_id) REFERENCES customers (id)",
    )
    before = snapshot(engine, "orders")
    with pytest.raises(DefinitionConflict) as err:
        apply(
            engine,
            lambda op: op.add_foreign_key(
                None, "orders", "customers", ["customer_id"], ["id"], ondelete="CASCADE"
            ),
        )
    assert err.value.existing == "FOREIGN KEY (customer_id) REFERENCES customers(id)"
    assert err.value.wanted == (
        "FOREIGN KEY(customer_id) REFERENCES customers (id) ON DELETE CASCADE"
    )
    assert snapshot(engine, "orders") == before


def test_add_foreign_key_to_a_missing_table_names_it(engine: Engine) -> None:
    make_orders(engine)
    with pytest.raises(RelationMissing) as err:
        apply(
            engine,
            lambda op: op.add_foreign_key(None, "orders", "clients", ["customer_id"], ["id"]),
        )
    assert err.value.table == "clients"


def test_add_foreign_key_round_trip_with_reverse(engine: Engine) -> None:
    make_orders(engine, 2)
    original = snapshot(engine, "orders")
    forward = AddForeignKeyOp(
        "fk_orders_customer_id_customers", "orders", "customers", ["customer_id"], ["id"]
    )
    apply(engine, lambda op: op.invoke(forward))
    apply(engine, lambda op: op.invoke(forward.reverse()))
    assert snapshot(engine, "orders") == original


# --- add_index ------------------------------------------------------------------------


@pytest.mark.parametrize("concurrently", [False, True])
def test_add_index_then_skip(
    engine: Engine, concurrently: bool, caplog: pytest.LogCaptureFixture
) -> None:
    make_orders(engine, 30)
    kw = {"postgresql_concurrently": True} if concurrently else {}
    with recording(engine) as seen:
        apply(engine, lambda op: op.add_index(None, "orders", ["amount"], **kw))
    word = " CONCURRENTLY" if concurrently else ""
    assert ddl(seen) == [(f"CREATE INDEX{word} ix_orders_amount ON orders (amount)", concurrently)]
    before = snapshot(engine, "orders")
    with house_log(caplog), recording(engine) as again:
        apply(engine, lambda op: op.add_index(None, "orders", ["amount"], **kw))
    assert ddl(again) == []
    assert "Index ix_orders_amount on orders already exists, skipping" in caplog.messages
    assert snapshot(engine, "orders") == before


def test_an_invalid_leftover_of_a_concurrent_build_is_rebuilt(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_orders(engine, 5)
    sql(engine, "CREATE INDEX ix_orders_amount ON orders (amount)")
    sql(
        engine,
        "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'ix_orders_amount'::regclass",
    )
    with house_log(caplog), recording(engine) as seen:
        apply(
            engine,
            lambda op: op.add_index(None, "orders", ["amount"], postgresql_concurrently=True),
        )
    assert ddl(seen) == [
        ("DROP INDEX CONCURRENTLY ix_orders_amount", True),
        ("CREATE INDEX CONCURRENTLY ix_orders_amount ON orders (amount)", True),
    ]
    assert "Index ix_orders_amount is INVALID (an interrupted concurrent build); rebuilding it" in (
        caplog.messages
    )
    assert sql(
        engine, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_orders_amount'::regclass"
    ) == [(True,)]


def test_add_index_with_another_definition_is_a_conflict(engine: Engine) -> None:
    make_orders(engine, 2)
    sql(engine, "CREATE INDEX ix_orders_amount ON orders (amount) WHERE amount > 10")
    before = snapshot(engine, "orders")
    with pytest.raises(DefinitionConflict) as err:
        apply(engine, lambda op: op.add_index(None, "orders", ["amount"]))
    assert err.value.existing == (
        "CREATE INDEX ix_orders_amount ON public.orders USING btree (amount) WHERE (amount > 10)"
    )
    assert err.value.wanted == "CREATE INDEX ix_orders_amount ON orders (amount)"
    assert snapshot(engine, "orders") == before


def test_add_index_partial_and_unique_compare_in_postgresql_normal_form(engine: Engine) -> None:
    make_orders(engine, 2)
    where = sa.text("amount>10")
    apply(engine, lambda op: op.add_index("ix_big", "orders", ["amount"], postgresql_where=where))
    apply(
        engine,
        lambda op: op.add_index(
            "ix_big", "orders", ["amount"], postgresql_where=sa.text("(amount > 10)")
        ),
    )
    with pytest.raises(DefinitionConflict):
        apply(
            engine,
            lambda op: op.add_index(
                "ix_big", "orders", ["amount"], unique=True, postgresql_where=where
            ),
        )


def test_add_index_round_trip_with_reverse(engine: Engine) -> None:
    make_orders(engine, 2)
    original = snapshot(engine, "orders")
    forward = AddIndexOp("ix_orders_amount", "orders", ["amount"], postgresql_concurrently=True)
    apply(engine, lambda op: op.invoke(forward))
    apply(engine, lambda op: op.invoke(forward.reverse()))
    assert snapshot(engine, "orders") == original


# --- add_comment ----------------------------------------------------------------------


def test_add_comment_sets_skips_and_refuses_to_overwrite_a_different_one(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_orders(engine)
    text = "Money, in cents; it's 100% integer"
    apply(engine, lambda op: op.add_comment("orders", text, column_name="amount"))
    assert sql(engine, "SELECT col_description('orders'::regclass, 2)") == [(text,)]
    with house_log(caplog), recording(engine) as seen:
        apply(engine, lambda op: op.add_comment("orders", text, column_name="amount"))
    assert ddl(seen) == []
    assert "Comment on orders.amount is already set, skipping" in caplog.messages
    with pytest.raises(DefinitionConflict) as err:
        apply(engine, lambda op: op.add_comment("orders", "Money", column_name="amount"))
    assert (err.value.existing, err.value.wanted) == (repr(text), "'Money'")
    apply(
        engine,
        lambda op: op.add_comment("orders", "Money", column_name="amount", existing_comment=text),
    )
    assert sql(engine, "SELECT col_description('orders'::regclass, 2)") == [("Money",)]


def test_add_comment_on_a_table_and_its_reverse(engine: Engine) -> None:
    make_orders(engine)
    forward = AddCommentOp("orders", "All orders")
    apply(engine, lambda op: op.invoke(forward))
    assert sql(engine, "SELECT obj_description('orders'::regclass, 'pg_class')") == [
        ("All orders",)
    ]
    apply(engine, lambda op: op.invoke(forward.reverse()))
    assert sql(engine, "SELECT obj_description('orders'::regclass, 'pg_class')") == [(None,)]


def test_add_comment_on_a_missing_column_names_it(engine: Engine) -> None:
    make_orders(engine)
    with pytest.raises(ColumnMissing) as err:
        apply(engine, lambda op: op.add_comment("orders", "x", column_name="amout"))
    assert err.value.column == "amout"


# --- ensure_column --------------------------------------------------------------------


def test_ensure_column_with_a_foreign_key_index_and_comment(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_orders(engine, 10)

    def column() -> sa.Column:
        return sa.Column(
            "referrer_id", sa.Integer, sa.ForeignKey("customers.id"), index=True, comment="who"
        )

    with recording(engine) as seen:
        apply(engine, lambda op: op.ensure_column("orders", column()))
    assert ddl(seen) == [
        ("ALTER TABLE orders ADD COLUMN referrer_id INTEGER", False),
        (
            "ALTER TABLE orders ADD CONSTRAINT fk_orders_referrer_id_customers FOREIGN "
            "KEY(referrer_id) REFERENCES customers (id) NOT VALID",
            False,
        ),
        ("CREATE INDEX ix_orders_referrer_id ON orders (referrer_id)", False),
        ("COMMENT ON COLUMN orders.referrer_id IS 'who'", False),
        ("ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_referrer_id_customers", True),
    ]
    before = snapshot(engine, "orders")
    with house_log(caplog), recording(engine) as again:
        apply(engine, lambda op: op.ensure_column("orders", column()))
    assert ddl(again) == []
    assert "Column orders.referrer_id already exists, skipping" in caplog.messages
    assert snapshot(engine, "orders") == before


def test_ensure_column_half_applied_adds_only_what_is_missing(engine: Engine) -> None:
    make_orders(engine, 3)
    sql(engine, "ALTER TABLE orders ADD COLUMN kind varchar(20)")
    with recording(engine) as seen:
        apply(engine, lambda op: op.ensure_column("orders", sa.Column("kind", Choice(["a", "b"]))))
    assert [s for s, _ in ddl(seen)] == [
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_kind CHECK (kind IN ('a', 'b')) NOT VALID",
        "ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_kind",
    ]


def test_ensure_column_conflicts_and_not_null_are_refused_before_ddl(engine: Engine) -> None:
    make_orders(engine, 3)
    before = snapshot(engine, "orders")
    with pytest.raises(DefinitionConflict) as err:
        apply(engine, lambda op: op.ensure_column("orders", sa.Column("amount", sa.BigInteger)))
    assert "column amount: amount integer NULL" in err.value.existing
    assert "column amount: amount bigint NULL" in err.value.wanted
    with pytest.raises(ConstraintViolation, match="it has rows, which would all be NULL"):
        apply(
            engine,
            lambda op: op.ensure_column("orders", sa.Column("due", sa.Date, nullable=False)),
        )
    assert snapshot(engine, "orders") == before


def test_ensure_column_round_trip_with_reverse(engine: Engine) -> None:
    make_orders(engine, 3)
    original = snapshot(engine, "orders")
    forward = EnsureColumnOp("orders", sa.Column("note", sa.Text, server_default="-"))
    apply(engine, lambda op: op.invoke(forward))
    assert sql(engine, "SELECT DISTINCT note FROM orders") == [("-",)]
    apply(engine, lambda op: op.invoke(forward.reverse()))
    assert snapshot(engine, "orders") == original


# --- create_or_sync_table -------------------------------------------------------------


def session_columns() -> list[sa.SchemaItem]:
    return [
        sa.Column("id", sa.BigInteger()),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("state", Choice(["active", "revoked"]), server_default="active", nullable=False),
        sa.Column("user_agent", sa.Text(), comment="as sent"),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id")),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.UniqueConstraint("token", name="uq_sessions_token"),
        sa.Index("ix_sessions_customer_id", "customer_id"),
    ]


def test_create_or_sync_creates_a_missing_table_with_inline_constraints(engine: Engine) -> None:
    make_orders(engine)
    with recording(engine) as seen:
        apply(engine, lambda op: op.create_or_sync_table("sessions", *session_columns()))
    statements = [s for s, _ in ddl(seen)]
    assert statements[0].startswith("CREATE TABLE sessions (")
    assert "CONSTRAINT ck_sessions_state CHECK (state IN ('active', 'revoked'))" in statements[0]
    assert not any("NOT VALID" in s or "VALIDATE" in s for s in statements)
    assert "CREATE INDEX ix_sessions_customer_id ON sessions (customer_id)" in statements


def test_create_or_sync_on_an_identical_table_skips(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_orders(engine)
    apply(engine, lambda op: op.create_or_sync_table("sessions", *session_columns()))
    before = snapshot(engine, "sessions")
    with house_log(caplog), recording(engine) as seen:
        apply(engine, lambda op: op.create_or_sync_table("sessions", *session_columns()))
    assert ddl(seen) == []
    assert "Table sessions already exists and matches, skipping" in caplog.messages
    assert snapshot(engine, "sessions") == before


def test_create_or_sync_adds_what_a_hand_made_table_lacks(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    make_orders(engine)
    sql(
        engine,
        "CREATE TABLE sessions (id bigserial PRIMARY KEY, token varchar(64) NOT NULL UNIQUE,"
        " extra int)",
    )
    sql(engine, "INSERT INTO sessions (token) VALUES ('t1'), ('t2')")
    with house_log(caplog), recording(engine) as seen:
        apply(engine, lambda op: op.create_or_sync_table("sessions", *session_columns()))
    assert ddl(seen) == [
        ("ALTER TABLE sessions ADD COLUMN state VARCHAR(20) DEFAULT 'active' NOT NULL", False),
        ("ALTER TABLE sessions ADD COLUMN user_agent TEXT", False),
        ("ALTER TABLE sessions ADD COLUMN customer_id INTEGER", False),
        (
            "ALTER TABLE sessions ADD CONSTRAINT ck_sessions_state "
            "CHECK (state IN ('active', 'revoked')) NOT VALID",
            False,
        ),
        (
            "ALTER TABLE sessions ADD CONSTRAINT fk_sessions_customer_id_customers "
            "FOREIGN KEY(customer_id) REFERENCES customers (id) NOT VALID",
            False,
        ),
        ("CREATE INDEX ix_sessions_customer_id ON sessions (customer_id)", False),
        ("COMMENT ON COLUMN sessions.user_agent IS 'as sent'", False),
        ("ALTER TABLE sessions VALIDATE CONSTRAINT ck_sessions_state", True),
        ("ALTER TABLE sessions VALIDATE CONSTRAINT fk_sessions_customer_id_customers", True),
    ]
    assert "sessions: PRIMARY KEY (id) exists as sessions_pkey (wanted name pk_sessions)" in (
        caplog.messages
    )
    assert (
        "sessions: UNIQUE (token) exists as sessions_token_key (wanted name uq_sessions_token)"
        in (caplog.messages)
    )
    assert "sessions.extra exists in the database but not in this definition; kept" in (
        caplog.messages
    )
    assert sql(engine, "SELECT token, state FROM sessions ORDER BY id") == [
        ("t1", "active"),
        ("t2", "active"),
    ]
    after = snapshot(engine, "sessions")
    apply(engine, lambda op: op.create_or_sync_table("sessions", *session_columns()))
    assert snapshot(engine, "sessions") == after  # converged


def test_create_or_sync_reports_every_unfixable_difference_before_any_change(
    engine: Engine,
) -> None:
    make_orders(engine)
    sql(
        engine,
        "CREATE TABLE sessions (id int, token text NOT NULL,"
        " CONSTRAINT ck_sessions_state CHECK (token <> ''))",
    )
    before = snapshot(engine, "sessions")
    with recording(engine) as seen, pytest.raises(DefinitionConflict) as err:
        apply(engine, lambda op: op.create_or_sync_table("sessions", *session_columns()))
    assert [s for s, _ in ddl(seen)] == []
    assert err.value.existing.splitlines()[1:] == [
        "    column id: id integer NULL",
        "    column token: token text NOT NULL",
        "    constraint ck_sessions_state: CHECK ((token <> ''::text))",
        "    primary key: none",
    ]
    assert err.value.wanted.splitlines()[1:] == [
        "    column id: id bigint DEFAULT nextval(<its sequence>) NOT NULL",
        "    column token: token character varying(64) NOT NULL",
        "    constraint ck_sessions_state: CHECK (((state)::text = ANY ((ARRAY['active'::"
        "character varying, 'revoked'::character varying])::text[])))",
        "    primary key: PRIMARY KEY (id)",
    ]
    assert snapshot(engine, "sessions") == before


def test_create_or_sync_round_trip_with_reverse(engine: Engine) -> None:
    make_orders(engine)
    forward = CreateOrSyncTableOp("sessions", session_columns())
    apply(engine, lambda op: op.invoke(forward))
    apply(engine, lambda op: op.invoke(forward.reverse()))
    assert sql(engine, "SELECT to_regclass('sessions')") == [(None,)]
    apply(engine, lambda op: op.invoke(CreateOrSyncTableOp("sessions", session_columns())))
    assert sql(engine, "SELECT to_regclass('sessions') IS NOT NULL") == [(True,)]
