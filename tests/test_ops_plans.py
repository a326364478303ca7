"""The house ops' decisions, offline: catalog rows in, steps out, no database.

Each op reads the catalog, then decides (a pure function of what it read), then
runs the steps. These tests hand the deciding part catalog rows written by hand and
read back the steps it chose, in order — what it checks before the first statement,
what it adds NOT VALID and validates, what it skips with a warning — or the conflict
it raises before anything. The online behaviour is pinned against a real server in
tests/test_ops_choice.py, test_ops_alter_choices.py and test_ops_generic.py.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from conventions.choice import Choice
from conventions.db import catalog
from conventions.errors import DefinitionConflict
from conventions.operations import AddChoiceColumnOp, AlterChoicesOp
from conventions.ops.choice_alter import ChoiceState, offline_alter_choices, plan_alter_choices
from conventions.ops.choice_impl import offline_add_choice_column, plan_add_choice_column
from conventions.ops.steps import Check, Validate
from conventions.ops.table_compare import TableState, plan_sync


def table_info(*, created_in_transaction: bool = False) -> catalog.TableInfo:
    return catalog.TableInfo(
        oid=1, name="orders", schema="public", created_in_transaction=created_in_transaction
    )


def varchar(name: str, length: int, *, not_null: bool = False) -> catalog.ColumnInfo:
    return catalog.ColumnInfo(
        name, f"character varying({length})", length, True, not_null, None, None
    )


def choice_check(name: str, column: str, values: list[str], *, validated: bool = True):
    items = ", ".join(f"'{v}'::character varying" for v in values)
    definition = f"CHECK ((({column})::text = ANY ((ARRAY[{items}])::text[])))"
    return catalog.ConstraintInfo(name, "c", definition, validated, True)


def lines(steps: list) -> list[str]:
    return [str(step) for step in steps]


# add_choice_column ------------------------------------------------------------------


def test_add_choice_column_plan_on_a_busy_table_adds_not_valid_then_validates() -> None:
    op = AddChoiceColumnOp("orders", "status", ["new", "paid"], server_default="new")
    steps = plan_add_choice_column(op, table_info(), None, None)
    assert lines(steps) == [
        "ALTER TABLE orders ADD COLUMN status VARCHAR(20) DEFAULT 'new'",
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status CHECK (status IN ('new', 'paid')) "
        "NOT VALID",
        "VALIDATE ck_orders_status (own transaction)",
    ]


def test_add_choice_column_plan_on_a_new_table_checks_inline() -> None:
    op = AddChoiceColumnOp("orders", "status", ["new", "paid"])
    steps = plan_add_choice_column(op, table_info(created_in_transaction=True), None, None)
    assert lines(steps) == [
        "ALTER TABLE orders ADD COLUMN status VARCHAR(20) CONSTRAINT ck_orders_status "
        "CHECK (status IN ('new', 'paid'))"
    ]


def test_add_choice_column_plan_not_null_without_default_checks_for_rows_first() -> None:
    op = AddChoiceColumnOp("orders", "status", ["new"], nullable=False)
    steps = plan_add_choice_column(op, table_info(), None, None)
    assert isinstance(steps[0], Check)
    assert lines(steps)[0] == "check: orders has no rows (NOT NULL without a default)"
    assert lines(steps)[1] == "ALTER TABLE orders ADD COLUMN status VARCHAR(20) NOT NULL"


def test_add_choice_column_plan_after_a_half_applied_run_checks_data_then_adds_the_check() -> None:
    op = AddChoiceColumnOp("orders", "status", ["new", "paid"])
    steps = plan_add_choice_column(op, table_info(), varchar("status", 20), None)
    assert lines(steps) == [
        "check: no rows that hold other values in status (ck_orders_status)",
        "warn: Column orders.status already exists, skipping",
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status CHECK (status IN ('new', 'paid')) "
        "NOT VALID",
        "VALIDATE ck_orders_status (own transaction)",
    ]


def test_add_choice_column_plan_when_all_is_there_only_warns() -> None:
    op = AddChoiceColumnOp("orders", "status", ["paid", "new"])  # order does not matter
    existing = choice_check("ck_orders_status", "status", ["new", "paid"])
    steps = plan_add_choice_column(op, table_info(), varchar("status", 20), existing)
    assert lines(steps) == [
        "warn: Column orders.status already exists, skipping",
        "warn: Constraint ck_orders_status on orders already exists, skipping",
    ]


def test_add_choice_column_plan_validates_a_not_valid_leftover_after_checking_rows() -> None:
    op = AddChoiceColumnOp("orders", "status", ["new", "paid"])
    existing = choice_check("ck_orders_status", "status", ["new", "paid"], validated=False)
    steps = plan_add_choice_column(op, table_info(), varchar("status", 20), existing)
    assert lines(steps)[1:] == [
        "warn: Constraint ck_orders_status on orders exists but is NOT VALID; validating it",
        "check: no rows that hold other values in status (ck_orders_status)",
        "VALIDATE ck_orders_status (own transaction)",
    ]


def test_add_choice_column_plan_refuses_a_different_column_or_check_before_any_step() -> None:
    op = AddChoiceColumnOp("orders", "status", ["new", "paid"])
    with pytest.raises(DefinitionConflict, match="already exists with another definition"):
        plan_add_choice_column(op, table_info(), varchar("status", 40), None)
    other = choice_check("ck_orders_status", "status", ["new"])
    with pytest.raises(DefinitionConflict, match="Constraint ck_orders_status on orders"):
        plan_add_choice_column(op, table_info(), None, other)


def test_add_choice_column_offline_prints_the_busy_table_steps() -> None:
    op = AddChoiceColumnOp("orders", "status", ["new"], comment="where it is")
    assert lines(offline_add_choice_column(op)) == [
        "ALTER TABLE orders ADD COLUMN status VARCHAR(20)",
        "COMMENT ON COLUMN orders.status IS 'where it is'",
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status CHECK (status IN ('new')) NOT VALID",
        "VALIDATE ck_orders_status (own transaction)",
    ]


# alter_choices ----------------------------------------------------------------------


def state(
    values: list[str] | None, *, length: int = 4, new: list[str] | None = None, **kw: bool
) -> ChoiceState:
    old = choice_check("ck_orders_status", "status", values) if values is not None else None
    temp = choice_check("ck_orders_status_new", "status", new) if new is not None else None
    return ChoiceState(table_info(**kw), varchar("status", length), old, temp)


def test_alter_choices_plan_adding_values_skips_the_scan_and_swaps_the_check() -> None:
    op = AlterChoicesOp("orders", "status", ["new", "paid", "sent"])
    steps = plan_alter_choices(op, state(["new", "paid"]))
    assert lines(steps) == [
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status_new "
        "CHECK (status IN ('new', 'paid', 'sent')) NOT VALID",
        "VALIDATE ck_orders_status_new (own transaction)",
        "ALTER TABLE orders DROP CONSTRAINT ck_orders_status",
        "ALTER TABLE orders RENAME CONSTRAINT ck_orders_status_new TO ck_orders_status",
    ]
    validate = steps[1]
    assert isinstance(validate, Validate) and set(validate.added) == {"ck_orders_status_new"}


def test_alter_choices_plan_removing_a_value_checks_the_rows_first() -> None:
    op = AlterChoicesOp("orders", "status", ["new"])
    steps = plan_alter_choices(op, state(["new", "paid"]))
    assert lines(steps)[0] == "check: no rows that hold other values in status (ck_orders_status)"
    assert len(steps) == 5


def test_alter_choices_plan_finishes_an_interrupted_swap() -> None:
    op = AlterChoicesOp("orders", "status", ["new", "paid", "sent"])
    found = state(["new", "paid"])
    values = ["sent", "paid", "new"]
    leftover = choice_check("ck_orders_status_new", "status", values, validated=False)
    steps = plan_alter_choices(op, ChoiceState(found.table, found.column, found.old, leftover))
    assert lines(steps) == [  # no second ADD
        "VALIDATE ck_orders_status_new (own transaction)",
        "ALTER TABLE orders DROP CONSTRAINT ck_orders_status",
        "ALTER TABLE orders RENAME CONSTRAINT ck_orders_status_new TO ck_orders_status",
    ]


def test_alter_choices_plan_with_the_same_values_only_warns() -> None:
    op = AlterChoicesOp("orders", "status", ["paid", "new"])
    assert lines(plan_alter_choices(op, state(["new", "paid"]))) == [
        "warn: orders.status already allows exactly these values, skipping"
    ]


def test_alter_choices_plan_narrowing_checks_lengths_then_changes_type_in_one_transaction() -> None:
    op = AlterChoicesOp("orders", "status", ["new", "paid"], length=4)
    steps = plan_alter_choices(op, state(["new", "paid"], length=20))
    assert lines(steps) == [
        "check: no value longer than 4",
        "ALTER TABLE orders DROP CONSTRAINT ck_orders_status",
        "warn: Narrowing orders.status to VARCHAR(4) rewrites orders under ACCESS EXCLUSIVE",
        "ALTER TABLE orders ALTER COLUMN status TYPE VARCHAR(4)",
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status CHECK (status IN ('new', 'paid')) "
        "NOT VALID",
        "VALIDATE ck_orders_status (own transaction)",
    ]


def test_alter_choices_plan_refuses_drift_before_any_step() -> None:
    op = AlterChoicesOp("orders", "status", ["new", "sent"], existing_values=["new", "paid"])
    with pytest.raises(DefinitionConflict, match="does not allow the values this migration"):
        plan_alter_choices(op, state(["new", "gone"]))
    with pytest.raises(DefinitionConflict, match="leftover ck_orders_status_new"):
        plan_alter_choices(op, state(["new", "paid"], new=["other"]))
    text = catalog.ColumnInfo("status", "integer", None, False, False, None, None)
    with pytest.raises(DefinitionConflict, match="is not a VARCHAR"):
        plan_alter_choices(op, ChoiceState(table_info(), text, None, None))


def test_alter_choices_offline_prints_the_swap() -> None:
    assert lines(offline_alter_choices(AlterChoicesOp("orders", "status", ["a"]))) == [
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status_new CHECK (status IN ('a')) NOT VALID",
        "VALIDATE ck_orders_status_new (own transaction)",
        "ALTER TABLE orders DROP CONSTRAINT ck_orders_status",
        "ALTER TABLE orders RENAME CONSTRAINT ck_orders_status_new TO ck_orders_status",
    ]


# create_or_sync_table / ensure_column -------------------------------------------------


def orders_table() -> sa.Table:
    return sa.Table(
        "orders",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("status", Choice(["new", "paid"]), comment="lifecycle"),
        sa.CheckConstraint("id > 0", name="ck_orders_positive"),
    )


def integer(name: str, *, not_null: bool = True) -> catalog.ColumnInfo:
    return catalog.ColumnInfo(name, "integer", None, False, not_null, None, None)


def test_sync_plan_adds_the_missing_column_and_check_not_valid() -> None:
    positive = catalog.ConstraintInfo("ck_orders_positive", "c", "CHECK ((id > 0))", True, True)
    status_check = choice_check("ck_orders_status", "status", ["new", "paid"])
    pk = catalog.ConstraintInfo("pk_orders", "p", "PRIMARY KEY (id)", True, True)
    found = TableState(
        have_columns={"id": integer("id"), "legacy": integer("legacy", not_null=False)},
        want_columns={"id": integer("id"), "status": varchar("status", 4)},
        have_constraints={"pk_orders": pk},
        want_constraints={
            "pk_orders": pk,
            "ck_orders_positive": positive,
            "ck_orders_status": status_check,
        },
        have_indexes={},
        want_indexes={},
        comments={"status": None},
    )
    plan = plan_sync(orders_table(), table_info(), found, partial=False)
    assert [c.name for c in plan.columns] == ["status"]
    assert plan.constraints == [
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_positive CHECK (id > 0) NOT VALID",
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_status CHECK (status IN ('new', 'paid')) "
        "NOT VALID",
    ]
    assert plan.validate == ["ck_orders_positive", "ck_orders_status"]
    assert set(plan.rejected) == set(plan.added) == {"ck_orders_positive", "ck_orders_status"}
    assert plan.comments == ["COMMENT ON COLUMN orders.status IS 'lifecycle'"]
    assert plan.notes == ["orders.legacy exists in the database but not in this definition; kept"]
    assert plan.existing == []
    # ensure_column (partial) says nothing about the columns it was not given
    assert plan_sync(orders_table(), table_info(), found, partial=True).notes == []


def test_sync_plan_lists_every_difference_it_cannot_fix() -> None:
    pk = catalog.ConstraintInfo("pk_orders", "p", "PRIMARY KEY (id)", True, True)
    positive = catalog.ConstraintInfo("ck_orders_positive", "c", "CHECK ((id > 0))", True, True)
    other = catalog.ConstraintInfo("ck_orders_positive", "c", "CHECK ((id > 1))", True, True)
    found = TableState(
        have_columns={"id": integer("id"), "status": varchar("status", 9)},
        want_columns={"id": integer("id"), "status": varchar("status", 4)},
        have_constraints={"pk_orders": pk, "ck_orders_positive": other},
        want_constraints={"pk_orders": pk, "ck_orders_positive": positive},
        have_indexes={},
        want_indexes={},
        comments={"status": "something else"},
    )
    plan = plan_sync(orders_table(), table_info(), found, partial=False)
    assert plan.existing == [
        "column status: status character varying(9) NULL",
        "constraint ck_orders_positive: CHECK ((id > 1))",
        "comment on status: 'something else'",
    ]
    assert plan.wanted[0] == "column status: status character varying(4) NULL"
    assert plan.columns == [] and plan.constraints == []
