"""The one family of errors the house tooling raises.

Every error subclasses Alembic's ``CommandError`` so that ``alembic upgrade`` run
directly prints ``FAILED: <message>`` instead of a traceback, and our own CLI can
catch the whole family in one place (``conventions.cli.main``). Each error carries
the identifiers it is about, so tests and callers need not parse the message.

An error renders from its fields in ``__str__`` (as pytest-alembic's failures do):
nothing edits a message after the error is built. What the failure left in the
database is a field too: the operation that raised says whether it changed nothing
(``unchanged``); the step runner, which alone knows whether the migration's work was
rolled back or partly committed, sets the ``outcome`` (``in_migration``). The
sentences that say so are written here, once.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Self

from alembic.util import CommandError

from conventions.db.redact import redact


class Outcome(enum.Enum):
    """What a failed migration left behind, as the step runner knows it."""

    ROLLED_BACK = "rolled back"
    """The step's transaction was rolled back: nothing of the migration stays."""
    PARTLY_APPLIED = "partly applied"
    """Work before ``committed_before`` was committed (a house op had to leave the
    transaction); the rest was rolled back."""
    NOT_STARTED = "not started"
    """The runtime's own bookkeeping failed before any migration ran."""


CONVERGE = (
    "The house ops converge when re-run — fix the cause and run it again. Plain op.* calls "
    "before that point run again too: guard them, or use the house op."
)


class ConventionsError(CommandError):
    """Base class: a message saying what happened, why, and what to do next.

    ``message`` says what happened; ``unchanged`` that the raising operation changed
    nothing (it checked before any DDL); ``details`` is text shown after that sentence
    (a definition listing); ``hints`` what to do. ``outcome``, ``migration`` and
    ``committed_before`` are set by :meth:`in_migration` once a step has failed.
    """

    def __init__(
        self,
        message: str,
        *,
        hints: Sequence[str] = (),
        unchanged: bool = False,
        details: str = "",
    ) -> None:
        self.message = message
        self.own_hints = tuple(hints)
        self.unchanged = unchanged
        self.details = details
        self.outcome: Outcome | None = None
        self.migration: str | None = None
        self.committed_before: str | None = None
        super().__init__(redact(message))  # args (repr, pickling) are masked too

    def in_migration(self, migration: str, *, committed_before: str | None = None) -> Self:
        """Say that migration step ``migration`` failed with this error (already rolled back).

        ``committed_before``: the statement before which the step had committed its
        work (:mod:`conventions.runtime.commits`), or None when nothing of it stays.
        """
        self.migration = migration
        self.committed_before = committed_before
        self.outcome = Outcome.ROLLED_BACK if committed_before is None else Outcome.PARTLY_APPLIED
        return self

    def before_any_migration(self) -> Self:
        """Say that the runtime's bookkeeping failed before any migration ran."""
        self.outcome = Outcome.NOT_STARTED
        return self

    @property
    def hints(self) -> tuple[str, ...]:
        """What to do next: how to resume a partly applied migration first, then the rest."""
        if self.outcome is Outcome.PARTLY_APPLIED:
            return (CONVERGE, *self.own_hints)
        return self.own_hints

    def unchanged_sentence(self) -> str:
        """Say the raising operation changed nothing — of itself only, once work was committed."""
        if not self.unchanged:
            return ""
        if self.outcome is Outcome.PARTLY_APPLIED:
            return "That operation changed nothing."
        return "Nothing was changed."

    def headline(self) -> str:
        """The paragraph without hints: where it failed, what happened, what it left."""
        text = " ".join(part for part in (self.message, self.unchanged_sentence()) if part)
        text += self.details
        if self.outcome is Outcome.ROLLED_BACK:
            return f"Migration {self.migration} failed and was rolled back: {text}"
        if self.outcome is Outcome.PARTLY_APPLIED:
            return (
                f"Migration {self.migration} failed and was partly applied (work before "
                f"{self.committed_before} was committed): {text}"
            )
        if self.outcome is Outcome.NOT_STARTED:
            return (
                "Before running any migration, the runtime's bookkeeping (alembic_version, "
                f"schema migration_meta) failed; nothing was applied. {text}"
            )
        return text

    def render(self) -> str:
        # Every error is shown somewhere (console, alembic's FAILED:, history, JSON):
        # masking here means no caller has to remember to.
        hints = self.hints
        if not hints:
            return redact(self.headline())
        return redact(self.headline() + "\n" + "\n".join(f"  → {hint}" for hint in hints))

    def __str__(self) -> str:
        return self.render()


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
        unchanged: bool = False,
    ) -> None:
        self.table = table
        self.column = column
        self.count = count
        self.samples = tuple(samples)
        super().__init__(message, hints=hints, unchanged=unchanged)


