"""repair and baseline refuse a revision or file that does not exist (issue 11, 16).

"Nothing to repair" for a typo lets a user believe the file they meant was accepted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from conventions.harness.scratch import run_cli
from tests.runtime_support import SEED_HEAD, add_revision, execute, history, version


@pytest.mark.parametrize("target", ["nosuchfile.py", "deadbeef1234", "20250129-add-loyalty"])
def test_repair_of_an_unknown_file_or_revision_is_an_error(seeded_db: URL, target: str) -> None:
    before = history(seeded_db)
    done = run_cli(
        ["-m", "conventions", "repair", "20250110-create-base-schema.py", target], url=seeded_db
    )
    assert done.returncode == 1, done.stderr
    assert f"No migration matches {target!r}" in done.stderr
    assert "Nothing was recorded" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
    assert history(seeded_db) == before


def test_repair_of_a_pending_migration_is_an_error(project_copy: Path, seeded_db: URL) -> None:
    add_revision(project_copy, "aa00000000p1")
    before = history(seeded_db)
    done = run_cli(["-m", "conventions", "repair", "aa00000000p1"], url=seeded_db, cwd=project_copy)
    assert done.returncode == 1
    assert "'aa00000000p1' is not applied to this database" in done.stderr
    assert history(seeded_db) == before


def test_repair_of_an_applied_unchanged_file_still_says_nothing_to_repair(seeded_db: URL) -> None:
    for target in ("c4d8e2a61b29", "20250129-add-loyalty-tiers-to-offers.py"):
        done = run_cli(["-m", "conventions", "repair", target], url=seeded_db)
        assert done.returncode == 0, done.stderr
        assert "Nothing to repair" in done.stderr


def test_baseline_at_an_unknown_revision_is_an_error(seeded_db: URL) -> None:
    before = history(seeded_db)
    done = run_cli(["-m", "conventions", "baseline", "deadbeef1234"], url=seeded_db)
    assert done.returncode == 1
    assert "There is no revision 'deadbeef1234'" in done.stderr
    assert "Nothing was recorded" in done.stderr
    assert history(seeded_db) == before and version(seeded_db) == [SEED_HEAD]
    # and on a database built outside migrations (no version table yet)
    execute(seeded_db, "DROP TABLE alembic_version; DROP SCHEMA migration_meta CASCADE")
    again = run_cli(["-m", "conventions", "baseline", "deadbeef1234"], url=seeded_db)
    assert again.returncode == 1 and "There is no revision 'deadbeef1234'" in again.stderr
    assert version(seeded_db) == [] and history(seeded_db) == []
