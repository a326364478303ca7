"""Tier 2: ``op.backfill`` — batches in their own transactions, resumable after ``kill -9``."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from conventions.errors import ColumnMissing, ConventionsError, Irreversible
from conventions.harness.scratch import run_cli
from conventions.ops import BackfillOp
from conventions.runtime.backfill import Progress
from tests.ops_harness import apply, house_log, offline, recording, sql
from tests.runtime_support import MIGRATE, add_revision, spawn


def make_items(engine: Engine, rows: int) -> None:
    sql(
        engine,
        "CREATE TABLE items (id bigint PRIMARY KEY, status text, touched int NOT NULL DEFAULT 0)",
    )
    sql(engine, "INSERT INTO items (id) SELECT g FROM generate_series(1, :n) g", n=rows)


def test_backfill_runs_in_batches_each_committed_on_its_own(engine: Engine, caplog) -> None:  # type: ignore[no-untyped-def]
    make_items(engine, 1050)
    with recording(engine) as seen, house_log(caplog):
        apply(
            engine,
            lambda op: op.backfill(
                "items",
                set={"status": "new", "touched": sa.text("touched + 1")},
                where="status IS NULL",
                batch_size=100,
                pause=0,
            ),
        )
    batches = [(s, auto) for s, auto in seen if s.startswith("WITH changed AS (UPDATE items")]
    assert len(batches) == 11 and all(auto for _, auto in batches)  # each its own transaction
    assert sql(engine, "SELECT touched, status, count(*) FROM items GROUP BY 1, 2") == [
        (1, "new", 1050)
    ]
    assert "outside the migration's transaction" in caplog.text
    assert "backfill items: 1,050 rows updated" in caplog.text
    state = sql(engine, "SELECT rows_done, total, batches, finished_at IS NOT NULL"
                        " FROM migration_meta.backfills")  # fmt: skip
    assert state == [(1050, 1050, 11, True)]
    # Re-run: the WHERE excludes the done rows, nothing is touched twice.
    apply(
        engine,
        lambda op: op.backfill(
            "items",
            set={"status": "new", "touched": sa.text("touched + 1")},
            where="status IS NULL",
            batch_size=100,
            pause=0,
        ),
    )
    assert sql(engine, "SELECT max(touched) FROM items") == [(1,)]


def test_backfill_binds_python_values_never_as_sql(engine: Engine) -> None:
    make_items(engine, 3)
    evil = "x'); DROP TABLE items; --"
    apply(engine, lambda op: op.backfill("items", set={"status": evil}, batch_size=2, pause=0))
    assert sql(engine, "SELECT DISTINCT status FROM items") == [(evil,)]


def test_backfill_composite_key(engine: Engine) -> None:
    sql(engine, "CREATE TABLE pairs (a int, b text, v int, PRIMARY KEY (a, b))")
    sql(engine, "INSERT INTO pairs SELECT g % 7, 'k' || g, NULL FROM generate_series(1, 500) g")
    apply(
        engine,
        lambda op: op.backfill("pairs", set={"v": 1}, where="v IS NULL", batch_size=33, pause=0),
    )
    assert sql(engine, "SELECT count(*) FROM pairs WHERE v = 1") == [(500,)]


def test_backfill_refuses_a_missing_column_or_a_table_without_key(engine: Engine) -> None:
    make_items(engine, 3)
    with pytest.raises(ColumnMissing):
        apply(engine, lambda op: op.backfill("items", set={"nope": 1}))
    sql(engine, "CREATE TABLE heap (v int)")
    sql(engine, "INSERT INTO heap VALUES (1)")
    with pytest.raises(ConventionsError, match="needs a primary key"):
        apply(engine, lambda op: op.backfill("heap", set={"v": 2}))
    assert sql(engine, "SELECT v FROM heap") == [(1,)]
    with pytest.raises(ValueError, match="batch_size"):
        BackfillOp("items", {"status": 1}, batch_size=0)


def test_backfill_offline_is_a_batched_do_block_that_runs(engine: Engine) -> None:
    script = offline(
        lambda op: op.backfill(
            "items", set={"status": "done"}, where="status IS NULL", batch_size=10, pause=0
        )
    )
    assert "DO $backfill$" in script and "COMMIT;" in script
    assert "UPDATE items SET status = 'done'" in script
    make_items(engine, 95)
    block = script[script.index("DO $backfill$") : script.index("END $backfill$") + 14]
    raw = engine.raw_connection()
    try:
        raw.dbapi_connection.autocommit = True  # type: ignore[union-attr]
        raw.cursor().execute(block)
    finally:
        raw.close()
    assert sql(engine, "SELECT count(*) FROM items WHERE status = 'done'") == [(95,)]


def test_backfill_progress_line_has_rate_and_eta() -> None:
    ticks = iter([0.0, 10.0, 10.0])
    progress = Progress("items", total=1000, clock=lambda: next(ticks), every=0)
    progress.begin(0)
    progress.done = 250
    assert progress.line() == "backfill items: 250/1,000 rows (25.0%), 25 rows/s, ETA 30s"


def test_backfill_reverse_is_refused() -> None:
    with pytest.raises(Irreversible, match="changes data"):
        BackfillOp("items", {"status": 1}).reverse()


def test_backfill_killed_mid_way_resumes_and_updates_every_row_once(
    seeded_db: URL, project_copy: Path
) -> None:
    rows = 4000
    add_revision(
        project_copy,
        "b1000000000a",
        upgrade=(
            "op.execute('CREATE TABLE items (id bigint PRIMARY KEY, status text,"
            " touched int NOT NULL DEFAULT 0)')\n"
            f"op.execute('INSERT INTO items (id) SELECT g FROM generate_series(1, {rows}) g')"
        ),
        downgrade="op.drop_table('items')",
    )
    assert run_cli(MIGRATE, url=seeded_db, cwd=project_copy).returncode == 0
    add_revision(
        project_copy,
        "b1000000000b",
        down="b1000000000a",
        upgrade=(
            "op.backfill('items', set={'status': 'done', 'touched': sa.text('touched + 1')},"
            " where='status IS NULL', batch_size=50, pause=0.05)"
        ),
    )
    eng = sa.create_engine(seeded_db, poolclass=sa.pool.NullPool)
    try:
        child = spawn(MIGRATE, url=seeded_db, cwd=project_copy)
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline:
            found = sql(eng, "SELECT to_regclass('migration_meta.backfills') IS NOT NULL")
            if found[0][0]:
                done = sql(eng, "SELECT coalesce(max(rows_done), 0) FROM migration_meta.backfills")[
                    0
                ][0]
                if done >= 500:
                    break
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
        assert 0 < done < rows, "the kill should land in the middle of the backfill"
        partial = sql(eng, "SELECT count(*) FROM items WHERE status = 'done'")[0][0]
        assert 0 < partial < rows
        result = run_cli(MIGRATE, url=seeded_db, cwd=project_copy)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "resuming an interrupted run" in result.stdout + result.stderr
        assert sql(eng, "SELECT touched, status, count(*) FROM items GROUP BY 1, 2") == [
            (1, "done", rows)
        ]
        assert sql(
            eng, "SELECT rows_done, finished_at IS NOT NULL FROM migration_meta.backfills"
        ) == [(rows, True)]
    finally:
        eng.dispose()
