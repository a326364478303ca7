"""Lock queue: a migration behind a long transaction times out, retries, and never holds traffic."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from conventions.harness.scratch import connect, run_cli
from conventions.runtime.blockers import redact
from tests.runtime_support import (
    MIGRATE,
    SEED_HEAD,
    add_revision,
    column_names,
    history,
    read_until,
    rows,
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
    assert output.count("could not get a lock within lock_timeout (0.3s)") == 2  # two retries
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


# Take offers, wait until another session queues on it, then ask for the advisory lock
# that session holds: a lock cycle PostgreSQL breaks by cancelling this statement. On a
# retry (nobody queued any more) it just waits for the advisory lock to be free.
DEADLOCKING = """
    op.execute('LOCK TABLE offers IN ACCESS EXCLUSIVE MODE')
    op.execute(
        "DO $$ BEGIN WHILE NOT pg_try_advisory_xact_lock(4242) AND NOT EXISTS ("
        " SELECT 1 FROM pg_locks WHERE relation = 'offers'::regclass AND NOT granted)"
        " LOOP PERFORM pg_sleep(0.02); END LOOP; END $$"
    )
    op.execute('SELECT pg_advisory_xact_lock(4242)')
    op.add_column('offers', sa.Column('featured', sa.Boolean()))
"""


def _holds_offers(url: URL) -> bool:
    return bool(
        scalar(
            url,
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE l.granted AND l.relation = 'offers'::regclass"
            " AND l.mode = 'AccessExclusiveLock'"
            " AND a.application_name LIKE 'conventions upgrade%'",
        )
    )


def _migrate_into_a_deadlock(project: Path, url: URL, *, retries: int) -> str:
    """Run the DEADLOCKING revision against an application session; return the output."""
    add_revision(project, "aa00000000a3", upgrade=DEADLOCKING)
    # The application session only checks for deadlocks after a minute, so the
    # migration (default deadlock_timeout, 1s) is always the one PostgreSQL cancels.
    app = connect(url, autocommit=False, application="checkout")
    env = {
        **FAST_RETRIES,
        "CONVENTIONS_LOCK_TIMEOUT": "60s",
        "CONVENTIONS_LOCK_RETRIES": str(retries),
    }
    try:
        with app.cursor() as cur:
            cur.execute("SET deadlock_timeout = '60s'")
            cur.execute("SELECT pg_advisory_xact_lock(4242)")
        proc = spawn(MIGRATE, url=url, cwd=project, env=env)
        wait_for(lambda: _holds_offers(url))
        with app.cursor() as cur:
            cur.execute("SELECT count(*) FROM offers")  # waits until the migration gives way
            assert cur.fetchone() == (0,)
        app.commit()  # frees the advisory lock for a retry
        output, _ = proc.communicate(timeout=60)
    finally:
        app.close()
    assert "Traceback" not in output
    assert "could not get a lock within" not in output
    return f"exit {proc.returncode}\n{output}"


def test_deadlock_is_retried_and_named_as_a_deadlock(project_copy: Path, seeded_db: URL) -> None:
    output = _migrate_into_a_deadlock(project_copy, seeded_db, retries=1)
    assert output.startswith("exit 0\n"), output
    assert output.count("deadlocked with another session") == 1, output
    assert "rolled back, retrying in 0.1s (attempt 2 of 2)" in output
    assert "featured" in column_names(seeded_db, "offers")
    assert history(seeded_db)[-1][:3] == ("aa00000000a3", "upgrade", True)


def test_deadlock_without_retries_left_fails_naming_it(project_copy: Path, seeded_db: URL) -> None:
    output = _migrate_into_a_deadlock(project_copy, seeded_db, retries=0)
    assert output.startswith("exit 1\n"), output
    assert (
        "Migration 20991231-runtime-test-aa00000000a3 deadlocked with another session "
        "(PostgreSQL cancelled it to break the cycle) in 1 attempt(s)"
    ) in output
    assert "could not get a lock on" not in output
    assert "featured" not in column_names(seeded_db, "offers")
    assert version(seeded_db) == [SEED_HEAD]
    revision, direction, ok, error = history(seeded_db)[-1]
    assert (revision, direction, ok) == ("aa00000000a3", "upgrade", False)
    assert "deadlocked with another session" in error


def test_default_lock_timeout_is_two_seconds(project_copy: Path, seeded_db: URL) -> None:
    add_revision(
        project_copy,
        "aa00000000a4",
        upgrade="""
            op.execute(
                "CREATE TABLE seen_settings AS SELECT current_setting('lock_timeout') AS lock,"
                " current_setting('statement_timeout') AS statement"
            )
        """,
    )
    result = run_cli(MIGRATE, url=seeded_db, cwd=project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows(seeded_db, "SELECT lock, statement FROM seen_settings") == [("2s", "1h")]
    # The README's environment table states the same default.
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "| `CONVENTIONS_LOCK_TIMEOUT` | PostgreSQL `lock_timeout` for every migration" in readme
    assert "statement (default `2s`; `0` disables) |" in readme


def test_blocking_query_is_shown_without_its_literals(project_copy: Path, seeded_db: URL) -> None:
    add_revision(project_copy, "aa00000000a5", upgrade=ALTER_OFFERS)
    secret = "card 4111-1111-1111-1111"
    blocker = connect(seeded_db, autocommit=False, application="billing")
    try:
        with blocker.cursor() as cur:
            cur.execute(
                f"SELECT count(*)\n  FROM offers WHERE title = '{secret}' -- for jane@example.com\n"
                "  AND loyalty_points_cost > 31337"
            )
        env = {**FAST_RETRIES, "CONVENTIONS_LOCK_RETRIES": "0"}
        result = run_cli(MIGRATE, url=seeded_db, cwd=project_copy, env=env)
    finally:
        blocker.close()
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    shape = "SELECT count(*) FROM offers WHERE title = ? AND loyalty_points_cost > ?"
    assert "application 'billing'" in output
    assert f"query: {shape!r}" in output
    error = history(seeded_db)[-1][3]
    assert f"query: {shape!r}" in error
    for leaked in ("4111", "jane@example.com", "31337"):
        assert leaked not in output and leaked not in error
    assert "featured" not in column_names(seeded_db, "offers")


@pytest.mark.parametrize(
    ("query", "shape"),
    [
        ("SELECT pg_backend_pid()", "SELECT pg_backend_pid()"),
        (
            "UPDATE t1 SET pw = E'x\\'y', n = 3.5e3 WHERE id = $1",
            "UPDATE t1 SET pw = ?, n = ? WHERE id = $1",
        ),
        ("SELECT 'it''s' || B'01' || X'ff' || U&'d\\0061'", "SELECT ? || ? || ? || ?"),
        ("SELECT $$a 'b'$$, $q$c$q$ FROM x WHERE a = -42", "SELECT ?, ? FROM x WHERE a = -?"),
        (
            'SELECT "Col \'x\' 1" /* ssn 078-05-1120 */ FROM "t""2"',
            'SELECT "Col \'x\' 1" FROM "t""2"',
        ),
        ("INSERT INTO t VALUES ('cut off by track_activity_query_size", "INSERT INTO t VALUES (?"),
        ("SELECT 1 -- 'tail", "SELECT ?"),
    ],
)
def test_redact_keeps_the_statement_shape_only(query: str, shape: str) -> None:
    assert redact(query) == shape


def test_redact_shortens_to_one_line_snippet() -> None:
    assert redact("SELECT\n\t" + "a, " * 100 + "b") == "SELECT " + ("a, " * 100)[:112] + "…"
    assert redact(None) is None
