"""SQL given is never rewritten; failures say what really happened (issue 11, 12 and 17).

12: a tab inside a SQL literal stays a tab (CHECK, postgresql_where, create_or_sync_table
reruns). 17: a PostgreSQL refusal of CREATE INDEX CONCURRENTLY with nothing committed is
"rolled back", not "partly applied"; a plain CHECK violation samples the column's values,
not ctids; status --history takes 0..100000; status --json on an error is a JSON document.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

from conventions.harness.scratch import run_cli
from tests.ops_harness import apply
from tests.runtime_support import (
    MIGRATE,
    SEED_HEAD,
    add_revision,
    execute,
    history,
    scalar,
    version,
)


def _constraint(engine: Engine, table: str) -> str:
    """Every CHECK of ``table`` as PostgreSQL stores it (names follow the convention)."""
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT string_agg(pg_get_constraintdef(oid), ' | ') FROM pg_constraint"
                " WHERE conrelid = to_regclass(:t) AND contype = 'c'"
            ),
            {"t": table},
        ).scalar()
        return str(found)


def test_a_tab_inside_a_check_literal_is_stored_as_a_tab(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE books (id int PRIMARY KEY, title text)"))
        conn.execute(text("INSERT INTO books VALUES (1, 'a b')"))
    apply(engine, lambda op: op.add_check_constraint("ck_books_title", "books", "title <> 'a\tb'"))
    assert "'a\tb'" in _constraint(engine, "books")
    # the rerun compares with what is stored: identical, skipped (no false conflict)
    apply(engine, lambda op: op.add_check_constraint("ck_books_title", "books", "title <> 'a\tb'"))
    with engine.begin() as conn:
        rejected = conn.execute(text("SELECT count(*) FROM books WHERE NOT (title <> E'a\\tb')"))
        assert rejected.scalar() == 0


def test_a_tab_inside_an_index_predicate_is_kept(engine: Engine) -> None:
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE books (id int PRIMARY KEY, title text)"))
    where = sa.text("title <> 'x\ty'")
    apply(
        engine,
        lambda op: op.add_index("ix_books_title", "books", ["title"], postgresql_where=where),
    )
    apply(
        engine,
        lambda op: op.add_index("ix_books_title", "books", ["title"], postgresql_where=where),
    )
    with engine.connect() as conn:
        definition = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_books_title'")
        ).scalar()
    assert "'x\ty'" in str(definition)


def test_create_or_sync_table_rerun_with_a_tab_literal_is_no_conflict(engine: Engine) -> None:
    import sqlalchemy as sa

    def sync(op) -> None:
        op.create_or_sync_table(
            "notes",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("body", sa.Text, nullable=False),
            sa.CheckConstraint("body <> 'tab\there'", name="ck_notes_body"),
        )

    apply(engine, sync)
    apply(engine, sync)  # converges: identical, not a DefinitionConflict
    assert "'tab\there'" in _constraint(engine, "notes")


def test_concurrent_index_on_a_partitioned_table_refused_is_rolled_back_not_partly_applied(
    project_copy: Path, seeded_db: URL
) -> None:
    execute(
        seeded_db,
        "CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at);"
        " CREATE TABLE events_2026 PARTITION OF events"
        " FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    )
    add_revision(
        project_copy,
        "aa00000000x1",
        upgrade="op.add_index('ix_events_at', 'events', ['at'], postgresql_concurrently=True)",
    )
    before = history(seeded_db)
    done = run_cli(MIGRATE, url=seeded_db, cwd=project_copy)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "failed and was rolled back" in output, output
    assert "partly applied" not in output
    assert "concurrently" in output.lower() and "partitioned" in output
    assert version(seeded_db) == [SEED_HEAD]
    assert scalar(seeded_db, "SELECT to_regclass('ix_events_at')") is None
    assert len(history(seeded_db)) == len(before) + 1  # the failure row


def test_concurrent_index_after_other_work_still_says_partly_applied(
    project_copy: Path, seeded_db: URL
) -> None:
    execute(
        seeded_db,
        "CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at)",
    )
    add_revision(
        project_copy,
        "aa00000000x2",
        upgrade="""
            op.create_table('before_probe', sa.Column('id', sa.Integer, primary_key=True))
            op.add_index('ix_events_at', 'events', ['at'], postgresql_concurrently=True)
        """,
    )
    done = run_cli(MIGRATE, url=seeded_db, cwd=project_copy)
    assert done.returncode == 1
    assert "partly applied (work before CREATE INDEX CONCURRENTLY ix_events_at" in done.stderr
    assert scalar(seeded_db, "SELECT to_regclass('before_probe')::text") == "before_probe"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("length(title) > 3", "e.g. 'ab', 'xyz'"),
        ("price>0", "e.g. -1, 0"),
        ("(price > 0 AND title <> 'zzz')", "e.g. '(-1,ab)', '(0,xyz)'"),
    ],
)
def test_a_plain_check_violation_samples_the_columns_values_not_ctids(
    project_copy: Path, seeded_db: URL, condition: str, expected: str
) -> None:
    execute(
        seeded_db,
        "CREATE TABLE priced (id int PRIMARY KEY, title text, price int);"
        " INSERT INTO priced VALUES (1, 'ab', -1), (2, 'xyz', 0), (3, 'long enough', 5)",
    )
    add_revision(
        project_copy,
        "aa00000000c1",
        upgrade=f"op.create_check_constraint('ck_priced', 'priced', {condition!r})",
    )
    done = run_cli(MIGRATE, url=seeded_db, cwd=project_copy)
    assert done.returncode == 1
    assert "2 existing row(s) offend, " + expected in done.stderr, done.stderr
    assert "(0," not in done.stderr.replace("'(0,xyz)'", "")
    assert scalar(seeded_db, "SELECT count(*) FROM pg_constraint WHERE conname = 'ck_priced'") == 0


@pytest.mark.parametrize("count", ["-5", "99999999999999999999", "ten"])
def test_status_history_count_out_of_range_is_a_usage_error(seeded_db: URL, count: str) -> None:
    done = run_cli(["-m", "conventions", "status", "--history", count], url=seeded_db)
    assert done.returncode == 2
    assert "--history" in done.stderr and "database" not in done.stderr.lower()
    assert done.stdout == ""


def test_status_history_zero_and_the_limit_work(seeded_db: URL) -> None:
    for count in ("0", "100000"):
        done = run_cli(["-m", "conventions", "status", "--json", "--history", count], url=seeded_db)
        assert done.returncode == 0, done.stderr
        assert len(json.loads(done.stdout)["history"]) == (0 if count == "0" else 6)


def test_status_json_on_an_error_is_one_json_document_and_the_message_on_stderr() -> None:
    done = run_cli(["-m", "conventions", "status", "--json"], url="mysql://app:pw1234@h/app")
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert document["error"]["type"] == "DatabaseUrlError"
    assert "whose driver is not installed" in document["error"]["message"]
    assert document["error"]["hints"]
    assert "[error]" in done.stderr and "whose driver is not installed" in done.stderr
    assert "pw1234" not in done.stdout + done.stderr
    assert "pw1234" not in done.stdout + done.stderr
