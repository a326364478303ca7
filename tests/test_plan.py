"""``python -m conventions plan`` on a real server: traced locks, rewrites, sizes, the gate.

Each test migrates a target database to the seed head, fills ``offers`` with real
rows, adds revisions to a project copy and plans them. Scratch databases go on the
same test server (``CONVENTIONS_PLAN_SCRATCH_URL``); the target is only read.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from conventions.harness.scratch import DatabaseFactory, connect, run_cli, url_text
from conventions.harness.snapshot import take_snapshot
from tests.runtime_support import MIGRATE, SEED_HEAD, add_revision

PLAN = ["-m", "conventions", "plan"]

REWRITE = "a1000000000a"
CHOICE = "b2000000000b"
CONCURRENT = "c3000000000c"
PLAIN_INDEX = "d4000000000d"

BODIES = {
    REWRITE: (
        "op.alter_column('offers', 'loyalty_points_cost', type_=sa.BigInteger(),"
        " existing_type=sa.Integer())"
    ),
    CHOICE: "import conventions  # noqa: F401\n"
    "op.add_choice_column('offers', 'channel', ['email', 'sms'], length=20)",
    CONCURRENT: "import conventions  # noqa: F401\n"
    "op.add_index('ix_offers_title', 'offers', ['title'], postgresql_concurrently=True)",
    PLAIN_INDEX: "op.create_index('ix_offers_description', 'offers', ['description'])",
}


def _project(project_copy: Path, revision: str) -> Path:
    add_revision(project_copy, revision, upgrade=BODIES[revision], name=f"20991231-{revision}")
    return project_copy


def _target(db_factory: DatabaseFactory, seed_template: str, rows: int) -> URL:
    url = db_factory.create(template=seed_template)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO offers (title, description, loyalty_points_cost)"
                    " SELECT 'offer ' || g, repeat('d', 40), g FROM generate_series(1, :n) g"
                ),
                {"n": rows},
            )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE offers"))
    finally:
        engine.dispose()
    return url


@pytest.fixture
def target(db_factory: DatabaseFactory, seed_template: str) -> Iterator[URL]:
    url = _target(db_factory, seed_template, 20_000)
    try:
        yield url
    finally:
        db_factory.drop(url)


def _env(db_factory: DatabaseFactory, **extra: str) -> dict[str, str]:
    return {"CONVENTIONS_PLAN_SCRATCH_URL": url_text(db_factory.base), **extra}


def _plan(project: Path, url: URL | None, db_factory: DatabaseFactory, *args: str, **env: str):
    return run_cli([*PLAN, *args], url=url, cwd=project, env=_env(db_factory, **env))


def _json(result) -> dict:
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)


def _statements(doc: dict, revision: str) -> list[dict]:
    (rev,) = [r for r in doc["revisions"] if r["revision"] == revision]
    return rev["statements"]


def _locks_on(statements: list[dict], relation: str = "public.offers") -> list[tuple[dict, dict]]:
    return [(s, lock) for s in statements for lock in s["locks"] if lock["relation"] == relation]


def test_alter_column_type_is_an_access_exclusive_rewrite_growing_with_target_rows(
    project_copy: Path, db_factory: DatabaseFactory, seed_template: str
) -> None:
    project = _project(project_copy, REWRITE)
    holds = {}
    for rows in (5_000, 60_000):
        url = _target(db_factory, seed_template, rows)
        try:
            result = _plan(project, url, db_factory, "--json")
        finally:
            db_factory.drop(url)
        assert result.returncode == 0, result.stderr
        doc = _json(result)
        assert doc["target"]["revision"] == [SEED_HEAD]
        statements = _statements(doc, REWRITE)
        (alter,) = [s for s in statements if "TYPE BIGINT" in s["sql"].upper()]
        assert "public.offers" in alter["rewrites"]
        assert alter["work"] == "rewrite"
        assert alter["transaction"] == "revision"
        (lock,) = [lk for lk in alter["locks"] if lk["relation"] == "public.offers"]
        assert lock["mode"] == "ACCESS EXCLUSIVE"
        assert lock["blocks"] == ["reads", "writes"]
        assert lock["target_rows"] == pytest.approx(rows, rel=0.05)
        holds[rows] = lock["estimated_hold_seconds"]
    assert holds[60_000] > holds[5_000] * 3, holds


def test_text_output_names_the_lock_and_verdict(
    project_copy: Path, db_factory: DatabaseFactory, target: URL
) -> None:
    result = _plan(_project(project_copy, REWRITE), target, db_factory)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "statement" in out and "est. hold" in out
    line = next(line for line in out.splitlines() if "ALTER COLUMN loyalty_points_cost" in line)
    assert "ACCESS EXCLUSIVE public.offers" in line
    assert "reads, writes" in line and "rewrite" in line and "20,000" in line
    assert "longest block: reads and writes on public.offers" in out
    markdown = _plan(project_copy, target, db_factory, "--markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert "| statement | lock | blocks |" in markdown.stdout
    assert "`20991231-" in markdown.stdout


def test_add_choice_column_is_brief_access_exclusive_then_validate_after_commit(
    project_copy: Path, db_factory: DatabaseFactory, target: URL
) -> None:
    result = _plan(_project(project_copy, CHOICE), target, db_factory, "--json", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    statements = _statements(_json(result), CHOICE)
    add = next(s for s in statements if "ADD COLUMN channel" in s["sql"])
    (lock,) = [lk for lk in add["locks"] if lk["relation"] == "public.offers"]
    assert lock["mode"] == "ACCESS EXCLUSIVE"
    assert add["work"] == "catalog only" and not add["rewrites"]
    assert add["transaction"] == "revision"
    assert lock["estimated_hold_seconds"] < 0.5
    validate = next(s for s in statements if "VALIDATE CONSTRAINT" in s["sql"])
    (vlock,) = [lk for lk in validate["locks"] if lk["relation"] == "public.offers"]
    assert vlock["mode"] == "SHARE UPDATE EXCLUSIVE"
    assert vlock["blocks"] == []
    assert validate["transaction"] == "autocommit"  # after the house op's commit
    assert "public.offers" in validate["scans"]


def test_concurrent_index_blocks_nothing_and_plain_index_blocks_writes(
    project_copy: Path, db_factory: DatabaseFactory, target: URL
) -> None:
    project = _project(project_copy, CONCURRENT)
    result = _plan(project, target, db_factory, "--json", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    statements = _statements(_json(result), CONCURRENT)
    build = next(s for s in statements if "CONCURRENTLY" in s["sql"])
    locks = [lk for lk in build["locks"] if lk["relation"] == "public.offers"]
    assert [lk["mode"] for lk in locks] == ["SHARE UPDATE EXCLUSIVE"]
    assert all(not lk["blocks"] for s in statements for lk in s["locks"])
    assert build["work"] == "index build"

    add_revision(project, PLAIN_INDEX, down=CONCURRENT, upgrade=BODIES[PLAIN_INDEX])
    result = _plan(project, target, db_factory, f"{CONCURRENT}:heads", "--json", "--check")
    assert result.returncode == 0, result.stdout + result.stderr  # 20,000 rows: quick
    found = _locks_on(_statements(_json(result), PLAIN_INDEX))
    (pair,) = found
    statement, lock = pair
    assert lock["mode"] == "SHARE"
    assert lock["blocks"] == ["writes"]
    assert statement["work"] == "index build"


@pytest.mark.parametrize(
    ("revision", "fails"),
    [(REWRITE, True), (CHOICE, False), (CONCURRENT, False), (PLAIN_INDEX, True)],
)
def test_check_gate_on_a_big_table(
    project_copy: Path, db_factory: DatabaseFactory, revision: str, fails: bool
) -> None:
    """With no target (CI), --rows gives production's size: 50M rows."""
    project = _project(project_copy, revision)
    result = _plan(
        project, None, db_factory, f"{SEED_HEAD}:heads", "--check", "--rows", "offers=50M"
    )
    assert result.returncode == (1 if fails else 0), result.stdout + result.stderr
    if fails:
        assert "safe alternative:" in result.stderr
        assert "public.offers" in result.stderr
        if revision == REWRITE:
            assert (
                "ALTER TABLE offers ALTER COLUMN loyalty_points_cost TYPE BIGINT" in result.stderr
            )
            assert "op.backfill" in result.stderr
        else:
            assert "postgresql_concurrently=True" in result.stderr
    else:
        assert "nothing blocks reads or writes" in result.stderr


