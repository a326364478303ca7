"""Tier 1: the exact SQL each house op prints in offline (``--sql``) mode, no database.

Offline there is no catalog, so each op prints the form that is right for an
existing, busy table: constraints NOT VALID, then COMMIT, the VALIDATE on its own,
and BEGIN again (Alembic's autocommit block).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.operations import ops as alembic_ops

from conventions import Choice
from conventions.errors import InvalidChoices, Irreversible
from conventions.ops import (
    AddCheckConstraintOp,
    AddChoiceColumnOp,
    AddCommentOp,
    AddForeignKeyOp,
    AddIndexOp,
    AlterChoicesOp,
    CreateOrSyncTableOp,
    DropChoiceColumnOp,
    EnsureColumnOp,
)
from tests.ops_harness import offline, statements

VALIDATE_BREAK = ["COMMIT", "ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_status", "BEGIN"]


def script(fn) -> list[str]:  # type: ignore[no-untyped-def]
    return statements(offline(fn))


def test_add_choice_column_offline_adds_not_valid_then_validates_alone() -> None:
    assert script(
        lambda op: op.add_choice_column(
            "orders",
            "status",
            ["new", "paid"],
            server_default="new",
            nullable=False,
            comment="Where it's at",
        )
    ) == [
        "BEGIN",
        "ALTER TABLE orders ADD COLUMN status VARCHAR(20) DEFAULT 'new' NOT NULL",
        "COMMENT ON COLUMN orders.status IS 'Where it''s at'",
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status CHECK (status IN ('new', 'paid')) "
        "NOT VALID",
        *VALIDATE_BREAK,
        "COMMIT",
    ]


def test_add_choice_column_offline_escapes_every_tricky_value() -> None:
    values = ["it's", 'say "hi"', "a,b", "back\\slash", "100%", "ünï ✓", " lead", "trail ", ":x"]
    values.append("x'); DROP TABLE orders; --")
    out = offline(lambda op: op.add_choice_column("orders", "label", values, length=40))
    assert (
        "CHECK (label IN ('it''s', 'say \"hi\"', 'a,b', E'back\\\\slash', '100%', 'ünï ✓', "
        "' lead', 'trail ', ':x', 'x''); DROP TABLE orders; --')) NOT VALID;"
    ) in out
    assert "ADD COLUMN label VARCHAR(40);" in out


def test_identifiers_are_quoted_exactly_when_postgresql_needs_it() -> None:
    out = script(
        lambda op: op.add_choice_column("Order Items", "Status", ["a"], schema="Sales Dept")
    )
    assert out[1] == 'ALTER TABLE "Sales Dept"."Order Items" ADD COLUMN "Status" VARCHAR(20)'
    assert out[2] == (
        'ALTER TABLE "Sales Dept"."Order Items" ADD CONSTRAINT "ck_Order Items_Status" '
        "CHECK (\"Status\" IN ('a')) NOT VALID"
    )
    reserved = script(lambda op: op.add_choice_column("user", "select", ["a"]))
    assert reserved[1] == 'ALTER TABLE "user" ADD COLUMN "select" VARCHAR(20)'
    hostile = script(lambda op: op.add_choice_column('t"; DROP TABLE x; --', "c%(x)s", ["a"]))
    assert hostile[1] == 'ALTER TABLE "t""; DROP TABLE x; --" ADD COLUMN "c%(x)s" VARCHAR(20)'


def test_alter_choices_offline_validates_the_new_check_before_dropping_the_old() -> None:
    assert script(lambda op: op.alter_choices("orders", "status", ["new", "paid", "void"])) == [
        "BEGIN",
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status_new "
        "CHECK (status IN ('new', 'paid', 'void')) NOT VALID",
        "COMMIT",
        "ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_status_new",
        "BEGIN",
        "ALTER TABLE orders DROP CONSTRAINT ck_orders_status",
        "ALTER TABLE orders RENAME CONSTRAINT ck_orders_status_new TO ck_orders_status",
        "COMMIT",
    ]


def test_alter_choices_with_a_length_swaps_in_one_transaction_then_validates() -> None:
    assert script(lambda op: op.alter_choices("orders", "status", ["new"], length=40)) == [
        "BEGIN",
        "ALTER TABLE orders DROP CONSTRAINT ck_orders_status",
        "ALTER TABLE orders ALTER COLUMN status TYPE VARCHAR(40)",
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status CHECK (status IN ('new')) NOT VALID",
        *VALIDATE_BREAK,
        "COMMIT",
    ]


def test_drop_choice_column_offline_drops_the_check_then_the_column() -> None:
    assert script(lambda op: op.drop_choice_column("orders", "status")) == [
        "BEGIN",
        "ALTER TABLE orders DROP CONSTRAINT ck_orders_status",
        "ALTER TABLE orders DROP COLUMN status",
        "COMMIT",
    ]


def test_add_check_constraint_offline_uses_the_naming_convention_like_alembic() -> None:
    assert script(lambda op: op.add_check_constraint("positive", "orders", "amount > 0")) == [
        "BEGIN",
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_positive CHECK (amount > 0) NOT VALID",
        "COMMIT",
        "ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_positive",
        "BEGIN",
        "COMMIT",
    ]
    named = script(lambda op: op.add_check_constraint(op.f("amount_ok"), "orders", "amount > 0"))
    assert named[1] == "ALTER TABLE orders ADD CONSTRAINT amount_ok CHECK (amount > 0) NOT VALID"


def test_add_foreign_key_offline() -> None:
    assert script(
        lambda op: op.add_foreign_key(
            None, "orders", "customers", ["customer_id"], ["id"], ondelete="CASCADE"
        )
    ) == [
        "BEGIN",
        "ALTER TABLE orders ADD CONSTRAINT fk_orders_customer_id_customers FOREIGN "
        "KEY(customer_id) REFERENCES customers (id) ON DELETE CASCADE NOT VALID",
        "COMMIT",
        "ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_customer_id_customers",
        "BEGIN",
        "COMMIT",
    ]


def test_add_index_offline_plain_and_concurrently() -> None:
    assert script(lambda op: op.add_index(None, "orders", ["status", "id"])) == [
        "BEGIN",
        "CREATE INDEX ix_orders_status_id ON orders (status, id)",
        "COMMIT",
    ]
    assert script(
        lambda op: op.add_index(
            "ix_open",
            "orders",
            ["status"],
            unique=True,
            postgresql_concurrently=True,
            postgresql_where=sa.text("status = 'open'"),
        )
    ) == [
        "BEGIN",
        "COMMIT",
        "CREATE UNIQUE INDEX CONCURRENTLY ix_open ON orders (status) WHERE status = 'open'",
        "BEGIN",
        "COMMIT",
    ]


def test_add_comment_offline() -> None:
    assert script(lambda op: op.add_comment("orders", "Orders' table")) == [
        "BEGIN",
        "COMMENT ON TABLE orders IS 'Orders'' table'",
        "COMMIT",
    ]
    assert script(lambda op: op.add_comment("orders", None, column_name="Amount")) == [
        "BEGIN",
        'COMMENT ON COLUMN orders."Amount" IS NULL',
        "COMMIT",
    ]


def test_ensure_column_offline_adds_its_constraints_not_valid() -> None:
    column = sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), comment="who")
    assert script(lambda op: op.ensure_column("orders", column)) == [
        "BEGIN",
        "ALTER TABLE orders ADD COLUMN customer_id INTEGER",
        "ALTER TABLE orders ADD CONSTRAINT fk_orders_customer_id_customers FOREIGN "
        "KEY(customer_id) REFERENCES customers (id) NOT VALID",
        "COMMENT ON COLUMN orders.customer_id IS 'who'",
        "COMMIT",
        "ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_customer_id_customers",
        "BEGIN",
        "COMMIT",
    ]


def test_create_or_sync_table_offline_prints_if_not_exists_forms() -> None:
    out = script(
        lambda op: op.create_or_sync_table(
            "tickets",
            sa.Column("id", sa.BigInteger, primary_key=True),
            sa.Column("state", Choice(["open", "shut"]), server_default="open", nullable=False),
            sa.Column("note", sa.Text, comment="free text"),
            sa.Index("ix_tickets_state", "state"),
        )
    )
    assert out[1].startswith("-- create_or_sync_table tickets: offline")
    assert out[1].endswith(
        "CREATE TABLE IF NOT EXISTS tickets ( id BIGSERIAL NOT NULL, state VARCHAR(20) "
        "DEFAULT 'open' NOT NULL, note TEXT, CONSTRAINT pk_tickets PRIMARY KEY (id), "
        "CONSTRAINT ck_tickets_state CHECK (state IN ('open', 'shut')) )"
    )
    assert out[2:] == [
        "ALTER TABLE tickets ADD COLUMN IF NOT EXISTS state VARCHAR(20) DEFAULT 'open' NOT NULL, "
        "ADD COLUMN IF NOT EXISTS note TEXT",
        "CREATE INDEX IF NOT EXISTS ix_tickets_state ON tickets (state)",
        "COMMENT ON COLUMN tickets.note IS 'free text'",
        "COMMIT",
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda op: op.add_choice_column("t", "c", []), "No choices given for t.c"),
        (lambda op: op.add_choice_column("t", "c", ["a", "a"]), "Duplicate choices for t.c: 'a'"),
        (
            lambda op: op.add_choice_column("t", "c", ["a"], server_default="b"),
            "server_default 'b' of t.c is not one of its values: 'a'.",
        ),
        (
            lambda op: op.add_choice_column("t", "c", ["abcdef"], length=3),
            "Choices for t.c longer than the column (VARCHAR(3)): 'abcdef'",
        ),
        (lambda op: op.alter_choices("t", "c", "abc"), "not the single string 'abc'"),
    ],
)
def test_bad_arguments_fail_before_any_sql(call, message: str) -> None:  # type: ignore[no-untyped-def]
    printed: list[str] = []

    def run(op):  # type: ignore[no-untyped-def]
        printed.append("called")
        call(op)

    with pytest.raises(InvalidChoices) as err:
        offline(run)
    assert message in str(err.value)
    assert printed == ["called"]


def test_reverse_of_each_op() -> None:
    add = AddChoiceColumnOp("t", "c", ["a", "b"], length=9, server_default="a")
    drop = add.reverse()
    assert isinstance(drop, DropChoiceColumnOp) and drop.reverse() is add
    with pytest.raises(Irreversible, match="not reversible"):
        DropChoiceColumnOp("t", "c").reverse()

    alter = AlterChoicesOp("t", "c", ["a", "b", "z"], existing_values=["a", "b"], length=30)
    back = alter.reverse()
    assert (back.values, back.existing_values, back.length) == (("a", "b"), ("a", "b", "z"), None)
    with pytest.raises(Irreversible, match="existing_values"):
        AlterChoicesOp("t", "c", ["a"]).reverse()

    check = AddCheckConstraintOp("ck_t_x", "t", "x > 0").reverse()
    assert isinstance(check, alembic_ops.DropConstraintOp)
    assert (check.constraint_name, check.constraint_type) == ("ck_t_x", "check")
    fk = AddForeignKeyOp("fk", "t", "u", ["u_id"], ["id"]).reverse()
    assert (fk.constraint_name, fk.constraint_type) == ("fk", "foreignkey")
    index = AddIndexOp("ix", "t", ["c"], postgresql_concurrently=True).reverse()
    assert isinstance(index, alembic_ops.DropIndexOp)
    assert (index.index_name, index.kw) == ("ix", {})
    comment = AddCommentOp("t", "new", existing_comment="old").reverse()
    assert (comment.comment, comment.existing_comment) == ("old", "new")
    column = EnsureColumnOp("t", sa.Column("n", sa.Integer)).reverse()
    assert isinstance(column, alembic_ops.DropColumnOp) and column.column_name == "n"
    table = CreateOrSyncTableOp("t", [sa.Column("id", sa.Integer)]).reverse()
    assert isinstance(table, alembic_ops.DropTableOp) and table.table_name == "t"
