"""Fail closed: only commands known to read skip the migrator lock, timeouts and history.

env.py learns which Alembic command ran it from the planning function's ``__name__``.
The read-only list is pinned to the installed Alembic (and pytest-alembic) here, so a
new command is classified on purpose; anything unknown goes through the step runner.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Iterator
from typing import Any

import alembic.command
import pytest
import pytest_alembic.runner  # noqa: F401 (sys.modules below)
from alembic import command
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from conventions.errors import MigratorBusy, UnsupportedCommand
from conventions.harness.scratch import connect, url_text
from conventions.project.alembic_config import alembic_config
from conventions.runtime.environment import READ_ONLY
from conventions.runtime.migrator_lock import LOCK_KEY
from tests.runtime_support import SEED_HEAD, SEED_REVISIONS, history, scalar, version

# alembic.command's planning functions that change the database (and so run locked).
WRITERS = {"upgrade", "downgrade", "do_stamp", "do_ensure_version"}


def _planning_functions(source: str) -> set[str]:
    """Names passed as ``fn=`` to EnvironmentContext(...) in a module's source."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "EnvironmentContext":
            for keyword in node.keywords:
                if keyword.arg == "fn" and isinstance(keyword.value, ast.Name):
                    found.add(keyword.value.id)
    return found


def test_read_only_list_matches_the_installed_alembic() -> None:
    alembic_fns = _planning_functions(inspect.getsource(alembic.command))
    assert alembic_fns == (READ_ONLY - {"get_current"}) | WRITERS
    # The package re-exports a function named runner, hiding the module of that name.
    runner_source = inspect.getsource(sys.modules["pytest_alembic.runner"])
    assert "def get_current(" in runner_source
    assert "execute_fn(get_current)" in runner_source


def _run_env(url: URL, fn: Any, destination: str | None = None) -> None:
    config = alembic_config(url=url_text(url))
    script = ScriptDirectory.from_config(config)
    with EnvironmentContext(config, script, fn=fn, destination_rev=destination):
        script.run_env()


def test_unknown_command_runs_through_the_step_runner(fresh_db: URL) -> None:
    config = alembic_config(url=url_text(fresh_db))
    script = ScriptDirectory.from_config(config)

    def apply_everything(rev: Any, _context: Any) -> Any:  # a plugin's own planner
        return script._upgrade_revs("head", rev)

    _run_env(fresh_db, apply_everything, "head")
    assert version(fresh_db) == [SEED_HEAD]
    # Recorded step by step, as an upgrade, with checksums: the runner ran it.
    assert [row[:3] for row in history(fresh_db)] == [
        (revision, "upgrade", True) for revision, _ in SEED_REVISIONS
    ]
    assert (
        scalar(fresh_db, "SELECT count(*) FROM migration_meta.history WHERE checksum IS NULL") == 0
    )


@pytest.fixture
def migrator_lock_held(fresh_db: URL) -> Iterator[URL]:
    holder = connect(fresh_db, autocommit=True, application="other migrator")
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        yield fresh_db
    finally:
        holder.close()


def test_unknown_command_waits_for_the_migrator_lock_before_planning(
    migrator_lock_held: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    # alembic ensure_version creates alembic_version while it plans: not read-only.
    monkeypatch.setenv("CONVENTIONS_MIGRATOR_WAIT", "200ms")
    config = alembic_config(url=url_text(migrator_lock_held))
    with pytest.raises(MigratorBusy) as caught:
        command.ensure_version(config)
    assert "other migrator" in str(caught.value)
    assert scalar(migrator_lock_held, "SELECT to_regclass('alembic_version')") is None


def test_unknown_command_without_steps_runs_once_the_lock_is_free(fresh_db: URL) -> None:
    command.ensure_version(alembic_config(url=url_text(fresh_db)))
    assert scalar(fresh_db, "SELECT to_regclass('alembic_version')::text") == "alembic_version"
    assert history(fresh_db) == []


def test_read_only_name_that_plans_steps_is_refused(fresh_db: URL) -> None:
    config = alembic_config(url=url_text(fresh_db))
    script = ScriptDirectory.from_config(config)

    def display_version(rev: Any, _context: Any) -> Any:  # same name as `alembic current`'s
        return script._upgrade_revs("head", rev)

    with pytest.raises(UnsupportedCommand) as caught:
        _run_env(fresh_db, display_version, "head")
    assert caught.value.function == "display_version"
    assert "treats as read-only, yet it planned 6 migration step(s). Nothing was run" in str(
        caught.value
    )
    assert version(fresh_db) == []
    assert scalar(fresh_db, "SELECT to_regclass('customer_segments')") is None


def test_mixed_directions_from_an_unknown_command_are_refused(fresh_db: URL) -> None:
    config = alembic_config(url=url_text(fresh_db))
    script = ScriptDirectory.from_config(config)
    command.upgrade(config, SEED_REVISIONS[0][0])

    def zigzag(rev: Any, _context: Any) -> Any:
        up = script._upgrade_revs(SEED_REVISIONS[1][0], rev)
        down = script._downgrade_revs("base", rev)
        return [*up, *down]

    with pytest.raises(UnsupportedCommand) as caught:
        _run_env(fresh_db, zigzag, "head")
    assert "cannot record as one run (downgrade, upgrade). Nothing was run." in str(caught.value)
    assert version(fresh_db) == [SEED_REVISIONS[0][0]]
