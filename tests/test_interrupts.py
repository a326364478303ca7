"""Ctrl-C says what it left: a real child process, a real SIGINT, the database checked.

Each scenario parks the child on something the test holds (an advisory lock the
migration polls for, a table lock a read waits on), sends SIGINT while it waits,
then lets it go: the interrupt lands at a known point, with no timing involved.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import psycopg2.extensions
import pytest
from sqlalchemy.engine import URL

from conventions.harness.scratch import child_env, connect
from tests.runtime_support import (
    MIGRATE,
    SEED_HEAD,
    add_revision,
    column_names,
    history,
    scalar,
    version,
    wait_for,
)

GATE = 4243
# Poll for the gate instead of waiting on it: no lock wait, so no lock_timeout.
WAIT_AT_GATE = (
    f'op.execute("DO $$ BEGIN WHILE NOT pg_try_advisory_lock({GATE}) LOOP PERFORM pg_sleep(0.02);'
    f' END LOOP; PERFORM pg_advisory_unlock({GATE}); END $$")'
)


def _start(args: list[str], url: URL, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=cwd,
        env=child_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _interrupt_at_gate(
    url: URL, cwd: Path, args: list[str] = MIGRATE
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` until the migration waits at the gate; SIGINT it; open the gate."""
    gate = connect(url)
    try:
        gate.cursor().execute("SELECT pg_advisory_lock(%s)", (GATE,))
        proc = _start(args, url, cwd)
        try:
            wait_for(lambda: proc.poll() is not None or _waiting_at_gate(url))
            assert proc.poll() is None, proc.communicate()
            proc.send_signal(signal.SIGINT)
        finally:
            gate.cursor().execute("SELECT pg_advisory_unlock(%s)", (GATE,))
        out, err = proc.communicate(timeout=120)
    finally:
        gate.close()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _waiting_at_gate(url: URL) -> bool:
    found = scalar(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
        " AND query LIKE '%pg_try_advisory_lock(" + str(GATE) + ")%'"
        " AND pid <> pg_backend_pid()",
    )
    return bool(found)


def test_interrupting_a_migration_names_the_step_rolled_back_and_the_steps_kept(
    project_copy: Path, seeded_db: URL
) -> None:
    add_revision(
        project_copy,
        "ee00000000e1",
        upgrade="op.create_table('kept', sa.Column('id', sa.Integer(), primary_key=True))",
    )
    add_revision(
        project_copy,
        "ee00000000e2",
        down="ee00000000e1",
        upgrade=f"op.create_table('undone', sa.Column('id', sa.Integer()))\n{WAIT_AT_GATE}",
    )
    result = _interrupt_at_gate(seeded_db, project_copy)
    assert result.returncode == 130, result.stdout + result.stderr
    assert result.stdout == ""
    assert (
        "Interrupted during 20991231-runtime-test-ee00000000e2: it was rolled back; 1 step(s) "
        "finished before it and stay applied: 20991231-runtime-test-ee00000000e1."
    ) in result.stderr
    assert "To finish: python -m conventions migrate." in result.stderr
    assert "Traceback" not in result.stderr
    assert version(seeded_db) == ["ee00000000e1"]
    assert scalar(seeded_db, "SELECT to_regclass('kept') IS NOT NULL") is True
    assert scalar(seeded_db, "SELECT to_regclass('undone')") is None
    revision, direction, ok, error = history(seeded_db)[-1]
    assert (revision, direction, ok) == ("ee00000000e2", "upgrade", False)
    assert error.startswith("Interrupted during 20991231-runtime-test-ee00000000e2")


def test_interrupting_after_a_house_op_committed_says_partly_applied(
    project_copy: Path, seeded_db: URL
) -> None:
    add_revision(
        project_copy,
        "ee00000000e3",
        upgrade=f"op.add_choice_column('offers', 'channel', ['web', 'app'])\n{WAIT_AT_GATE}",
    )
    result = _interrupt_at_gate(seeded_db, project_copy)
    assert result.returncode == 130, result.stdout + result.stderr
    assert result.stdout == ""
    assert (
        "Interrupted during 20991231-runtime-test-ee00000000e3: it was partly applied (work "
        "before ALTER TABLE offers VALIDATE CONSTRAINT ck_offers_channel was committed; the "
        "rest was rolled back)."
    ) in result.stderr
    assert "rolled back." not in result.stderr.replace("the rest was rolled back", "")
    assert "The house ops converge when re-run" in result.stderr
    # What it says was committed is there; the version did not move.
    assert "channel" in column_names(seeded_db, "offers")
    assert version(seeded_db) == [SEED_HEAD]

    again = subprocess.run(
        [sys.executable, *MIGRATE],
        cwd=project_copy,
        env=child_env(seeded_db),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert version(seeded_db) == ["ee00000000e3"]


def test_interrupting_a_migration_before_it_starts_changed_nothing(
    project_copy: Path, seeded_db: URL
) -> None:
    add_revision(project_copy, "ee00000000e4", upgrade=WAIT_AT_GATE)
    result = _interrupt_at_gate(seeded_db, project_copy)
    # The gate is inside the only step: rolled back, nothing before it.
    assert result.returncode == 130, result.stderr
    assert (
        "Interrupted during 20991231-runtime-test-ee00000000e4: it was rolled back; "
        "nothing was changed."
    ) in result.stderr
    assert "To finish" not in result.stderr
    assert version(seeded_db) == [SEED_HEAD]


def _table_locked(url: URL) -> psycopg2.extensions.connection:
    holder = connect(url, autocommit=False)
    holder.cursor().execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
    return holder


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_interrupting_a_read_only_command_says_nothing_was_changed(
    seeded_db: URL, as_json: bool
) -> None:
    args = ["-m", "conventions", "status", *(["--json"] if as_json else [])]
    holder = _table_locked(seeded_db)
    try:
        proc = _start(args, seeded_db, Path(__file__).resolve().parents[1])
        wait_for(
            lambda: (
                proc.poll() is not None
                or scalar(
                    seeded_db,
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND application_name = 'conventions status'",
                )
            )
        )
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
    finally:
        holder.rollback()
        holder.close()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert "Interrupted; nothing was changed." in err
    assert "rolled back" not in err
    if as_json:
        assert json.loads(out)["error"]["type"] == "Interrupted"
    else:
        assert out == ""
