"""`status` and `inspect` on the seed domain: exact output, JSON, --check, catalog checks."""

from __future__ import annotations

import json

import psycopg2
import pytest
from sqlalchemy.engine import URL

from conventions.harness.scratch import connect, run_cli
from tests.runtime_support import (
    SEED_HEAD,
    SEED_REVISIONS,
    execute,
)

STATUS = ["-m", "conventions", "status"]


def _body(output: str) -> str:
    """Drop the first line (the database URL, which names a scratch database)."""
    first, _, rest = output.partition("\n")
    assert first.startswith("Database: postgresql+psycopg2://")
    return rest


def test_status_of_a_partly_migrated_database(seeded_db: URL) -> None:
    fresh_db = seeded_db
    assert run_cli(["alembic", "downgrade", "-2"], url=fresh_db).returncode == 0
    result = run_cli([*STATUS, "--history", "3"], url=fresh_db)
    assert result.returncode == 0, result.stderr
    body, _, last = _body(result.stdout).partition("Last 3 step(s):\n")
    assert body == (
        "Current:  e7a3b5c9d131\n"
        "Heads:    5b8e1f4a7c02\n"
        "Revisions (oldest first):\n"
        "  [X] 3f1a9c2b7d10  20250110-create-base-schema\n"
        "  [X] 8b2e4d6f0a14  20250114-add-wallet-notification-tracking\n"
        "  [X] c4d8e2a61b29  20250129-add-loyalty-tiers-to-offers\n"
        "  [X] e7a3b5c9d131  20250131-add-notification-campaign-fields\n"
        "  [ ] 1d9f7c3e5a01  20250201-create-business-sessions-table\n"
        "  [ ] 5b8e1f4a7c02  20250202-create-or-sync-business-sessions\n"
        "Pending:  2 (python -m conventions migrate)\n"
        "Edited since applied (python -m conventions repair): none\n"
        "Drift (models vs database): not checked: the database is not at head\n"
        "NOT VALID constraints: none\n"
        "Invalid indexes (interrupted CONCURRENTLY): none\n"
        "Native ENUM types: none\n"
        "Tables without a primary key: none\n"
    )
    steps = [line.split()[2:5] for line in last.splitlines()]
    assert steps == [
        ["upgrade", SEED_HEAD, "20250202-create-or-sync-business-sessions.py"],
        ["downgrade", SEED_HEAD, "20250202-create-or-sync-business-sessions.py"],
        ["downgrade", "1d9f7c3e5a01", "20250201-create-business-sessions-table.py"],
    ]
    assert run_cli([*STATUS, "--check"], url=fresh_db).returncode == 1


def test_status_at_head_and_json(seeded_db: URL) -> None:
    fresh_db = seeded_db
    text = run_cli(STATUS, url=fresh_db)
    assert text.returncode == 0
    body = _body(text.stdout)
    assert body.startswith("Current:  5b8e1f4a7c02 (head)\nHeads:    5b8e1f4a7c02\n")
    assert "Pending:  none (up to date)\nEdited since applied" in body
    assert "Drift (models vs database): none\n" in body
    assert "Last 6 step(s):\n" in body

    result = run_cli([*STATUS, "--json", "--check"], url=fresh_db)
    assert result.returncode == 0, result.stdout
    data = json.loads(result.stdout)
    assert {"current", "heads", "pending", "history"} <= set(data)
    assert data["current"] == data["heads"] == [SEED_HEAD]
    assert data["pending"] == [] and data["ok"] is True
    assert [r["revision"] for r in data["revisions"]] == [rev for rev, _ in SEED_REVISIONS]
    assert [(h["revision"], h["direction"], h["success"]) for h in data["history"]] == [
        (rev, "upgrade", True) for rev, _ in SEED_REVISIONS
    ]


