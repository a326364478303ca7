"""Rollback never silently loses data: downgrades archive what they drop, restorably."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL

from conventions.harness.scratch import connect, run_cli
from tests.runtime_support import (
    MIGRATE,
    add_revision,
    column_names,
    execute,
    rows,
    scalar,
    version,
)

OFFERS = "SELECT id, title, min_loyalty_tier, loyalty_points_cost FROM offers ORDER BY id"
SESSIONS = "SELECT id, session_token, user_agent FROM business_sessions ORDER BY id"
ARCHIVES = [
    "business_sessions__user_agent__5b8e1f4a7c02",
    "business_sessions__1d9f7c3e5a01",
    "offers__loyalty_points_cost__c4d8e2a61b29",
    "offers__min_loyalty_tier__c4d8e2a61b29",
]


def _conventions(*args: str, url: URL, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = run_cli(["-m", "conventions", *args], url=url, env=env)
    return result.returncode, result.stdout + result.stderr


def test_downgrade_archives_data_and_restore_puts_it_back(seeded_db: URL) -> None:
    fresh_db = seeded_db
    execute(
        fresh_db,
        "INSERT INTO offers (title, min_loyalty_tier, loyalty_points_cost) VALUES"
        " ('a', 'gold', 10), ('b', NULL, NULL), ('c', 'silver', NULL);"
        " INSERT INTO business_sessions (business_id, session_token, expires_at, user_agent)"
        " VALUES (1, 't1', now(), 'curl/8'), (2, 't2', now(), NULL)",
    )
    offers, sessions = rows(fresh_db, OFFERS), rows(fresh_db, SESSIONS)

    down = run_cli(["alembic", "downgrade", "8b2e4d6f0a14"], url=fresh_db)
    assert down.returncode == 0, down.stdout + down.stderr
    assert (
        "[warn] Archived offers.min_loyalty_tier before dropping it: 3 row(s), 2 non-NULL, "
        "into migration_archive.offers__min_loyalty_tier__c4d8e2a61b29. Restore after upgrading "
        "again: python -m conventions archive restore offers__min_loyalty_tier__c4d8e2a61b29"
    ) in down.stdout
    assert "Archived table business_sessions before dropping it: 2 row(s) into" in down.stdout
    assert "Archived business_sessions.user_agent before dropping it: 2 row(s), 1 non-NULL" in (
        down.stdout
    )
    assert "min_loyalty_tier" not in column_names(fresh_db, "offers")
    archived = rows(
        fresh_db,
        "SELECT * FROM migration_archive.offers__min_loyalty_tier__c4d8e2a61b29 ORDER BY id",
    )
    assert archived == [(1, "gold"), (2, None), (3, "silver")]

    code, listing = _conventions("archive", "list", url=fresh_db)
    assert code == 0
    assert [line.split()[0] for line in listing.splitlines()] == ARCHIVES
    assert "3 row(s) of public.offers.min_loyalty_tier, downgrade of c4d8e2a61b29" in listing

    # Too early: the column does not exist yet, so nothing is touched.
    code, early = _conventions("archive", "restore", ARCHIVES[3], url=fresh_db)
    assert code == 1
    assert f"Cannot restore {ARCHIVES[3]}: min_loyalty_tier does not exist in the database now" in (
        early
    )
    assert "Upgrade past revision c4d8e2a61b29 first (python -m conventions migrate)" in early

    assert run_cli(MIGRATE, url=fresh_db).returncode == 0
    code, restored = _conventions("archive", "restore", *ARCHIVES[1:], ARCHIVES[0], url=fresh_db)
    assert code == 0, restored
    # Three archived rows; the one whose archived value is NULL needs no writing.
    assert (
        "Restored 2 row(s) from migration_archive.offers__min_loyalty_tier__c4d8e2a61b29; "
        "skipped 0 row(s) holding newer data (neither NULL nor the column default)."
    ) in restored
    assert (
        "Restored 2 row(s) from migration_archive.business_sessions__1d9f7c3e5a01; "
        "skipped 0 row(s) holding newer data (a row with the same key exists)."
    ) in restored
    assert rows(fresh_db, OFFERS) == offers
    assert rows(fresh_db, SESSIONS) == sessions
    # The id sequence moved past the restored rows: new rows do not collide.
    execute(
        fresh_db,
        "INSERT INTO business_sessions (business_id, session_token, expires_at)"
        " VALUES (3, 't3', now())",
    )

    code, purged = _conventions("archive", "purge", "--all", url=fresh_db)
    assert code == 0, purged
    assert (
        scalar(fresh_db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'migration_archive'")
        == 0
    )
    assert _conventions("archive", "list", url=fresh_db)[1].strip() == "No archived data."


def test_downgrade_of_empty_columns_archives_nothing(seeded_db: URL) -> None:
    fresh_db = seeded_db
    down = run_cli(["alembic", "downgrade", "-1"], url=fresh_db)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "Archived" not in down.stdout
    assert scalar(fresh_db, "SELECT to_regnamespace('migration_archive')") is None


def test_offline_downgrade_warns_in_the_sql_instead_of_archiving(fresh_db: URL) -> None:
    down = run_cli(["alembic", "downgrade", "5b8e1f4a7c02:e7a3b5c9d131", "--sql"], url=fresh_db)
    assert down.returncode == 0, down.stderr
    lines = down.stdout.splitlines()
    note = " and any data in it. An online downgrade (without --sql) archives the data into "
    column = lines.index(
        f"-- WARNING: this drops column business_sessions.user_agent{note}migration_archive first."
    )
    assert lines[column + 2] == "ALTER TABLE business_sessions DROP COLUMN user_agent;"
    table = lines.index(
        f"-- WARNING: this drops table business_sessions{note}migration_archive first."
    )
    assert lines[table + 2] == "DROP TABLE business_sessions;"
    assert version(fresh_db) == []  # offline: nothing ran, nothing was archived


def test_failed_downgrade_keeps_neither_archive_nor_drop(
    project_copy: Path, seeded_db: URL
) -> None:
    fresh_db = seeded_db
    add_revision(
        project_copy,
        "ff00000000f1",
        upgrade="op.add_column('offers', sa.Column('badge', sa.Text()))",
        downgrade="""
            op.drop_column('offers', 'badge')
            op.execute('SELECT 1 / 0')
        """,
    )
    assert run_cli(MIGRATE, url=fresh_db, cwd=project_copy).returncode == 0
    execute(fresh_db, "INSERT INTO offers (title, badge) VALUES ('a', 'new')")
    down = run_cli(["alembic", "downgrade", "-1"], url=fresh_db, cwd=project_copy)
    output = down.stdout + down.stderr
    assert down.returncode != 0, output
    assert "division by zero" in output
    assert "badge" in column_names(fresh_db, "offers")
    assert scalar(fresh_db, "SELECT count(*) FROM migration_meta.archives") == 0
    assert (
        scalar(fresh_db, "SELECT to_regclass('migration_archive.offers__badge__ff00000000f1')")
        is None
    )
    assert version(fresh_db) == ["ff00000000f1"]


BADGES = "SELECT id, badge FROM offers ORDER BY id"
BADGE_ARCHIVE = "offers__badge__ff00000000f2"


def _badge_archived_and_upgraded_again(project: Path, url: URL) -> None:
    """Offers 1-4 had badges when a downgrade archived the column; the upgrade re-added it.

    The column's default has a colon in it, which must survive being compared in SQL.
    """
    add_revision(
        project,
        "ff00000000f2",
        upgrade="""
            op.add_column('offers', sa.Column('badge', sa.Text(), server_default='12:00 new'))
        """,
        downgrade="op.drop_column('offers', 'badge')",
    )
    assert run_cli(MIGRATE, url=url, cwd=project).returncode == 0
    execute(
        url,
        "INSERT INTO offers (title, badge) VALUES ('a', 'vip'), ('b', 'regular'), ('c', DEFAULT),"
        " ('d', 'old')",
    )
    assert run_cli(["alembic", "downgrade", "-1"], url=url, cwd=project).returncode == 0
    assert run_cli(MIGRATE, url=url, cwd=project).returncode == 0
    assert rows(url, BADGES) == [(i, "12:00 new") for i in (1, 2, 3, 4)]


def test_restore_fills_only_values_nobody_wrote_since(project_copy: Path, seeded_db: URL) -> None:
    _badge_archived_and_upgraded_again(project_copy, seeded_db)
    # The application writes between the re-upgrade and the restore.
    execute(
        seeded_db,
        "UPDATE offers SET badge = 'changed since' WHERE id = 2;"
        " UPDATE offers SET badge = NULL WHERE id = 4;"
        " INSERT INTO offers (title, badge) VALUES ('e', 'new row')",
    )
    code, output = _conventions("archive", "restore", BADGE_ARCHIVE, url=seeded_db)
    assert code == 0, output
    assert (
        f"Restored 2 row(s) from migration_archive.{BADGE_ARCHIVE}; skipped 1 row(s) holding "
        "newer data (neither NULL nor the column default)."
    ) in output
    assert rows(seeded_db, BADGES) == [
        (1, "vip"),  # was the default again: restored
        (2, "changed since"),  # written since: kept
        (3, "12:00 new"),  # archived value was the default itself
        (4, "old"),  # NULL: restored
        (5, "new row"),
    ]

    # A second restore is refused, and changes nothing.
    execute(seeded_db, "UPDATE offers SET badge = DEFAULT WHERE id = 1")
    code, again = _conventions("archive", "restore", BADGE_ARCHIVE, url=seeded_db)
    assert code == 1 and "Traceback" not in again
    assert f"{BADGE_ARCHIVE} was already restored at " in again
    assert f"python -m conventions archive restore {BADGE_ARCHIVE} --force" in again
    assert rows(seeded_db, BADGES)[0] == (1, "12:00 new")

    code, forced = _conventions("archive", "restore", BADGE_ARCHIVE, "--force", url=seeded_db)
    assert code == 0, forced
    assert "Restored 1 row(s)" in forced and "skipped 1 row(s) holding newer data" in forced
    assert rows(seeded_db, BADGES)[:2] == [(1, "vip"), (2, "changed since")]


def test_restore_waits_only_lock_timeout_for_a_busy_table(
    project_copy: Path, seeded_db: URL
) -> None:
    _badge_archived_and_upgraded_again(project_copy, seeded_db)
    blocker = connect(seeded_db, autocommit=False, application="checkout")
    env = {
        "CONVENTIONS_LOCK_TIMEOUT": "200ms",
        "CONVENTIONS_LOCK_RETRIES": "1",
        "CONVENTIONS_RETRY_BACKOFF": "0.1",
    }
    try:
        with blocker.cursor() as cur:
            cur.execute("SELECT id FROM offers WHERE id = 1 FOR UPDATE")
        code, output = _conventions("archive", "restore", BADGE_ARCHIVE, url=seeded_db, env=env)
    finally:
        blocker.close()
    assert code == 1, output
    assert "Traceback" not in output
    assert (
        "Restore could not get a lock within lock_timeout (0.2s); rolled back, retrying in 0.1s"
    ) in output
    assert (
        f"Restoring {BADGE_ARCHIVE} could not get a lock within lock_timeout (0.2s) in 2 "
        "attempt(s) with back-off, and gave up. It was rolled back; nothing was restored."
    ) in output
    assert "CONVENTIONS_LOCK_TIMEOUT (now 0.2s)" in output
    # Nothing changed: no value written, the archive still counts as never restored.
    assert rows(seeded_db, BADGES) == [(i, "12:00 new") for i in (1, 2, 3, 4)]
    restored_at = "SELECT restored_at FROM migration_meta.archives WHERE archive_table = :n"
    assert scalar(seeded_db, restored_at, {"n": BADGE_ARCHIVE}) is None
    code, output = _conventions("archive", "restore", BADGE_ARCHIVE, url=seeded_db)
    assert code == 0, output
    assert "Restored 3 row(s)" in output
