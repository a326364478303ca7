"""The one family of errors the house tooling raises.

Every error subclasses Alembic's ``CommandError`` so that ``alembic upgrade`` run
directly prints ``FAILED: <message>`` instead of a traceback, and our own CLI can
catch the whole family in one place (``conventions.cli.main``). Each error carries
the identifiers it is about, so tests and callers need not parse the message.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic.util import CommandError


class ConventionsError(CommandError):
    """Base class: a message saying what happened, why, and what to do next."""

    def __init__(self, message: str, *, hints: Sequence[str] = ()) -> None:
        self.message = message
        self.hints = tuple(hints)
        super().__init__(self.render())

    def render(self) -> str:
        if not self.hints:
            return self.message
        return self.message + "\n" + "\n".join(f"  → {hint}" for hint in self.hints)


class DatabaseUrlError(ConventionsError):
    """DATABASE_URL is set but cannot be used as a PostgreSQL URL."""


class CannotConnect(ConventionsError):
    """The server is unreachable, refused the login, or lacks the database."""

    def __init__(self, message: str, *, url: str, reason: str, hints: Sequence[str] = ()) -> None:
        self.url = url
        self.reason = reason
        super().__init__(message, hints=hints)


class EmbeddedServerError(ConventionsError):
    """The embedded PostgreSQL under .pgdata/ could not be started or stopped."""


class RelationMissing(ConventionsError):
    """A migration refers to a table that does not exist."""

    def __init__(self, message: str, *, table: str, hints: Sequence[str] = ()) -> None:
        self.table = table
        super().__init__(message, hints=hints)


class PermissionDenied(ConventionsError):
    """The database user lacks a privilege the migration needs."""


class ConstraintViolation(ConventionsError):
    """Existing rows would break a constraint or a narrower definition."""

    def __init__(
        self,
        message: str,
        *,
        table: str,
        column: str | None = None,
        count: int | None = None,
        samples: Sequence[object] = (),
        hints: Sequence[str] = (),
    ) -> None:
        self.table = table
        self.column = column
        self.count = count
        self.samples = tuple(samples)
        super().__init__(message, hints=hints)


class DefinitionConflict(ConventionsError):
    """An object already exists with a different definition; skipping would hide drift."""

    def __init__(self, message: str, *, name: str, existing: str, wanted: str) -> None:
        self.name = name
        self.existing = existing
        self.wanted = wanted
        super().__init__(
            f"{message}\n  existing: {existing}\n  wanted:   {wanted}",
            hints=[
                "The database has drifted from the migrations; reconcile it by hand "
                "or write a migration that changes the definition explicitly."
            ],
        )


class MultipleHeads(ConventionsError):
    """The revision graph has more than one head."""

    def __init__(self, heads: Sequence[str]) -> None:
        self.heads = tuple(heads)
        super().__init__(
            f"Multiple heads: {', '.join(self.heads)}. Two migrations were written on top of "
            "the same parent.",
            hints=[f"Merge them: alembic merge -m 'merge heads' {' '.join(self.heads)}"],
        )


class MigrationFailed(ConventionsError):
    """A migration raised; its transaction was rolled back."""

    def __init__(self, message: str, *, revision: str, hints: Sequence[str] = ()) -> None:
        self.revision = revision
        super().__init__(message, hints=hints)