def test_status_reports_catalog_problems(seeded_db: URL) -> None:
    fresh_db = seeded_db
    execute(
        fresh_db,
        "CREATE TYPE mood AS ENUM ('sad', 'ok');"
        " CREATE TABLE scratch_log (line text);"
        " INSERT INTO scratch_log VALUES ('x'), ('x');"
        " ALTER TABLE offers ADD CONSTRAINT ck_offers_positive CHECK (id > 0) NOT VALID",
    )
    # An interrupted CREATE INDEX CONCURRENTLY leaves an INVALID index behind.
    conn = connect(fresh_db, autocommit=True)
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.UniqueViolation):
            cur.execute(
                "CREATE UNIQUE INDEX CONCURRENTLY ix_scratch_log_line ON scratch_log (line)"
            )
    finally:
        conn.close()
    result = run_cli([*STATUS, "--check"], url=fresh_db)
    assert result.returncode == 1
    body = _body(result.stdout)
    assert (
        "Drift (models vs database): 2\n"
        "  - index ix_scratch_log_line on scratch_log: in the database only\n"
        "  - table scratch_log: in the database only\n"
    ) in body
    assert "NOT VALID constraints: 1\n  - offers.ck_offers_positive\n" in body
    assert (
        "Invalid indexes (interrupted CONCURRENTLY): 1\n  - ix_scratch_log_line on scratch_log\n"
    ) in body
    assert "Native ENUM types: 1\n  - mood (sad, ok)\n" in body
    assert "Tables without a primary key: 1\n  - scratch_log\n" in body


def test_inspect_lists_columns_indexes_and_constraints(seeded_db: URL) -> None:
    fresh_db = seeded_db
    result = run_cli(["-m", "conventions", "inspect", "customer_segments"], url=fresh_db)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "Table public.customer_segments\n"
        "Columns (5):\n"
        "  name                       type                      null      default"
        "                                        comment\n"
        "  id                         bigint                    NOT NULL"
        "  nextval('customer_segments_id_seq'::regclass)\n"
        "  name                       character varying(100)    NOT NULL\n"
        "  description                text                      NULL\n"
        "  created_at                 timestamp with time zone  NOT NULL  now()\n"
        "  last_notification_sent_at  timestamp with time zone  NULL\n"
        "Indexes (3):\n"
        "  ix_customer_segments_last_notification_sent_at: CREATE INDEX"
        " ix_customer_segments_last_notification_sent_at ON public.customer_segments"
        " USING btree (last_notification_sent_at)\n"
        "  pk_customer_segments: CREATE UNIQUE INDEX pk_customer_segments"
        " ON public.customer_segments USING btree (id)\n"
        "  uq_customer_segments_name: CREATE UNIQUE INDEX uq_customer_segments_name"
        " ON public.customer_segments USING btree (name)\n"
        "Constraints (2):\n"
        "  pk_customer_segments (PRIMARY KEY): PRIMARY KEY (id)\n"
        "  uq_customer_segments_name (UNIQUE): UNIQUE (name)\n"
    )
    campaigns = run_cli(
        ["-m", "conventions", "inspect", "notification_campaigns", "--json"], url=fresh_db
    )
    data = json.loads(campaigns.stdout)
    comment = {c["name"]: c["comment"] for c in data["columns"]}["campaign_type"]
    assert comment == "What kind of campaign this is; drives templates and reporting."
    kinds = {c["name"]: c["kind"] for c in data["constraints"]}
    assert kinds["ck_notification_campaigns_campaign_type"] == "CHECK"
    assert kinds["fk_notification_campaigns_segment_id_customer_segments"] == "FOREIGN KEY"


def test_inspect_unknown_table_suggests_a_name(seeded_db: URL) -> None:
    fresh_db = seeded_db
    result = run_cli(["-m", "conventions", "inspect", "ofers"], url=fresh_db)
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "[error] Table 'ofers' does not exist in this database." in output
    assert "Did you mean: offers?" in output
    assert "Traceback" not in output


def test_check_fails_when_drift_could_not_be_checked(seeded_db: URL) -> None:
    result = run_cli([*STATUS, "--check", "--models", "no_such_models_module"], url=seeded_db)
    assert result.returncode == 1, result.stdout
    assert "not checked: cannot load no_such_models_module" in result.stdout
    ok = run_cli([*STATUS, "--check"], url=seeded_db)
    assert ok.returncode == 0, ok.stdout + ok.stderr
