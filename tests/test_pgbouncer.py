"""Behind a real PgBouncer (issue 11, 11): transaction pooling is refused, session pooling works.

Each test starts PgBouncer (the Debian package) on a free loopback port in front of the
test server. Transaction mode: refused before any DDL, nothing leaks to other clients of
the pool (lock_timeout, the advisory lock). Session mode with a small pool: one server
connection per migrator, so concurrent migrators take turns instead of wedging.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from conventions.errors import TransactionPooler
from conventions.harness.scratch import DatabaseFactory, connect, run_cli, url_text
from conventions.runtime.migrator_lock import LOCK_KEY, MigratorLock
from tests import servers
from tests.runtime_support import MIGRATE, SEED_HEAD, add_revision, history, scalar, spawn, version

pytestmark = pytest.mark.skipif(
    shutil.which(servers.PGBOUNCER) is None and not Path(servers.PGBOUNCER).exists(),
    reason="pgbouncer is not installed (apt-get install pgbouncer)",
)


def _pending(project: Path) -> None:
    add_revision(
        project,
        "aa00000000b1",
        upgrade="op.create_table('pooled_probe', sa.Column('id', sa.Integer, primary_key=True))",
        downgrade="op.drop_table('pooled_probe')",
    )


@contextmanager
def _pooled(direct: URL, *, mode: str, pool_size: int = 2) -> Iterator[URL]:
    """``direct``'s database through a real PgBouncer in ``mode``, for the block."""
    with servers.pgbouncer(
        direct, mode=mode, pool_size=pool_size, databases=(str(direct.database),)
    ) as pool:
        yield pool.url(str(direct.database))


def _pool_settings(url: URL) -> tuple[str, str]:
    """lock_timeout and statement_timeout as another client of the pool sees them."""
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
            )
            row = cur.fetchone()
            assert row is not None
            return str(row[0]), str(row[1])
    finally:
        conn.close()


def _advisory_locks(direct: URL) -> int:
    return int(
        scalar(
            direct,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
            " AND objid = CAST(:low AS oid)",
            {"low": LOCK_KEY & 0xFFFFFFFF},
        )
    )


def test_a_transaction_pooler_is_refused_before_any_ddl(project_copy: Path, seeded_db: URL) -> None:
    _pending(project_copy)
    before = history(seeded_db)
    with _pooled(seeded_db, mode="transaction") as pooled:
        for argv in (MIGRATE, ["alembic", "upgrade", "head"]):
            done = run_cli(argv, url=pooled, cwd=project_copy)
            output = done.stdout + done.stderr
            assert done.returncode not in (0, 2), output
            assert "connection pooler in transaction mode" in output
            assert "CONVENTIONS_MIGRATION_URL" in output and "Nothing was run" in output
            assert "Traceback" not in output
        # nothing leaked to the pool's other clients, no lock left on a pooled connection
        assert _pool_settings(pooled) == _pool_settings(seeded_db)
        assert _advisory_locks(seeded_db) == 0
        # reading through the pooler is fine
        status = run_cli(["-m", "conventions", "status"], url=pooled, cwd=project_copy)
        assert status.returncode == 0, status.stderr
    assert version(seeded_db) == [SEED_HEAD]
    assert scalar(seeded_db, "SELECT to_regclass('pooled_probe')") is None
    assert history(seeded_db) == before


def test_eight_migrators_on_a_transaction_pooler_are_all_refused(
    project_copy: Path, seeded_db: URL
) -> None:
    _pending(project_copy)
    with _pooled(seeded_db, mode="transaction", pool_size=4) as pooled:
        procs = [spawn(MIGRATE, url=pooled, cwd=project_copy) for _ in range(8)]
        outputs = [(p.wait(timeout=180), p.communicate()[0]) for p in procs]
    for code, output in outputs:
        assert code == 1, output
        assert "connection pooler in transaction mode" in output
    assert version(seeded_db) == [SEED_HEAD]
    assert scalar(seeded_db, "SELECT to_regclass('pooled_probe')") is None


