"""Errors render from their fields: placing one in a failed migration edits no text.

Offline (no database): the sentences about what a failure left are written once, in
``conventions.errors``, and follow the ``outcome`` the step runner sets.
"""

from __future__ import annotations

import pytest
from alembic.util import CommandError

from conventions.errors import (
    CONVERGE,
    ConstraintViolation,
    ConventionsError,
    InvalidArgument,
    Irreversible,
    MigrationInterrupted,
    Outcome,
)


def _refused() -> ConstraintViolation:
    return ConstraintViolation(
        "Cannot add constraint ck_t_x to t: 2 row(s) of t fail CHECK (x > 0).",
        table="t",
        hints=["Fix those rows first."],
        unchanged=True,
    )


def test_an_operation_that_changed_nothing_says_so() -> None:
    err = _refused()
    assert str(err) == (
        "Cannot add constraint ck_t_x to t: 2 row(s) of t fail CHECK (x > 0). "
        "Nothing was changed.\n  → Fix those rows first."
    )
    assert err.outcome is None


def test_a_rolled_back_migration_is_named_and_the_message_kept() -> None:
    err = _refused().in_migration("20990101-m1")
    assert err.outcome is Outcome.ROLLED_BACK
    assert str(err).startswith(
        "Migration 20990101-m1 failed and was rolled back: Cannot add constraint ck_t_x"
    )
    assert "Nothing was changed." in str(err)
    assert err.message.startswith("Cannot add constraint")  # the field is not rewritten
    assert err.hints == ("Fix those rows first.",)


def test_a_partly_applied_migration_speaks_for_the_failing_operation_only() -> None:
    statement = "ALTER TABLE t VALIDATE CONSTRAINT ck_t_y"
    err = _refused().in_migration("20990101-m1", committed_before=statement)
    assert err.outcome is Outcome.PARTLY_APPLIED
    text = str(err)
    assert text.startswith(
        f"Migration 20990101-m1 failed and was partly applied (work before {statement} "
        "was committed): Cannot add constraint"
    )
    assert "That operation changed nothing." in text and "Nothing was changed" not in text
    assert err.hints == (CONVERGE, "Fix those rows first.")
    assert err.own_hints == ("Fix those rows first.",)


def test_a_bookkeeping_failure_says_no_migration_ran() -> None:
    err = ConventionsError("The database refused a query: boom").before_any_migration()
    assert str(err) == (
        "Before running any migration, the runtime's bookkeeping (alembic_version, schema "
        "migration_meta) failed; nothing was applied. The database refused a query: boom"
    )


def test_irreversible_and_invalid_arguments_are_in_the_family() -> None:
    irreversible = Irreversible("drop_x is not reversible.", operation="drop_x")
    assert isinstance(irreversible, CommandError) and isinstance(irreversible, NotImplementedError)
    assert irreversible.operation == "drop_x"
    invalid = InvalidArgument("batch_size must be at least 1", operation="backfill")
    assert isinstance(invalid, ConventionsError) and isinstance(invalid, ValueError)


@pytest.mark.parametrize(
    ("interrupt", "expected", "hint"),
    [
        (
            MigrationInterrupted(direction="upgrade", applied=()),
            "Interrupted before any migration ran; nothing was changed.",
            None,
        ),
        (
            MigrationInterrupted(direction="upgrade", applied=(), migration="m2"),
            "Interrupted during m2: it was rolled back; nothing was changed.",
            None,
        ),
        (
            MigrationInterrupted(direction="upgrade", applied=("m1",), migration="m2"),
            "Interrupted during m2: it was rolled back; 1 step(s) finished before it and stay "
            "applied: m1.",
            "To finish: python -m conventions migrate.",
        ),
        (
            MigrationInterrupted(
                direction="downgrade", applied=(), migration="m2", committed_before="DROP …"
            ),
            "Interrupted during m2: it was partly applied (work before DROP … was committed; "
            "the rest was rolled back).",
            "To finish: python -m conventions rollback REVISION",
        ),
        (
            MigrationInterrupted(direction="upgrade", applied=("m1", "m2")),
            "Interrupted between migrations; 2 step(s) finished before it and stay applied: "
            "m1, m2.",
            "To finish: python -m conventions migrate.",
        ),
    ],
)
def test_an_interrupt_says_what_it_left(
    interrupt: MigrationInterrupted, expected: str, hint: str | None
) -> None:
    assert isinstance(interrupt, KeyboardInterrupt)
    assert not isinstance(interrupt, Exception)  # `except Exception` never swallows it
    assert interrupt.render() == expected
    if hint is None:
        assert interrupt.hints == ()
    else:
        assert interrupt.hints[0].startswith(hint)
