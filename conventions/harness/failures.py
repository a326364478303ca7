"""What the harness reports: one error per broken promise, naming revision and objects.

They join the house family (:class:`conventions.errors.ConventionsError`), so the
same message reads well in a pytest report and from ``python -m conventions``.
"""

from __future__ import annotations

from collections.abc import Sequence

from conventions.errors import ConventionsError
from conventions.harness.rows import RowChanges
from conventions.harness.snapshot import Difference


class HarnessFailure(ConventionsError):
    """A revision breaks one of the promises every migration must keep."""

    def __init__(self, message: str, *, revision: str, hints: Sequence[str] = ()) -> None:
        self.revision = revision
        super().__init__(message, hints=hints)


def _listing(differences: Sequence[Difference]) -> str:
    return "\n".join(f"  {d.describe()}" for d in differences)


class SchemaNotRestored(HarnessFailure):
    """The downgrade leaves a schema other than the one the upgrade started from."""

    def __init__(self, revision: str, differences: Sequence[Difference]) -> None:
        self.differences = tuple(differences)
        super().__init__(
            f"Downgrade of {revision} does not restore the schema its upgrade started from:\n"
            + _listing(differences),
            revision=revision,
            hints=[
                "downgrade() must undo everything upgrade() does, in reverse order: drop what "
                "it created (columns, constraints, indexes, types) and recreate what it dropped."
            ],
        )


class UpgradeNotRepeatable(HarnessFailure):
    """Upgrading again after the downgrade gives another schema than the first upgrade."""

    def __init__(self, revision: str, differences: Sequence[Difference]) -> None:
        self.differences = tuple(differences)
        super().__init__(
            f"Upgrade of {revision} after its downgrade builds a different schema than the "
            "first time:\n" + _listing(differences),
            revision=revision,
            hints=["The downgrade left state the next upgrade reacts to; make it undo all of it."],
        )


class UpgradeNotIdempotent(HarnessFailure):
    """Running the upgrade again on top of itself fails or changes the schema."""

    def __init__(
        self,
        revision: str,
        *,
        differences: Sequence[Difference] = (),
        error: BaseException | None = None,
    ) -> None:
        self.differences = tuple(differences)
        self.error = error
        if error is not None:
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            detail = f"re-running it on top of itself failed: {first}"
        else:
            detail = "re-running it on top of itself changed the schema:\n" + _listing(differences)
        super().__init__(
            f"Upgrade of {revision} is not idempotent: {detail}",
            revision=revision,
            hints=[
                "Use the house helpers (op.add_choice_column, create-or-sync, the idempotent "
                "index/constraint helpers): they skip what is already there when it is "
                "identical, so a half-applied migration converges when re-run."
            ],
        )


class DataNotPreserved(HarnessFailure):
    """Rows that existed before the revision do not survive upgrade → downgrade → upgrade."""

    def __init__(self, revision: str, problems: Sequence[tuple[str, RowChanges]]) -> None:
        self.problems = tuple(problems)
        lines = [f"  {_problem(stage, changes)}" for stage, changes in problems]
        super().__init__(
            f"Round trip of {revision} does not keep the rows inserted before it:\n"
            + "\n".join(lines),
            revision=revision,
            hints=[
                "Rows must survive upgrade → downgrade → upgrade; only what the revision itself "
                "drops (a column or table it removes) may go, and the runtime archives that.",
                "Move data with UPDATE/INSERT … SELECT in both directions instead of deleting it.",
            ],
        )


def _problem(stage: str, changes: RowChanges) -> str:
    parts = []
    if changes.lost:
        parts.append(
            f"{stage} lost {len(changes.lost)} of {changes.total} row(s): " + _few(changes.lost)
        )
    if changes.changed:
        parts.append(f"{stage} changed {len(changes.changed)} value(s): " + _few(changes.changed))
    if changes.added:
        parts.append(f"{stage} left {len(changes.added)} extra row(s): " + _few(changes.added))
    return f"{changes.table}: " + "; ".join(parts)


def _few(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" … and {len(items) - limit} more" if len(items) > limit else "")


class NativeEnumFound(HarnessFailure):
    """A native PostgreSQL ENUM type exists: the house policy forbids them."""

    def __init__(self, revision: str, types: dict[str, str]) -> None:
        self.types = dict(types)
        listed = ", ".join(f"{name} ({labels})" for name, labels in sorted(types.items()))
        super().__init__(
            f"Native ENUM type(s) exist after {revision}: {listed}",
            revision=revision,
            hints=[
                "Use a VARCHAR column with a named CHECK constraint: op.add_choice_column(...) "
                "in migrations, Choice(...) in models. Never sa.Enum or postgresql.ENUM."
            ],
        )


class ModelsDiffer(HarnessFailure):
    """At head, the models and the migrated database disagree (a change without migration)."""

    def __init__(self, revision: str, detail: str) -> None:
        self.detail = detail
        super().__init__(
            f"Models and the database migrated to head {revision} differ: a model changed "
            f"without a migration (or a migration without its model change).\n{detail}",
            revision=revision,
            hints=["Write the migration: alembic revision --autogenerate -m 'what changed'"],
        )


class HistoryBroken(HarnessFailure):
    """The history does not upgrade from empty to head with data in the tables."""


class RevisionFailsOnHarnessRows(HarnessFailure):
    """A revision upgrades on empty tables but not on the rows the harness put in them."""

    def __init__(self, revision: str, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"Cannot test {revision} with data: {reason}.",
            revision=revision,
            hints=[
                "If the migration is right and the generated values are unrealistic, shape or "
                "switch off the rows of the table it names: [tool.conventions.harness.tables."
                "NAME] generate = false, or values = {column = ...} (or override the "
                "migration_harness_settings fixture).",
                "If real rows like these can exist, the migration must handle them.",
                "The revisions after it are tested from the state without those rows.",
            ],
        )
