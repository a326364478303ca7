"""History with checksums: every step recorded, a crash converges, edits refused until repaired."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy.engine import URL

from conventions.harness.scratch import run_cli
from conventions.history.checksums import checksum, file_checksum
from tests.runtime_support import (
    MIGRATE,
    SEED_HEAD,
    SEED_REVISIONS,
    add_revision,
    execute,
    history,
    rows,
    scalar,
    spawn,
    version,
    wait_for,
)

VERSIONS = Path(__file__).resolve().parents[1] / "alembic" / "versions"


def test_checksum_ignores_line_endings_only() -> None:
    assert checksum(b"a\r\nb\r\n") == checksum(b"a\nb\n") == checksum(b"a\rb\r")
    assert checksum(b"a\nb\n") != checksum(b"a\nb \n")
    assert len(checksum(b"")) == 64


def test_every_step_is_recorded_with_who_and_checksum(fresh_db: URL) -> None:
    assert run_cli(["alembic", "upgrade", "head"], url=fresh_db).returncode == 0
    assert run_cli(["alembic", "downgrade", "-1"], url=fresh_db).returncode == 0
    assert run_cli(["alembic", "stamp", SEED_HEAD], url=fresh_db).returncode == 0
    recorded = rows(
        fresh_db,
        "SELECT revision, file_name, direction, success, checksum, db_user, os_user IS NOT NULL,"
        " client_host IS NOT NULL, finished_at >= started_at, duration_ms >= 0"
        " FROM migration_meta.history ORDER BY id",
    )
    expected = [
        (rev, f"{stem}.py", "upgrade", True, file_checksum(VERSIONS / f"{stem}.py"))
        for rev, stem in SEED_REVISIONS
    ]
    last = SEED_REVISIONS[-1]
    expected.append((last[0], f"{last[1]}.py", "downgrade", True, None))
    expected.append(
        (last[0], f"{last[1]}.py", "stamp", True, file_checksum(VERSIONS / f"{last[1]}.py"))
    )
    assert [r[:5] for r in recorded] == expected
    assert all(r[5:] == ("postgres", True, True, True, True) for r in recorded)
    assert version(fresh_db) == [SEED_HEAD]


def test_killed_migration_converges_on_rerun(project_copy: Path, seeded_db: URL) -> None:
    fresh_db = seeded_db
    add_revision(
        project_copy,
        "bb00000000b1",
        upgrade="""
            op.create_table('crash_probe', sa.Column('id', sa.Integer(), primary_key=True))
            op.execute(f"SELECT pg_sleep({os.environ.get('SLOW_STEP_SECONDS', '0')})")
        """,
        downgrade="op.drop_table('crash_probe')",
    )
    proc = spawn(MIGRATE, url=fresh_db, cwd=project_copy, env={"SLOW_STEP_SECONDS": "60"})
    try:
        wait_for(
            lambda: scalar(
                fresh_db,
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(60)%'",
            )
        )
    finally:
        proc.kill()  # SIGKILL: no cleanup in the client at all
        proc.communicate(timeout=30)
    again = run_cli(MIGRATE, url=fresh_db, cwd=project_copy, env={"SLOW_STEP_SECONDS": "0"})
    assert again.returncode == 0, again.stdout + again.stderr
    assert "[1/1] 20991231-runtime-test-bb00000000b1 ok" in again.stderr
    assert version(fresh_db) == ["bb00000000b1"]
    assert scalar(fresh_db, "SELECT to_regclass('crash_probe')::text") == "crash_probe"
    steps = history(fresh_db)
    # The killed attempt left no row (its row was in its rolled-back transaction).
    assert Counter(rev for rev, *_ in steps) == {
        **{rev: 1 for rev, _ in SEED_REVISIONS},
        "bb00000000b1": 1,
    }
    assert all(ok for _, _, ok, _ in steps)


def test_edited_applied_migration_is_refused_until_repaired(
    project_copy: Path, seeded_db: URL
) -> None:
    fresh_db = seeded_db
    edited = project_copy / "alembic" / "versions" / "20250129-add-loyalty-tiers-to-offers.py"
    edited.write_text(edited.read_text() + "\n# tweaked after it ran\n")
    add_revision(
        project_copy,
        "cc00000000c1",
        upgrade="op.create_table('edit_probe', sa.Column('id', sa.Integer(), primary_key=True))",
    )
    before = history(fresh_db)

    for argv in (MIGRATE, ["alembic", "upgrade", "head"]):
        result = run_cli(argv, url=fresh_db, cwd=project_copy)
        output = result.stdout + result.stderr
        assert result.returncode != 0, output
        assert "Traceback" not in output
        assert (
            "Applied migration(s) edited since they ran: "
            "20250129-add-loyalty-tiers-to-offers.py (c4d8e2a61b29). Nothing was run" in output
        )
        assert "python -m conventions repair" in output
    assert version(fresh_db) == [SEED_HEAD]
    assert scalar(fresh_db, "SELECT to_regclass('edit_probe')") is None
    assert history(fresh_db) == before

    check = run_cli(["-m", "conventions", "status", "--check"], url=fresh_db, cwd=project_copy)
    assert check.returncode == 1
    assert "  - 20250129-add-loyalty-tiers-to-offers.py (c4d8e2a61b29)" in check.stdout

    repaired = run_cli(["-m", "conventions", "repair"], url=fresh_db, cwd=project_copy)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "Accepted the edit of 20250129-add-loyalty-tiers-to-offers.py" in repaired.stderr
    row = rows(
        fresh_db,
        "SELECT revision, direction, checksum, os_user IS NOT NULL, note"
        " FROM migration_meta.history ORDER BY id DESC LIMIT 1",
    )[0]
    assert row[:4] == ("c4d8e2a61b29", "repair", file_checksum(edited), True)
    assert row[4].startswith("edit accepted: checksum ")

    up = run_cli(MIGRATE, url=fresh_db, cwd=project_copy)
    assert up.returncode == 0, up.stdout + up.stderr
    assert version(fresh_db) == ["cc00000000c1"]


def test_database_built_outside_migrations_needs_a_baseline(seeded_db: URL) -> None:
    fresh_db = seeded_db
    # Simulate a schema made by hand: the tables, but no version and no history.
    execute(fresh_db, "DROP TABLE alembic_version; DROP SCHEMA migration_meta CASCADE")
    refused = run_cli(MIGRATE, url=fresh_db)
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output
    assert (
        "already has tables (business_sessions, customer_segments, notification_campaigns" in output
    )
    assert "but no alembic_version table" in output
    assert "python -m conventions baseline" in output
    assert version(fresh_db) == []
    assert scalar(fresh_db, "SELECT to_regclass('alembic_version')") is None

    status = run_cli(["-m", "conventions", "status"], url=fresh_db)
    assert "Tables built outside migrations (baseline: python -m conventions baseline): 6" in (
        status.stdout
    )
    adopted = run_cli(["-m", "conventions", "baseline"], url=fresh_db)
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert f"Baselined the database at {SEED_HEAD} (6 revision(s) recorded)" in adopted.stderr
    assert version(fresh_db) == [SEED_HEAD]
    assert [d for _, d, _, _ in history(fresh_db)] == ["baseline"] * 6
    check = run_cli(["-m", "conventions", "status", "--check"], url=fresh_db)
    assert check.returncode == 0, check.stdout


def test_baseline_refuses_a_drifted_schema(seeded_db: URL) -> None:
    fresh_db = seeded_db
    execute(
        fresh_db,
        "DROP TABLE alembic_version; DROP SCHEMA migration_meta CASCADE;"
        " ALTER TABLE offers DROP COLUMN loyalty_points_cost",
    )
    result = run_cli(["-m", "conventions", "baseline"], url=fresh_db)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert f"does not match the models at head ({SEED_HEAD})" in output
    assert "  - column offers.loyalty_points_cost: in the models only" in output
    assert scalar(fresh_db, "SELECT to_regclass('alembic_version')") is None
