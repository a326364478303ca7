"""A migration test harness: every revision up, down and up again, with no test to write.

Reusable by any project that adopts the conventions: load
``conventions.harness.plugin`` in ``conftest.py`` and parametrize a test module over
:func:`revision_ids` (see this project's ``tests/test_migrations.py``). What each
revision is held to lives in :mod:`conventions.harness.checks`.
"""

from conventions.harness.checks import (
    check_data_survives,
    check_idempotent,
    check_models_match,
    check_no_native_enum,
    check_round_trip,
    check_single_head,
)
from conventions.harness.databases import ScratchServer, setup_seconds
from conventions.harness.ladder import Ladder
from conventions.harness.project import Project, revision_ids, revision_stems
from conventions.harness.seed_data import Seeder, SeedRows
from conventions.harness.snapshot import IGNORED, Snapshot, diff, take_snapshot

__all__ = [
    "IGNORED",
    "Ladder",
    "Project",
    "ScratchServer",
    "SeedRows",
    "Seeder",
    "Snapshot",
    "check_data_survives",
    "check_idempotent",
    "check_models_match",
    "check_no_native_enum",
    "check_round_trip",
    "check_single_head",
    "diff",
    "revision_ids",
    "revision_stems",
    "setup_seconds",
    "take_snapshot",
]