def test_threshold_from_environment_and_pyproject(
    project_copy: Path, db_factory: DatabaseFactory, target: URL
) -> None:
    project = _project(project_copy, REWRITE)
    result = _plan(project, target, db_factory, "--check", CONVENTIONS_PLAN_MAX_BLOCKING="0")
    assert result.returncode == 1
    assert "(> 0.00 ms)" in result.stderr
    (project / "pyproject.toml").write_text('[tool.conventions.plan]\nmax_blocking = "1h"\n')
    result = _plan(project, target, db_factory, "--check")
    assert result.returncode == 0, result.stderr
    result = _plan(project, target, db_factory, "--check", CONVENTIONS_PLAN_MAX_BLOCKING="soon")
    assert result.returncode == 1
    assert "CONVENTIONS_PLAN_MAX_BLOCKING='soon' is not valid" in result.stderr


def _target_locks(target: URL, seen: list[tuple[str, str, str]], stop: threading.Event) -> None:
    conn = connect(target)  # the test's own session on the target, to name relations
    try:
        with conn.cursor() as cur:
            while not stop.is_set():
                cur.execute(
                    "SELECT a.application_name, coalesce(c.relname, l.locktype), l.mode"
                    " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " LEFT JOIN pg_class c ON c.oid = l.relation"
                    " WHERE a.datname = %s AND a.pid <> pg_backend_pid()"
                    " AND (l.locktype <> 'relation' OR l.database = (SELECT oid FROM pg_database"
                    "      WHERE datname = current_database()))",
                    (target.database,),
                )
                seen.extend(cur.fetchall())
                time.sleep(0.002)
    finally:
        conn.close()