class DefinitionConflict(ConventionsError):
    """An object already exists with a different definition; skipping would hide drift."""

    def __init__(
        self, message: str, *, name: str, existing: str, wanted: str, unchanged: bool = False
    ) -> None:
        self.name = name
        self.existing = existing
        self.wanted = wanted
        super().__init__(
            message,
            details=f"\n  existing: {existing}\n  wanted:   {wanted}",
            unchanged=unchanged,
            hints=[
                "The database has drifted from the migrations; reconcile it by hand "
                "or write a migration that changes the definition explicitly."
            ],
        )


class ColumnMissing(ConventionsError):
    """A migration refers to a column its table does not have."""

    def __init__(self, message: str, *, table: str, column: str) -> None:
        self.table = table
        self.column = column
        super().__init__(
            message,
            hints=[
                "Run earlier migrations first (alembic upgrade head, or python -m conventions "
                "migrate) — is one missing from the chain?",
                "Check the column name's spelling; quoted names are case-sensitive.",
            ],
        )


class InvalidChoices(ConventionsError, ValueError):
    """A choice column was declared with an unusable set of values (empty, duplicated, …)."""

    def __init__(self, message: str, *, column: str | None, values: Sequence[object]) -> None:
        self.column = column
        self.values = tuple(values)
        super().__init__(message)


class ValueNotAllowed(ConventionsError, ValueError):
    """A value outside a choice column's allowed set was assigned to it."""

    def __init__(self, *, column: str, value: object, allowed: Sequence[str]) -> None:
        self.column = column
        self.value = value
        self.allowed = tuple(allowed)
        shown = ", ".join(repr(v) for v in self.allowed)
        super().__init__(f"{column} must be one of: {shown}; got {value!r}.")


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


class InvalidSetting(ConventionsError):
    """An environment variable that tunes the runtime has a value we cannot use."""

    def __init__(self, name: str, value: str, expected: str) -> None:
        self.name = name
        self.value = value
        super().__init__(
            f"{name}={value!r} is not valid: expected {expected}.",
            hints=[f"Fix or unset {name} (see README, Environment variables)."],
        )


class MigratorBusy(ConventionsError):
    """Another migrator held the advisory lock for longer than we were willing to wait."""

    def __init__(
        self, message: str, *, pid: int | None, waited: float, hints: Sequence[str] = ()
    ) -> None:
        self.pid = pid
        self.waited = waited
        super().__init__(message, hints=hints)


class TableBusy(ConventionsError):
    """A migration could not get its table lock within lock_timeout, even after retries.

    Each attempt ran in a transaction of its own and was rolled back; ``committed_before``
    names the statement before which an earlier attempt had committed work (that stays).
    ``blocked_by`` says who held the lock.
    """

    def __init__(
        self,
        message: str,
        *,
        revision: str,
        attempts: int,
        blocking_pids: Sequence[int] = (),
        hints: Sequence[str] = (),
        committed_before: str | None = None,
        blocked_by: str = "",
    ) -> None:
        self.revision = revision
        self.attempts = attempts
        self.blocking_pids = tuple(blocking_pids)
        self.blocked_by = blocked_by
        super().__init__(message, hints=hints)
        self.in_migration(revision, committed_before=committed_before)

    def headline(self) -> str:
        if self.outcome is Outcome.PARTLY_APPLIED:
            left = (
                f"It was partly applied: work before {self.committed_before} was committed; "
                "each attempt's open transaction was rolled back."
            )
        else:
            left = "Each attempt was rolled back; nothing was applied."
        return " ".join(part for part in (self.message, left, self.blocked_by) if part)


