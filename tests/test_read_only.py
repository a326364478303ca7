"""A read-only database or a hot standby is named as such before any DDL (issue 11, 15).

Tested on a real hot standby (pg_basebackup -R from a primary this test starts, PostgreSQL
15 when installed) and on a database with default_transaction_read_only = on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from conventions.harness.scratch import connect, run_cli
from tests import servers
from tests.runtime_support import (
    MIGRATE,
    SEED_HEAD,
    add_revision,
    execute,
    history,
    scalar,
    version,
    wait_for,
)


def _pending(project: Path) -> None:
    add_revision(
        project,
        "aa00000000r1",
        upgrade="op.add_column('offers', sa.Column('ro_probe', sa.Integer()))",
        downgrade="op.drop_column('offers', 'ro_probe')",
    )


def _assert_refused(done_list: list, expected: str) -> None:
    for done in done_list:
        output = done.stdout + done.stderr
        assert done.returncode not in (0, 2), output
        assert expected in output, output
        assert "Point DATABASE_URL at the primary" in output
        assert "Nothing was run" in output
        assert "fix the file" not in output and "Traceback" not in output


@pytest.fixture(scope="module")
def primary_and_standby() -> Iterator[tuple[URL, URL]]:
    with servers.cluster() as primary:
        admin = connect(primary.url())
        with admin.cursor() as cur:
            cur.execute("CREATE DATABASE app")
        admin.close()
        migrated = run_cli(["alembic", "upgrade", "head"], url=primary.url("app"))
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        with servers.standby_of(primary) as standby:
            url = standby.url("app")
            wait_for(lambda: scalar(url, "SELECT count(*) FROM alembic_version"), limit=60)
            yield primary.url("app"), url


def test_a_hot_standby_is_refused_naming_it(project_copy: Path, primary_and_standby) -> None:
    primary, standby = primary_and_standby
    _pending(project_copy)
    before = history(standby)
    runs = [
        run_cli(MIGRATE, url=standby, cwd=project_copy),
        run_cli(["alembic", "upgrade", "head"], url=standby, cwd=project_copy),
    ]
    _assert_refused(runs, "is read-only: it is a hot standby (pg_is_in_recovery() is true)")
    assert version(standby) == [SEED_HEAD] and version(primary) == [SEED_HEAD]
    assert history(standby) == before
    # reading still works on a standby
    status = run_cli(["-m", "conventions", "status"], url=standby, cwd=project_copy)
    assert status.returncode == 0, status.stderr
    assert "Pending:  1" in status.stdout


def test_a_read_only_database_is_refused_naming_it(project_copy: Path, seeded_db: URL) -> None:
    _pending(project_copy)
    execute(
        seeded_db, f'ALTER DATABASE "{seeded_db.database}" SET default_transaction_read_only = on'
    )
    before = history(seeded_db)
    runs = [
        run_cli(MIGRATE, url=seeded_db, cwd=project_copy),
        run_cli(["alembic", "upgrade", "head"], url=seeded_db, cwd=project_copy),
        run_cli(["alembic", "downgrade", "-1"], url=seeded_db, cwd=project_copy),
    ]
    _assert_refused(runs, "is read-only: transactions there are read-only")
    assert version(seeded_db) == [SEED_HEAD]
    assert history(seeded_db) == before
    assert "ro_probe" not in str(
        scalar(
            seeded_db,
            "SELECT string_agg(column_name, ',') FROM information_schema.columns"
            " WHERE table_name = 'offers'",
        )
    )


def test_a_maintenance_command_on_a_read_only_database_names_it(seeded_db: URL) -> None:
    execute(
        seeded_db, f'ALTER DATABASE "{seeded_db.database}" SET default_transaction_read_only = on'
    )
    done = run_cli(["-m", "conventions", "baseline"], url=seeded_db)
    assert done.returncode == 1
    assert "is read-only" in done.stderr and "Point DATABASE_URL at the primary" in done.stderr
