"""A migration test harness: every revision up, down and up again, with no test to write.

Reusable by any project that adopts the conventions: load
``conventions.harness.plugin`` in ``conftest.py`` and write a test module that is
``from conventions.harness.suite import *`` (this project's
``tests/test_migrations.py``). What each revision is held to lives in
:mod:`conventions.harness.checks`; what a project configures, in
:mod:`conventions.harness.settings` (``[tool.conventions.harness]``).
"""

from conventions.harness.checks import (
    check_data_survives,
    check_idempotent,
    check_models_match,
    check_no_native_enum,
    check_round_trip,
    check_single_head,
)
from conventions.harness.databases import setup_seconds
from conventions.harness.ladder import Ladder, Rung
from conventions.harness.project import Project, revision_ids, revision_stems
from conventions.harness.scratch import ScratchServer
from conventions.harness.seed_data import Seeder, SeedRows
from conventions.harness.settings import HarnessSettings, TableRows
from conventions.harness.snapshot import IGNORED, Snapshot, diff, enum_types, take_snapshot

__all__ = [
    "IGNORED",
    "HarnessSettings",
    "Ladder",
    "Project",
    "Rung",
    "ScratchServer",
    "SeedRows",
    "Seeder",
    "Snapshot",
    "TableRows",
    "check_data_survives",
    "check_idempotent",
    "check_models_match",
    "check_no_native_enum",
    "check_round_trip",
    "check_single_head",
    "diff",
    "enum_types",
    "revision_ids",
    "revision_stems",
    "setup_seconds",
    "take_snapshot",
]
