"""Runtime settings are validated up front against PostgreSQL's limits (issue 11, 13-14).

Each bad value is refused before anything runs, naming the variable: no traceback, no
"bookkeeping failed" message, the pending migration not applied, no history row added.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from conventions.harness.scratch import run_cli
from conventions.runtime.limits import Limits, pg_duration
from tests.runtime_support import MIGRATE, SEED_HEAD, add_revision, history, scalar, version

BAD = [
    # 13: rounds to 0, which would disable the timeout and wait forever behind a blocker
    ("CONVENTIONS_LOCK_TIMEOUT", "0.0001ms", "0 (no timeout) or at least 1ms"),
    ("CONVENTIONS_STATEMENT_TIMEOUT", "0.5ms", "0 (no timeout) or at least 1ms"),
    # 14: a superscript digit is a digit to str.isdigit(), not to int()
    ("CONVENTIONS_LOCK_RETRIES", "²", "a whole number of retries from 0 to 100"),
    ("CONVENTIONS_LOCK_RETRIES", "1000000", "a whole number of retries from 0 to 100"),
    ("CONVENTIONS_LOCK_TIMEOUT", "99999999999", "at most 2147483647ms (PostgreSQL's limit)"),
    ("CONVENTIONS_STATEMENT_TIMEOUT", "30d", "a duration such as"),
    ("CONVENTIONS_MIGRATOR_WAIT", "1000h", "at most 86400s"),
    ("CONVENTIONS_RETRY_BACKOFF", "5min", "at most 30s"),
    ("CONVENTIONS_LOCK_TIMEOUT", "٣s", "a duration such as"),
]


@pytest.mark.parametrize(("name", "value", "expected"), BAD)
def test_a_bad_setting_is_refused_before_anything_runs(
    project_copy: Path, seeded_db: URL, name: str, value: str, expected: str
) -> None:
    add_revision(
        project_copy,
        "aa00000000l1",
        upgrade="op.create_table('limits_probe', sa.Column('id', sa.Integer, primary_key=True))",
        downgrade="op.drop_table('limits_probe')",
    )
    before = history(seeded_db)
    for argv in (MIGRATE, ["alembic", "upgrade", "head"]):
        done = run_cli(argv, url=seeded_db, cwd=project_copy, env={name: value})
        output = done.stdout + done.stderr
        assert done.returncode not in (0, 2), output
        assert f"{name}={value!r} is not valid: expected {expected}" in output
        assert "Traceback" not in output and "bookkeeping" not in output
    assert version(seeded_db) == [SEED_HEAD]
    assert scalar(seeded_db, "SELECT to_regclass('limits_probe')") is None
    assert history(seeded_db) == before


def test_the_smallest_timeout_is_one_millisecond_and_never_rounds_to_zero() -> None:
    assert pg_duration(0.001) == "1ms"
    assert pg_duration(0.0015) == "2ms"  # rounded up, never down to "no timeout"
    assert pg_duration(0.3) == "300ms"
    assert pg_duration(0) == "0"
    limits = Limits.from_env({"CONVENTIONS_LOCK_TIMEOUT": "1ms", "CONVENTIONS_LOCK_RETRIES": "100"})
    assert limits.lock_timeout == 0.001 and limits.lock_retries == 100
    assert Limits.from_env({"CONVENTIONS_LOCK_TIMEOUT": "0"}).lock_timeout == 0


def test_limit_values_are_accepted_and_reach_the_server(project_copy: Path, seeded_db: URL) -> None:
    add_revision(
        project_copy,
        "aa00000000l2",
        upgrade=(
            "op.execute(\"CREATE TABLE seen AS SELECT current_setting('lock_timeout') AS lt,"
            " current_setting('statement_timeout') AS st\")"
        ),
        downgrade="op.drop_table('seen')",
    )
    env = {"CONVENTIONS_LOCK_TIMEOUT": "1.5ms", "CONVENTIONS_STATEMENT_TIMEOUT": "2147483647ms"}
    done = run_cli(MIGRATE, url=seeded_db, cwd=project_copy, env=env)
    assert done.returncode == 0, done.stderr
    assert scalar(seeded_db, "SELECT lt || ' ' || st FROM seen") == "2ms 2147483647ms"
