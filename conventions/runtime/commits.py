"""Remember when a migration step committed part of its work before it finished.

A step normally runs in one transaction, so a failure leaves nothing behind. The
statements that must not share it (``VALIDATE CONSTRAINT``, ``CREATE INDEX
CONCURRENTLY``) run in Alembic's ``autocommit_block``, which first commits the work
so far. After that, "rolled back, nothing was applied" would be false: the op runner
notes the first statement run outside the transaction here, and the step runner
(which forgets it when a step begins) says "partly applied" instead.

The note lives on the step's MigrationContext — the one object the op runner and the
step runner share — so two migrations in one process never see each other's.
"""

from __future__ import annotations

from typing import Any

_ATTRIBUTE = "_conventions_committed_before"


def note(context: Any, statement: str) -> None:
    """Record that work before ``statement`` was committed (the first such statement wins)."""
    if getattr(context, _ATTRIBUTE, None) is None:
        setattr(context, _ATTRIBUTE, statement)


def committed_before(context: Any) -> str | None:
    """The statement before which this step's work was committed, or None if none was."""
    return getattr(context, _ATTRIBUTE, None)


def forget(context: Any) -> None:
    """Start a step with nothing committed."""
    setattr(context, _ATTRIBUTE, None)