class EditedMigration(ConventionsError):
    """A migration file changed after it was applied (its checksum no longer matches)."""

    def __init__(self, files: Sequence[tuple[str, str]]) -> None:
        self.files = tuple(files)  # (revision, file name)
        names = ", ".join(f"{name} ({revision})" for revision, name in self.files)
        super().__init__(
            f"Applied migration(s) edited since they ran: {names}. Nothing was run: the "
            "database would no longer match what these files say.",
            hints=[
                "Undo the edit (git checkout the file) and put the change in a new migration: "
                "alembic revision -m '…'",
                "If the edit is intended and harmless (a comment, a typo in a docstring): "
                "python -m conventions repair — it records the new checksum and who repaired it.",
            ],
        )


class BaselineNeeded(ConventionsError):
    """The database has the application's tables but no version table: it predates migrations."""

    def __init__(self, tables: Sequence[str]) -> None:
        self.tables = tuple(tables)
        shown = ", ".join(self.tables[:5]) + (" …" if len(self.tables) > 5 else "")
        super().__init__(
            f"The database already has tables ({shown}) but no alembic_version table: it was "
            "built outside the migration system, and applying every migration from the first "
            "one would collide with them. Nothing was run.",
            hints=[
                "If its schema matches the latest migration: python -m conventions baseline "
                "(records it as at head; later migrations then apply normally).",
                "If it matches an older revision: python -m conventions baseline REVISION",
                "Compare first: python -m conventions status (drift) and "
                "python -m conventions inspect TABLE",
            ],
        )


class ArchiveError(ConventionsError):
    """An archive of rolled-back data cannot be listed, restored or purged as asked."""

    def __init__(self, message: str, *, name: str | None = None, hints: Sequence[str] = ()) -> None:
        self.name = name
        super().__init__(message, hints=hints)


class LintError(ConventionsError):
    """The lint could not do its job (as opposed to finding problems, which is exit 1)."""


class ManifestMalformed(LintError):
    """A line of the migration checksum manifest is not ``<sha256>  <file name>``."""

    def __init__(self, *, path: object, line: int, text: str) -> None:
        self.path = path
        self.line = line
        self.text = text
        super().__init__(
            f"{path}:{line}: not a checksum line: {text!r}.",
            hints=[
                "Each line is '<64 hex digits>  <migration file name>' (sha256sum format); "
                "restore the file from git or fix that line."
            ],
        )


class ModelsImportFailed(LintError):
    """``lint --models MODULE`` could not import the module: the project's code raised.

    ``path``/``line``/``code`` name the innermost line of the project's own files in
    the traceback (None when the error came from outside them).
    """

    def __init__(
        self,
        *,
        module: str,
        reason: str,
        path: str | None = None,
        line: int | None = None,
        code: str = "",
    ) -> None:
        self.module = module
        self.reason = reason
        self.path = path
        self.line = line
        if path is None:
            message = f"Cannot import {module} to check its metadata: {reason}"
            hints = ["Run it from the project root, or fix the import error above."]
        else:
            shown = f"\n    {code}" if code else ""
            message = (
                f"Cannot import {module} to check its metadata: the project's code raised "
                f"{reason} at {path}, line {line}.{shown}"
            )
            hints = [
                "This is an error in the project's module, not in the lint. Run the check "
                "in the project's own environment (its dependencies installed; pre-commit: "
                "the language: system hook from the project's venv).",
                "A module that needs an application context at import (Flask's "
                "current_app) cannot be imported bare: point [tool.conventions] metadata at "
                "a module that defines the models without it, or push the context there.",
            ]
        super().__init__(message, hints=hints)


