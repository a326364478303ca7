"""Every Alembic revision of this project, held to the house promises (house-migrations).

Written by ``python -m conventions init``; edit freely. Each revision upgrades,
downgrades and upgrades again on a real PostgreSQL (``DATABASE_URL``, else the
embedded server of the ``server`` extra), keeps seeded data, is idempotent, and
writes no native ENUM. Needs ``pip install 'house-migrations[harness]'``.

Seed data: define a session fixture ``migration_seed_rows`` in conftest.py returning
``{"table": [{"column": value, ...}], ...}``. Revisions or models that read Flask's
``current_app`` at import need an app pushed before collection: at the top of
conftest.py, ``create_app().app_context().push()``.
"""

from __future__ import annotations

import pytest
from pytest_alembic import tests as builtin

from conventions.harness import (
    Ladder,
    Project,
    check_data_survives,
    check_idempotent,
    check_models_match,
    check_no_native_enum,
    check_round_trip,
    check_single_head,
    revision_ids,
    revision_stems,
)

pytest_plugins = ["conventions.harness.plugin"]

REVISIONS = pytest.mark.parametrize("revision", revision_ids(), ids=revision_stems())


def test_single_head(alembic_runner) -> None:
    check_single_head(alembic_runner)


def test_upgrade_from_empty_to_head(alembic_runner) -> None:
    builtin.test_upgrade(alembic_runner)


def test_upgrade_one_revision_at_a_time_with_data(migration_ladder: Ladder) -> None:
    if migration_ladder.broken is not None:
        raise migration_ladder.broken
    assert set(migration_ladder.order) <= set(migration_ladder.templates)


def test_up_down_consistency(alembic_runner) -> None:
    builtin.test_up_down_consistency(alembic_runner)


def test_models_match_database_at_head(alembic_runner, migration_project: Project) -> None:
    check_models_match(alembic_runner, migration_project)


@REVISIONS
def test_round_trip_restores_schema(migration_ladder: Ladder, revision: str) -> None:
    with migration_ladder.before(revision) as connection:
        check_round_trip(migration_ladder.project, connection, revision)


@REVISIONS
def test_round_trip_keeps_data(migration_ladder: Ladder, revision: str) -> None:
    with migration_ladder.before(revision) as connection:
        check_data_survives(migration_ladder.project, connection, revision)


@REVISIONS
def test_upgrade_is_idempotent(migration_ladder: Ladder, revision: str) -> None:
    with migration_ladder.before(revision) as connection:
        check_idempotent(migration_ladder.project, connection, revision)


@REVISIONS
def test_no_native_enum(migration_ladder: Ladder, revision: str) -> None:
    migration_ladder.template_before(revision)  # fails, naming why, if the climb stopped short
    snapshot = migration_ladder.snapshots.get(revision)
    if snapshot is None:  # the climb stopped at this very revision
        raise migration_ladder.broken  # type: ignore[misc]
    check_no_native_enum(snapshot, migration_ladder.project.label(revision))
