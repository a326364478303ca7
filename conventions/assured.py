"""``with conventions.safety_assured("why"):`` — the reviewed escape from the safety check.

strong_migrations' ``safety_assured { … }``: inside the block the safety check lets
plain operations through. The reason is mandatory and is kept: every reason used
during a migration step (with what it let through) goes into that step's history row
(``migration_meta.history.note``), so "who decided this was safe, and why" is answered
by the database, not by git blame.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from conventions.errors import InvalidArgument

_reasons: ContextVar[tuple[str, ...]] = ContextVar("safety_assured", default=())
_notes: ContextVar[list[str] | None] = ContextVar("safety_notes", default=None)


@contextmanager
def safety_assured(reason: str) -> Iterator[None]:
    """Let the operations inside through the safety check, recording ``reason``."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidArgument(
            'safety_assured needs a reason: safety_assured("why this is safe here")',
            operation="safety_assured",
        )
    token = _reasons.set((*_reasons.get(), reason.strip()))
    note(f"safety_assured: {reason.strip()}")
    try:
        yield
    finally:
        _reasons.reset(token)


def current_reason() -> str | None:
    """The innermost reason in force, or None outside any ``safety_assured`` block."""
    reasons = _reasons.get()
    return reasons[-1] if reasons else None


@contextmanager
def collecting() -> Iterator[list[str]]:
    """Collect the notes of one migration step (the runner wraps each attempt in this)."""
    notes: list[str] = []
    token = _notes.set(notes)
    try:
        yield notes
    finally:
        _notes.reset(token)


def note(text: str) -> None:
    """Add a line to the current step's history note (dropped outside a step)."""
    notes = _notes.get()
    if notes is not None and text not in notes:
        notes.append(text)


def step_note(existing: str | None) -> str | None:
    """Return the step's note: ``existing`` plus what was collected during the step."""
    notes = _notes.get() or []
    lines = ([existing] if existing else []) + notes
    return "\n".join(lines) or None