def test_a_separate_migration_url_migrates_directly_while_the_app_uses_the_pooler(
    project_copy: Path, seeded_db: URL
) -> None:
    _pending(project_copy)
    with _pooled(seeded_db, mode="transaction") as pooled:
        env = {"CONVENTIONS_MIGRATION_URL": url_text(seeded_db)}
        done = run_cli(MIGRATE, url=pooled, cwd=project_copy, env=env)
        assert done.returncode == 0, done.stderr
    assert version(seeded_db) == ["aa00000000b1"]


def test_a_session_pool_of_one_server_is_enough_for_a_migrator(
    project_copy: Path, seeded_db: URL
) -> None:
    """Two connections per migrator would wedge on a pool of one; it needs one."""
    _pending(project_copy)
    with _pooled(seeded_db, mode="session", pool_size=1) as pooled:
        done = run_cli(MIGRATE, url=pooled, cwd=project_copy, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert _pool_settings(pooled) == _pool_settings(seeded_db)
    assert version(seeded_db) == ["aa00000000b1"]
    assert _advisory_locks(seeded_db) == 0


def test_eight_migrators_on_a_session_pool_of_two_take_turns(
    project_copy: Path, fresh_db: URL
) -> None:
    with _pooled(fresh_db, mode="session", pool_size=2) as pooled:
        procs = [spawn(MIGRATE, url=pooled, cwd=project_copy) for _ in range(8)]
        outputs = [(p.wait(timeout=300), p.communicate()[0]) for p in procs]
        for code, output in outputs:
            assert code == 0, output
        assert _pool_settings(pooled) == _pool_settings(fresh_db)
    assert version(fresh_db) == [SEED_HEAD]
    upgrades = [rev for rev, direction, ok, _ in history(fresh_db) if direction == "upgrade" and ok]
    assert len(upgrades) == len(set(upgrades)) == 6  # every revision applied exactly once
    assert _advisory_locks(fresh_db) == 0


def test_the_shared_lock_refuses_a_pooled_server_that_already_holds_it(
    seeded_db: URL, db_factory: DatabaseFactory
) -> None:
    """The probe's residue: a transaction pool of one server hands the lock's session to B."""
    with servers.pgbouncer(
        db_factory.base, mode="transaction", pool_size=1, databases=(seeded_db.database,)
    ) as pool:
        engine = create_engine(pool.url(str(seeded_db.database)), poolclass=NullPool)
        try:
            with engine.connect() as first, engine.connect() as second:
                holder = MigratorLock(engine, wait=1, database="db", shared=first)
                with holder:
                    assert _advisory_locks(seeded_db) == 1
                    other = MigratorLock(engine, wait=1, database="db", shared=second)
                    with pytest.raises(TransactionPooler, match="transaction mode"):
                        other.__enter__()
                    holder.verify()  # one server: the holder is still on its own session
                assert _advisory_locks(seeded_db) == 0
        finally:
            engine.dispose()


def test_a_lock_holder_moved_to_another_pooled_server_is_refused_before_its_next_statement(
    seeded_db: URL, db_factory: DatabaseFactory
) -> None:
    with servers.pgbouncer(
        db_factory.base, mode="transaction", pool_size=2, databases=(seeded_db.database,)
    ) as pool:
        pooled = pool.url(str(seeded_db.database))
        engine = create_engine(pooled, poolclass=NullPool)
        try:
            with engine.connect() as first:
                lock = MigratorLock(engine, wait=1, database="db", shared=first)
                with lock:
                    assert lock.pinned is not None
                    # another client takes the lock's (most recently released) server
                    squatter = connect(pooled)
                    try:
                        with squatter.cursor() as cur:
                            cur.execute("BEGIN; SELECT pg_backend_pid()")
                            row = cur.fetchone()
                            assert row is not None and row[0] == lock.pinned[0]
                        with pytest.raises(TransactionPooler, match="Nothing was run"):
                            lock.verify()
                    finally:
                        squatter.close()
                # released on its own server once that server is free again
            assert _advisory_locks(seeded_db) == 0
        finally:
            engine.dispose()
