"""What running one migration step involves, decided before anything touches the database.

The step runner's execution (one transaction per attempt, the retry loop, the history
row) is short because the decisions come first and come from here: which revision and
file a history row is about, what it vouches for, whether a downgrade archives the
data its drops destroy, and how often the blocker watch looks. Pure, so tested
offline (tests/test_runtime_step_plans.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conventions.history.checksums import file_checksum
from conventions.runtime.limits import Limits
from conventions.runtime.progress import step_name


@dataclass(frozen=True)
class StepPlan:
    """What running one step involves, decided before anything touches the database."""

    revision: str
    file_name: str | None
    name: str  # the file stem people know the migration by
    direction: str
    checksum: str | None  # what the history row vouches for (never for a downgrade)
    archive_drops: bool  # a downgrade archives the data its drops would destroy
    watch_interval: float  # how often the blocker watch looks while the step waits


def plan_step(
    step: Any,
    subject: tuple[str, str | None],
    *,
    direction: str,
    limits: Limits,
    checksum: Callable[[str], str | None] | None = None,
) -> StepPlan:
    """Decide how to run and record ``step`` (``subject``: its revision id and file path).

    The blocker watch looks at least three times within one lock timeout, so a session
    that blocks the step only briefly is still named when the step gives up.
    """
    revision, path = subject
    downgrade = direction == "downgrade"
    return StepPlan(
        revision=revision,
        file_name=Path(path).name if path else None,
        name=step_name(step),
        direction=direction,
        checksum=None if downgrade or not path else (checksum or present_checksum)(path),
        archive_drops=downgrade,
        watch_interval=min(1.0, limits.lock_timeout / 3) if limits.lock_timeout else 1.0,
    )


def present_checksum(path: str) -> str | None:
    """The file's checksum, or None when the file is gone (nothing left to vouch for)."""
    return file_checksum(path) if Path(path).is_file() else None