class NoMetadataFound(LintError):
    """``lint --models`` imported the module but found no table to check."""

    def __init__(self, *, module: str, holders: int) -> None:
        self.module = module
        self.holders = holders
        what = (
            "no MetaData, declarative base, registry or Flask-SQLAlchemy db object among "
            "its globals"
            if not holders
            else f"{holders} metadata object(s) but no tables in them"
        )
        super().__init__(
            f"lint --models {module}: nothing to check: the module holds {what}.",
            hints=[
                "Name the module that defines (imports) the models: --models your.models, "
                'or [tool.conventions] metadata = "your.models" in pyproject.toml; '
                "MODULE:ATTR names the holder (your.app:db) once the models are imported.",
            ],
        )


class SquawkFailed(LintError):
    """squawk is missing, or produced no report for the SQL it was given."""


class SchemaDrift(ConventionsError):
    """The database differs from the models where the command needs them to match."""

    def __init__(
        self, message: str, *, differences: Sequence[str], hints: Sequence[str] = ()
    ) -> None:
        self.differences = tuple(differences)
        listed = "".join(f"\n  - {line}" for line in self.differences)
        super().__init__(message, details=listed, hints=hints)


class EnumNotAllowed(ConventionsError):
    """Autogenerate would write a native ENUM (sa.Enum / postgresql.ENUM) into a migration."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        super().__init__(
            f"Autogenerate would write an Enum type for {', '.join(self.columns)}. House "
            "policy: enumerated values are VARCHAR + a named CHECK, never a native ENUM. "
            "No migration was written.",
            hints=[
                "Declare the column with conventions.Choice([...]) or Choice(MyEnum) "
                "(it stores the values), then autogenerate again.",
                "Converting a column that is a native ENUM in the database: write that "
                "migration by hand (op.alter_column(..., type_=sa.String(n)), then "
                "op.alter_choices(...)).",
            ],
        )


class UnsupportedCommand(ConventionsError):
    """env.py was run by an Alembic command whose effect the house runtime cannot vouch for."""

    def __init__(self, message: str, *, function: str, hints: Sequence[str] = ()) -> None:
        self.function = function
        super().__init__(message, hints=hints)


class BrokenScript(ConventionsError):
    """Python could not load a migration file, env.py or a module they import."""

    def __init__(
        self, message: str, *, path: str, line: int | None, hints: Sequence[str] = ()
    ) -> None:
        self.path = path
        self.line = line
        super().__init__(message, hints=hints)


class DangerousOperation(ConventionsError):
    """A plain operation would lock or break a busy table; the safe way is named."""

    def __init__(
        self,
        *,
        check: str,
        operation: str,
        table: str,
        size: str,
        lock: str,
        why: str,
        instead: str,
        hints: Sequence[str] = (),
    ) -> None:
        self.check = check
        self.operation = operation
        self.table = table
        self.size = size
        self.lock = lock
        self.why = why
        self.instead = instead
        super().__init__(
            f"Refused {operation} on {table} ({size}): it takes {lock} {why}. "
            f"Nothing was run. Instead: {instead}.",
            hints=(
                *hints,
                f'If it is safe here, wrap it: with conventions.safety_assured("why"): … '
                f"(the reason goes to the history), or disable the check "
                f'[tool.conventions.safety] disabled = ["{check}"].',
            ),
        )


class UnsafeTypeChange(ConventionsError):
    """A column type change would rewrite a busy table; the expand/contract steps are named."""

    def __init__(
        self, message: str, *, table: str, column: str, hints: Sequence[str], details: str = ""
    ) -> None:
        self.table = table
        self.column = column
        super().__init__(message, hints=hints, unchanged=True, details=details)


class BackfillFailed(ConventionsError):
    """A batched backfill stopped; what is done stays done and a re-run resumes."""

    def __init__(self, message: str, *, table: str, done: int, hints: Sequence[str] = ()) -> None:
        self.table = table
        self.done = done
        super().__init__(message, hints=hints)


class DatabaseReadOnly(ConventionsError):
    """The server accepts no writes: a hot standby, or read-only transactions by default."""

    def __init__(self, *, database: str | None, reason: str) -> None:
        self.database = database
        self.reason = reason
        standby = reason == "standby"
        why = (
            "it is a hot standby (pg_is_in_recovery() is true): a replica that only "
            "follows its primary"
            if standby
            else "transactions there are read-only (default_transaction_read_only is on)"
        )
        super().__init__(
            f"The database{f' {database}' if database else ''} is read-only: {why}. "
            "Nothing was run.",
            hints=[
                "Point DATABASE_URL at the primary (read-write) server, not a replica or a "
                "read-only endpoint.",
                *(
                    []
                    if standby
                    else [
                        "If it was made read-only on purpose (maintenance), wait; otherwise "
                        "ALTER DATABASE … SET default_transaction_read_only = off (or the "
                        "role's setting) as its owner.",
                    ]
                ),
            ],
        )


class UnknownTarget(ConventionsError):
    """A command was given a revision or migration file that does not exist (or is not applied)."""

    def __init__(self, message: str, *, targets: Sequence[str], hints: Sequence[str] = ()) -> None:
        self.targets = tuple(targets)
        super().__init__(message, hints=hints)


class TransactionPooler(ConventionsError):
    """The URL goes through a pooler that hands each transaction to any server connection."""

    def __init__(self, *, database: str) -> None:
        self.database = database
        super().__init__(
            f"The database {database} is reached through a connection pooler in transaction "
            "mode (PgBouncer pool_mode = transaction, or similar): each transaction may run on "
            "another server connection, so the migrator lock, lock_timeout and one migrator at "
            "a time cannot hold, and session settings would leak to other clients of the pool. "
            "Nothing was run.",
            hints=[
                "Migrate through a direct URL or a session-mode pool: set "
                "CONVENTIONS_MIGRATION_URL (or migration_url in [tool.conventions] of "
                "pyproject.toml) to it; the application keeps DATABASE_URL.",
                "With PgBouncer, a second [databases] entry in session mode does it: "
                "app_migrate = host=… dbname=app pool_mode=session",
            ],
        )


class NotPostgreSQL(ConventionsError):
    """A house operation ran on a database that is not PostgreSQL (e.g. a SQLite dev URL)."""

    def __init__(self, *, dialect: str) -> None:
        self.dialect = dialect
        super().__init__(
            f"House operations (op.add_choice_column, op.alter_choices, …) need PostgreSQL; "
            f"this migration runs on {dialect}. Nothing was changed by this operation.",
            hints=[
                "Run it against PostgreSQL (DATABASE_URL=postgresql://…), or write plain "
                "Alembic ops (op.add_column, op.create_check_constraint) for this database.",
            ],
        )


class MetadataNotFound(ConventionsError):
    """The project's SQLAlchemy MetaData could not be located from what was given."""

    def __init__(self, message: str, *, target: str, hints: Sequence[str] = ()) -> None:
        self.target = target
        super().__init__(message, hints=hints)


