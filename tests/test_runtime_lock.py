"""One migrator at a time: concurrent `make migrate`, a busy migrator, the lock-free fast path."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.engine import URL

from conventions.harness.scratch import connect, run_cli
from conventions.runtime.migrator_lock import LOCK_KEY
from tests.runtime_support import (
    MIGRATE,
    SEED_HEAD,
    SEED_REVISIONS,
    history,
    read_until,
    scalar,
    spawn,
    version,
)


def test_concurrent_migrators_apply_every_revision_exactly_once(fresh_db: URL) -> None:
    procs = [spawn(MIGRATE, url=fresh_db) for _ in range(4)]
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    for proc, output in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, output
        assert "Traceback" not in output
    appliers = [out for out in outputs if "[6/6] 20250202-create-or-sync-business-sessions" in out]
    assert len(appliers) == 1, outputs
    others = [out for out in outputs if out not in appliers]
    assert all("Database is up to date (at 5b8e1f4a7c02)" in out for out in others), others

    assert version(fresh_db) == [SEED_HEAD]
    steps = history(fresh_db)
    assert Counter(rev for rev, *_ in steps) == {rev: 1 for rev, _ in SEED_REVISIONS}
    assert all(direction == "upgrade" and ok for _, direction, ok, _ in steps)


def test_busy_migrator_gives_up_naming_the_holder(fresh_db: URL) -> None:
    holder = connect(fresh_db, application="deploy-runbook", autocommit=True)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s), pg_backend_pid()", (LOCK_KEY,))
            pid = cur.fetchone()[1]
        result = run_cli(MIGRATE, url=fresh_db, env={"CONVENTIONS_MIGRATOR_WAIT": "0.3"})
    finally:
        holder.close()
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert "[warn] Another migration is running on" in output
    assert f"Another migration holds the migrator lock on database {fresh_db.database!r}" in output
    assert f"pid {pid} (deploy-runbook, user postgres" in output
    assert "nothing was run" in output
    assert f"SELECT pg_terminate_backend({pid})" in output
    assert "CONVENTIONS_MIGRATOR_WAIT" in output
    # Nothing happened: not even the version or history table was created.
    assert version(fresh_db) == []
    assert scalar(fresh_db, "SELECT to_regnamespace('migration_meta')") is None


def test_waiting_migrator_proceeds_when_the_lock_is_released(fresh_db: URL) -> None:
    holder = connect(fresh_db, application="other-instance", autocommit=True)
    with holder.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    proc = spawn(MIGRATE, url=fresh_db, env={"CONVENTIONS_MIGRATOR_WAIT": "60"})
    try:
        seen = read_until(proc, "Another migration is running")
        assert "other-instance" in seen
        assert version(fresh_db) == []  # it really waits before touching anything
    finally:
        holder.close()  # the session ends, so the server releases the lock
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, seen + rest
    assert "Got the migrator lock after" in rest
    assert "[6/6]" in rest
    assert version(fresh_db) == [SEED_HEAD]


def test_up_to_date_run_does_not_wait_for_the_lock(seeded_db: URL) -> None:
    holder = connect(seeded_db, autocommit=True)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        result = run_cli(MIGRATE, url=seeded_db, env={"CONVENTIONS_MIGRATOR_WAIT": "0"})
    finally:
        holder.close()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Another migration" not in result.stderr
    assert result.stderr.strip().endswith("nothing to apply.")


def test_invalid_runtime_setting_is_named(fresh_db: URL) -> None:
    result = run_cli(MIGRATE, url=fresh_db, env={"CONVENTIONS_LOCK_TIMEOUT": "soon"})
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "CONVENTIONS_LOCK_TIMEOUT='soon' is not valid: expected a duration" in output
    assert version(fresh_db) == []
