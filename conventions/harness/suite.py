"""The harness's tests, written once for every project: a test module imports them.

A project's whole harness test module is (``python -m conventions init`` writes it)::

    from conventions.harness.suite import *  # noqa: F403

and its ``conftest.py`` loads the fixtures with
``pytest_plugins = ["conventions.harness.plugin"]``. The plugin parametrizes every
test that takes ``migration_revision`` over the project's revisions (oldest first,
ids are file stems), marks the known one-way revisions as expected failures with
their reason, and orders the tests revision by revision so a rung of the ladder
can be dropped once its last test ran.

Markers say what each test needs from the ladder: ``harness_clones_before`` (a
database with rows just before the revision), ``harness_downgrades`` (the
revision's downgrade: a one-way revision is expected to fail it),
``harness_climbs_all`` (the whole climb; it runs after the per-revision tests).
They are written here as :func:`needs` tags and made markers by the plugin: this
module is imported before the plugin that registers those markers when the importing
module loads it (``pytest_plugins`` is read after the import), and under
``--strict-markers`` an unregistered marker fails collection.
What only the conventions ask (idempotent upgrades, no native ENUM) is reported as
an expected failure, with what broke, for revisions up to ``legacy_until``: their
files were applied before the project adopted the conventions and cannot change any
more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from pytest_alembic import tests as builtin

from conventions.harness import checks
from conventions.harness.declarations import data_change, legacy_reason
from conventions.harness.failures import NativeEnumFound, UpgradeNotIdempotent
from conventions.harness.ladder import Ladder
from conventions.harness.project import Project
from conventions.harness.settings import HarnessSettings

NEEDS = "harness_needs"  # the attribute a test's ladder needs are kept in


def needs(*markers: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Tag a test with the ladder markers it needs (the plugin adds them as markers)."""

    def tag(test: Callable[..., None]) -> Callable[..., None]:
        setattr(test, NEEDS, frozenset(markers))
        return test

    return tag


__all__ = [
    "test_models_match_database_at_head",
    "test_no_native_enum",
    "test_round_trip_keeps_data",
    "test_round_trip_restores_schema",
    "test_single_head",
    "test_up_down_consistency",
    "test_upgrade_from_empty_to_head",
    "test_upgrade_is_idempotent",
    "test_upgrade_one_revision_at_a_time_with_data",
]


def test_single_head(alembic_runner) -> None:
    checks.check_single_head(alembic_runner)


def test_upgrade_from_empty_to_head(alembic_runner) -> None:
    builtin.test_upgrade(alembic_runner)


@needs("harness_climbs_all")
def test_upgrade_one_revision_at_a_time_with_data(migration_ladder: Ladder) -> None:
    migration_ladder.build()
    if migration_ladder.broken is not None:
        raise migration_ladder.broken
    on_rows = {
        migration_ladder.project.label(migration_ladder.order[i - 1]): rung.without_rows
        for i, rung in sorted(migration_ladder.rungs.items())
        if rung.without_rows
    }
    assert not on_rows, "revisions that upgrade only without the harness's rows: " + "; ".join(
        f"{label}: {why}" for label, why in on_rows.items()
    )


def test_up_down_consistency(alembic_runner) -> None:
    """pytest-alembic's, stopping above the newest one-way revision (see ``alembic_config``)."""
    builtin.test_up_down_consistency(alembic_runner)


def test_models_match_database_at_head(alembic_runner, migration_project: Project) -> None:
    checks.check_models_match(alembic_runner, migration_project)


@needs("harness_clones_before", "harness_downgrades")
def test_round_trip_restores_schema(migration_ladder: Ladder, migration_revision: str) -> None:
    with migration_ladder.before(migration_revision) as connection:
        checks.check_round_trip(migration_ladder.project, connection, migration_revision)


@needs("harness_clones_before", "harness_downgrades")
def test_round_trip_keeps_data(
    migration_ladder: Ladder, migration_revision: str, migration_harness_settings: HarnessSettings
) -> None:
    declared = data_change(migration_harness_settings, migration_ladder.project, migration_revision)
    with migration_ladder.before(migration_revision) as connection:
        checks.check_data_survives(
            migration_ladder.project, connection, migration_revision, declared=declared
        )


@needs("harness_clones_before")
def test_upgrade_is_idempotent(
    migration_ladder: Ladder, migration_revision: str, migration_harness_settings: HarnessSettings
) -> None:
    with _legacy(migration_harness_settings, migration_ladder.project, migration_revision):
        with migration_ladder.before(migration_revision) as connection:
            checks.check_idempotent(migration_ladder.project, connection, migration_revision)


def test_no_native_enum(
    migration_ladder: Ladder, migration_revision: str, migration_harness_settings: HarnessSettings
) -> None:
    index = migration_ladder.index(migration_revision)
    after = migration_ladder.after(migration_revision)  # fails, naming why, if the climb stopped
    before = migration_ladder.reach(index)
    assert before is not None  # the climb got past it to reach ``after``
    with _legacy(migration_harness_settings, migration_ladder.project, migration_revision):
        checks.check_no_native_enum(
            migration_ladder.project.label(migration_revision),
            after.enums,
            before=before.enums,
            legacy=migration_harness_settings.is_legacy_enum,
        )


@contextmanager
def _legacy(settings: HarnessSettings, project: Project, revision: str) -> Iterator[None]:
    """A convention a legacy revision breaks is reported (xfail, with what), not failed."""
    try:
        yield
    except (NativeEnumFound, UpgradeNotIdempotent) as failure:
        reason = legacy_reason(settings, project, revision)
        if reason is None:
            raise
        pytest.xfail(f"{reason}: {failure.message.splitlines()[0]}")