class ProjectCodeError(ConventionsError):
    """The project's own code (a models module, its app factory, its config) raised."""

    def __init__(
        self, message: str, *, module: str, path: str, line: int, hints: Sequence[str] = ()
    ) -> None:
        self.module = module
        self.path = path
        self.line = line
        super().__init__(message, hints=hints)


class Irreversible(ConventionsError, NotImplementedError):
    """An operation's reverse cannot be generated: what it would go back to is not known.

    Named as Django's ``IrreversibleError``. Also a ``NotImplementedError``, which
    Alembic's own ``MigrateOperation.reverse()`` raises for the same condition.
    """

    def __init__(self, message: str, *, operation: str, hints: Sequence[str] = ()) -> None:
        self.operation = operation
        super().__init__(message, hints=hints)


class InvalidArgument(ConventionsError, ValueError):
    """An op or helper was called with arguments it cannot work with (a migration's bug).

    Also a ``ValueError``, which these checks raised before the family had this member.
    """

    def __init__(self, message: str, *, operation: str) -> None:
        self.operation = operation
        super().__init__(message)


class MigrationInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped a migrate or rollback run; says what it left behind.

    A ``KeyboardInterrupt``, not a ``ConventionsError``: ``except Exception`` must not
    swallow an interrupt, and plain ``alembic`` exits on it as on any Ctrl-C (the last
    traceback line is this message). Each step commits on its own, so steps finished
    before the interrupt stay applied; the step in progress was rolled back, except
    work a house op had committed before ``committed_before``.
    """

    def __init__(
        self,
        *,
        direction: str,
        applied: Sequence[str],
        migration: str | None = None,
        committed_before: str | None = None,
    ) -> None:
        self.direction = direction
        self.applied = tuple(applied)
        self.migration = migration
        self.committed_before = committed_before
        super().__init__(self.render())

    @property
    def outcome(self) -> Outcome | None:
        if self.migration is None:
            return None
        return Outcome.ROLLED_BACK if self.committed_before is None else Outcome.PARTLY_APPLIED

    @property
    def hints(self) -> tuple[str, ...]:
        """How to finish the run (none when the interrupt left the database as it was)."""
        if not self.applied and self.committed_before is None:
            return ()
        if self.direction == "downgrade":
            rerun = (
                "python -m conventions rollback REVISION, naming the revision to reach "
                "(python -m conventions status shows where the database is now)"
            )
        else:
            rerun = "python -m conventions migrate"
        if self.committed_before is not None:
            return (f"To finish: {rerun}. {CONVERGE}",)
        return (f"To finish: {rerun}.",)

    def render(self) -> str:
        """Say what the interrupt left: the step in progress, then the steps before it."""
        if self.migration is None:
            sentences = [
                "Interrupted before any migration ran"
                if not self.applied
                else "Interrupted between migrations"
            ]
        elif self.committed_before is None:
            sentences = [f"Interrupted during {self.migration}: it was rolled back"]
        else:
            sentences = [
                f"Interrupted during {self.migration}: it was partly applied (work before "
                f"{self.committed_before} was committed; the rest was rolled back)"
            ]
        if self.applied:
            sentences.append(
                f"{len(self.applied)} step(s) finished before it and stay applied: "
                + ", ".join(self.applied)
            )
        elif self.committed_before is None:
            sentences.append("nothing was changed")
        return "; ".join(sentences) + "."

    def __str__(self) -> str:
        return redact(self.render() + "".join(f"\n  → {hint}" for hint in self.hints))


class ForeignKeyTargetMissing(ConventionsError):
    """The project's metadata has a ForeignKey whose table or column is not in it.

    SQLAlchemy resolves a ForeignKey's target only when the metadata is compared or
    created, so the models import fine and the comparison fails: typically a models
    module that was not imported (the target table is defined there) or a misspelt
    ``ForeignKey("table.column")``. ``missing`` lists (table.column, target) pairs.
    """

    def __init__(self, *, missing: Sequence[tuple[str, str]], reason: str) -> None:
        self.missing = tuple(missing)
        self.reason = reason
        if self.missing:
            where = "; ".join(f"{column} → {target}" for column, target in self.missing)
            what = f"a ForeignKey points at a table or column that is not in it: {where}"
        else:
            what = reason
        super().__init__(
            f"The project's models cannot be compared with the database: {what}. This is the "
            "project's metadata, not the tooling.",
            hints=[
                "Import every models module before handing the metadata over (the module "
                "defining the target table too: e.g. import them in the package's "
                "__init__ or in env.py), or correct the ForeignKey's 'table.column'.",
                f"SQLAlchemy said: {reason}",
            ],
            unchanged=True,
        )