def test_target_catalog_and_locks_untouched(
    project_copy: Path, db_factory: DatabaseFactory, target: URL
) -> None:
    project = _project(project_copy, REWRITE)
    add_revision(project, CHOICE, down=REWRITE, upgrade=BODIES[CHOICE])
    engine = create_engine(target, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            before = take_snapshot(conn)
            count_before = conn.execute(text("SELECT count(*) FROM offers")).scalar()
        seen: list[tuple[str, str, str]] = []
        stop = threading.Event()
        watcher = threading.Thread(target=_target_locks, args=(target, seen, stop))
        watcher.start()
        try:
            result = _plan(project, target, db_factory, "--json")
        finally:
            stop.set()
            watcher.join()
        assert result.returncode == 0, result.stderr
        assert len(_json(result)["revisions"]) == 2
        with engine.connect() as conn:
            assert take_snapshot(conn) == before
            assert conn.execute(text("SELECT count(*) FROM offers")).scalar() == count_before
            heads = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            assert heads == [SEED_HEAD]
    finally:
        engine.dispose()
    sessions = {name for name, _rel, _mode in seen}
    assert sessions <= {"conventions plan (read-only)"}, sessions
    user_locks = {
        (rel, mode)
        for _n, rel, mode in seen
        if not rel.startswith("pg_") and rel not in ("virtualxid", "transactionid")
    }
    # Only Alembic's version table is read (to know the revision), under ACCESS SHARE.
    assert {rel for rel, _ in user_locks} <= {"alembic_version", "alembic_version_pkc"}
    assert {mode for _, mode in user_locks} <= {"AccessShareLock"}


def test_export_stats_then_plan_from_the_file(
    project_copy: Path, db_factory: DatabaseFactory, target: URL, tmp_path: Path
) -> None:
    project = _project(project_copy, REWRITE)
    stats = tmp_path / "stats.json"
    result = _plan(project, target, db_factory, "--export-stats", str(stats))
    assert result.returncode == 0, result.stderr
    data = json.loads(stats.read_text())
    assert data["revision"] == [SEED_HEAD]
    assert data["tables"]["public.offers"]["rows"] == pytest.approx(20_000, rel=0.05)
    result = _plan(project, None, db_factory, "--stats", str(stats), "--json")
    assert result.returncode == 0, result.stderr
    doc = _json(result)
    assert doc["target"]["source"].startswith("stats file")
    (pair,) = [p for p in _locks_on(_statements(doc, REWRITE))]
    assert pair[1]["target_rows"] == pytest.approx(20_000, rel=0.05)


def test_data_dependent_and_failing_statements_are_named(
    project_copy: Path, db_factory: DatabaseFactory, target: URL
) -> None:
    add_revision(
        project_copy,
        "e5000000000e",
        name="20991231-backfill",
        upgrade="op.execute(\"UPDATE offers SET description = 'x' WHERE description IS NULL\")",
    )
    add_revision(
        project_copy,
        "f6000000000f",
        down="e5000000000e",
        name="20991231-broken",
        upgrade="op.execute('ALTER TABLE offers ADD COLUMN x integer REFERENCES nowhere (id)')",
    )
    add_revision(project_copy, "a7000000000a", down="f6000000000f", name="20991231-after")
    result = _plan(project_copy, target, db_factory, "--json")
    assert result.returncode == 0, result.stderr
    doc = _json(result)
    backfill = _statements(doc, "e5000000000e")[0]
    assert backfill["data_dependent"] is True
    (broken,) = [r for r in doc["revisions"] if r["revision"] == "f6000000000f"]
    assert "nowhere" in broken["could_not_run"]["error"]
    assert "REFERENCES nowhere" in broken["could_not_run"]["statement"]
    (after,) = [r for r in doc["revisions"] if r["revision"] == "a7000000000a"]
    assert "could not run on scratch" in after["skipped"]
    assert doc["complete"] is False
    checked = _plan(project_copy, target, db_factory, "--check")
    assert checked.returncode == 1
    assert "could not be planned" in checked.stderr


def test_bad_input(
    project_copy: Path, db_factory: DatabaseFactory, target: URL, tmp_path: Path
) -> None:
    engine = create_engine(target, poolclass=NullPool)
    with engine.connect() as conn:
        before = take_snapshot(conn)
    result = _plan(project_copy, target, db_factory, "--rows", "offers=lots")
    assert result.returncode == 2
    assert "--rows 'offers=lots' is not TABLE=N" in result.stderr
    result = _plan(project_copy, target, db_factory, "nosuchrev")
    assert result.returncode == 1
    assert "No revision 'nosuchrev'" in result.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = _plan(project_copy, target, db_factory, "--stats", str(bad), "--json")
    assert result.returncode == 1
    assert "is not JSON" in json.loads(result.stdout)["error"]
    result = _plan(project_copy, target, db_factory, "--stats", str(tmp_path / "missing.json"))
    assert result.returncode == 1
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    with engine.connect() as conn:
        assert take_snapshot(conn) == before
    engine.dispose()


def test_nothing_pending(db_factory: DatabaseFactory, target: URL) -> None:
    result = run_cli([*PLAN], url=target, env=_env(db_factory))
    assert result.returncode == 0, result.stderr
    assert "nothing pending" in result.stdout


def test_cli_lists_plan() -> None:
    result = run_cli(["-m", "conventions", "--help"], url=None)
    assert "plan" in result.stdout


def test_migrate_runs_what_plan_traced(
    project_copy: Path, db_factory: DatabaseFactory, target: URL
) -> None:
    """The plan's statements are the ones make migrate then sends (same runtime)."""
    project = _project(project_copy, CHOICE)
    doc = _json(_plan(project, target, db_factory, "--json"))
    sql = [s["sql"] for s in _statements(doc, CHOICE)]
    assert any("NOT VALID" in s for s in sql) and any("VALIDATE" in s for s in sql)
    migrated = run_cli(MIGRATE, url=target, cwd=project)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr


def test_plan_reads_the_target_while_a_table_is_locked_exclusively(
    project_copy: Path, db_factory: DatabaseFactory, target: URL
) -> None:
    """Sizes come from the catalog only: a busy ACCESS EXCLUSIVE lock does not stop plan."""
    project = _project(project_copy, REWRITE)
    holder = connect(target, autocommit=False)
    try:
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE offers IN ACCESS EXCLUSIVE MODE")
        result = _plan(project, target, db_factory, "--json")
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 0, result.stdout + result.stderr
    ((_, lock),) = _locks_on(_statements(_json(result), REWRITE))
    assert lock["target_rows"] == pytest.approx(20_000, rel=0.05)
