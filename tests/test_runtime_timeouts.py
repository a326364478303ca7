"""Lock queue: a migration behind a long transaction times out, retries, and never holds traffic."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL

from conventions.testing import connect, run_cli
from tests.runtime_support import (
    MIGRATE,
    SEED_HEAD,
    add_revision,
    column_names,
    history,
    read_until,
    scalar,
    spawn,
    version,
    wait_for,
)

ALTER_OFFERS = "op.add_column('offers', sa.Column('featured', sa.Boolean()))"
FAST_RETRIES = {
    "CONVENTIONS_LOCK_TIMEOUT": "300ms",
    "CONVENTIONS_LOCK_RETRIES": "2",
    "CONVENTIONS_RETRY_BACKOFF": "0.1",
}


def _long_transaction(url: URL):
    """An application session reading offers and then sitting idle in its transaction."""
    blocker = connect(url, autocommit=False, application="nightly-report")
    with blocker.cursor() as cur:
        cur.execute("SELECT count(*) FROM offers")
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    return blocker, pid


def _migration_waiting(url: URL) -> bool:
    return bool(
        scalar(
            url,
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE NOT l.granted AND l.relation = 'offers'::regclass"
            " AND a.application_name LIKE 'conventions upgrade%'",
        )
    )


def test_table_busy_gives_up_naming_the_blocker(project_copy: Path, seeded_db: URL) -> None:
    fresh_db = seeded_db
    add_revision(project_copy, "aa00000000a1", upgrade=ALTER_OFFERS)
    blocker, pid = _long_transaction(fresh_db)
    try:
        proc = spawn(MIGRATE, url=fresh_db, cwd=project_copy, env=FAST_RETRIES)
        # While the ALTER waits in the lock queue, a new reader queues behind it. It
        # gets through once the ALTER gives up at lock_timeout, long before its own
        # (generous) limit: the migration never holds application traffic for long.
        wait_for(lambda: _migration_waiting(fresh_db))
        reader = connect(fresh_db, application="web-request", autocommit=True)
        try:
            with reader.cursor() as cur:
                cur.execute("SET lock_timeout = '10s'")
                cur.execute("SELECT count(*) FROM offers")
                assert cur.fetchone() == (0,)
        finally:
            reader.close()
        output, _ = proc.communicate(timeout=60)
    finally:
        blocker.close()
    assert proc.returncode == 1, output
    assert "Traceback" not in output
    assert output.count("could not get a lock within 0.3s") == 2  # two retries, logged
    assert "could not get a lock on offers within lock_timeout (0.3s) in 3 attempt(s)" in output
    assert f"Blocked by pid {pid} (state idle in transaction" in output
    assert "application 'nightly-report'" in output
    assert "query: 'SELECT pg_backend_pid()'" in output
    assert f"SELECT pg_terminate_backend({pid});" in output
    assert "CONVENTIONS_LOCK_TIMEOUT (now 0.3s)" in output
    # Nothing changed, and the failure is in the history.
    assert "featured" not in column_names(fresh_db, "offers")
    assert version(fresh_db) == [SEED_HEAD]
    revision, direction, ok, error = history(fresh_db)[-1]
    assert (revision, direction, ok) == ("aa00000000a1", "upgrade", False)
    assert "could not get a lock on offers" in error


def test_table_busy_succeeds_once_the_transaction_ends(project_copy: Path, seeded_db: URL) -> None:
    fresh_db = seeded_db
    add_revision(project_copy, "aa00000000a1", upgrade=ALTER_OFFERS)
    blocker, _pid = _long_transaction(fresh_db)
    env = {**FAST_RETRIES, "CONVENTIONS_LOCK_RETRIES": "50"}
    proc = spawn(MIGRATE, url=fresh_db, cwd=project_copy, env=env)
    try:
        seen = read_until(proc, "rolled back, retrying")
    finally:
        blocker.rollback()
        blocker.close()
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, seen + rest
    assert "[1/1] 20991231-runtime-test-aa00000000a1 ok" in rest
    assert "featured" in column_names(fresh_db, "offers")
    assert history(fresh_db)[-1][:3] == ("aa00000000a1", "upgrade", True)


def test_statement_timeout_is_applied_to_migrations(project_copy: Path, seeded_db: URL) -> None:
    fresh_db = seeded_db
    add_revision(project_copy, "aa00000000a2", upgrade="op.execute('SELECT pg_sleep(5)')")
    result = run_cli(
        MIGRATE, url=fresh_db, cwd=project_copy, env={"CONVENTIONS_STATEMENT_TIMEOUT": "200ms"}
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "ran longer than statement_timeout (0.2s) and was cancelled" in output
    assert "CONVENTIONS_STATEMENT_TIMEOUT" in output
    assert version(fresh_db) == [SEED_HEAD]
