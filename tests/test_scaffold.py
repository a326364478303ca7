"""The scaffold on a real PostgreSQL: upgrade, downgrade, revision, offline SQL."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from conventions.harness.scratch import run_cli
from tests import catalog

SEED_TABLES = {
    "customer_segments",
    "notification_campaigns",
    "offers",
    "wallet_passes",
    "wallet_notifications",
    "business_sessions",
}


def test_upgrade_head_creates_the_seed_domain(fresh_db: URL) -> None:
    result = run_cli(["alembic", "upgrade", "head"], url=fresh_db)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[1/6] 20250110-create-base-schema ok" in result.stdout
    assert "[4/6] 20250131-add-notification-campaign-fields ok" in result.stdout
    assert "[done] Done: 6 migration(s)" in result.stdout

    engine = create_engine(fresh_db, poolclass=NullPool)
    assert catalog.tables(engine) == SEED_TABLES | {"alembic_version"}
    campaigns = catalog.columns(engine, "notification_campaigns")
    assert campaigns["campaign_type"] == ("character varying", True)
    assert campaigns["status"] == ("character varying", False)
    checks = catalog.constraints(engine, "notification_campaigns")
    campaign_check = checks["ck_notification_campaigns_campaign_type"]
    for value in (
        "lifecycle",
        "promotional",
        "transactional",
        "new_offer_announcement",
        "custom_promotion",
        "seasonal_campaign",
    ):
        assert f"'{value}'" in campaign_check
    assert "fk_notification_campaigns_segment_id_customer_segments" in checks
    assert "pk_notification_campaigns" in checks
    segments = catalog.columns(engine, "customer_segments")
    assert segments["last_notification_sent_at"] == ("timestamp with time zone", True)
    assert "ix_customer_segments_last_notification_sent_at" in catalog.indexes(
        engine, "customer_segments"
    )
    assert "ck_offers_min_loyalty_tier" in catalog.constraints(engine, "offers")
    assert "ck_wallet_notifications_delivery_status" in catalog.constraints(
        engine, "wallet_notifications"
    )
    sessions = catalog.columns(engine, "business_sessions")
    assert {"user_agent", "last_seen_at", "status", "session_token"} <= set(sessions)
    assert "uq_business_sessions_session_token" in catalog.constraints(engine, "business_sessions")
    engine.dispose()

    again = run_cli(["alembic", "upgrade", "head"], url=fresh_db)
    assert again.returncode == 0
    assert again.stdout.strip().splitlines()[-1].startswith("[ok] Database is up to date")
    assert "[1/" not in again.stdout


def test_downgrade_one_step_and_back(fresh_db: URL) -> None:
    assert run_cli(["alembic", "upgrade", "head"], url=fresh_db).returncode == 0
    down = run_cli(["alembic", "downgrade", "-1"], url=fresh_db)
    assert down.returncode == 0, down.stderr
    assert "[1/1] 20250202-create-or-sync-business-sessions (downgrade) ok" in down.stdout
    engine = create_engine(fresh_db, poolclass=NullPool)
    assert "last_seen_at" not in catalog.columns(engine, "business_sessions")
    up = run_cli(["alembic", "upgrade", "head"], url=fresh_db)
    assert up.returncode == 0 and "[1/1] 20250202-create-or-sync-business-sessions ok" in up.stdout
    assert "last_seen_at" in catalog.columns(engine, "business_sessions")
    engine.dispose()


def test_downgrade_base_leaves_no_table(fresh_db: URL) -> None:
    assert run_cli(["alembic", "upgrade", "head"], url=fresh_db).returncode == 0
    down = run_cli(["alembic", "downgrade", "base"], url=fresh_db)
    assert down.returncode == 0, down.stderr
    engine = create_engine(fresh_db, poolclass=NullPool)
    assert catalog.tables(engine) == {"alembic_version"}  # history lives in migration_meta
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 0
    engine.dispose()


def test_revision_writes_house_file_that_round_trips(project_copy: Path, fresh_db: URL) -> None:
    stamp = dt.date.today().strftime("%Y%m%d")
    first = run_cli(
        ["alembic", "revision", "-m", "Add loyalty tiers to offers!"],
        url=fresh_db,
        cwd=project_copy,
    )
    assert first.returncode == 0, first.stderr
    path = project_copy / "alembic" / "versions" / f"{stamp}-add-loyalty-tiers-to-offers.py"
    assert path.is_file(), sorted(p.name for p in path.parent.iterdir())
    body = path.read_text()
    assert "def upgrade() -> None:" in body and "def downgrade() -> None:" in body
    assert "import conventions" in body and "Breaking changes:" in body
    # the hand-written file keeps the imports its author is about to use
    assert "from alembic import op\n" in body and "import sqlalchemy as sa\n" in body
    assert re.search(r"down_revision: .* = '5b8e1f4a7c02'|= \"5b8e1f4a7c02\"", body)

    second = run_cli(
        ["alembic", "revision", "-m", "add loyalty tiers to offers"], url=fresh_db, cwd=project_copy
    )
    assert second.returncode == 0, second.stderr
    assert (path.parent / f"{stamp}-add-loyalty-tiers-to-offers-2.py").is_file()
    assert path.read_text() == body  # the first file was not overwritten

    up = run_cli(["alembic", "upgrade", "head"], url=fresh_db, cwd=project_copy)
    assert up.returncode == 0, up.stdout + up.stderr
    assert f"[8/8] {stamp}-add-loyalty-tiers-to-offers-2 ok" in up.stdout
    down = run_cli(["alembic", "downgrade", "-2"], url=fresh_db, cwd=project_copy)
    assert down.returncode == 0, down.stderr
    assert "[2/2]" in down.stdout


def test_offline_sql_contains_the_ddl() -> None:
    result = run_cli(["alembic", "upgrade", "head", "--sql"], url=None)
    assert result.returncode == 0, result.stderr
    sql = result.stdout
    assert "CREATE TABLE IF NOT EXISTS customer_segments" in sql  # create-or-sync, offline
    assert "ADD COLUMN campaign_type VARCHAR(50)" in sql
    assert "CONSTRAINT ck_notification_campaigns_campaign_type CHECK" in sql
    assert (
        "COMMIT;\n\nALTER TABLE notification_campaigns VALIDATE CONSTRAINT "
        "ck_notification_campaigns_campaign_type;\n\nBEGIN;"
    ) in sql
    # indexes on existing tables are built CONCURRENTLY, outside any transaction
    assert (
        "COMMIT;\n\nCREATE INDEX CONCURRENTLY ix_customer_segments_last_notification_sent_at "
        "ON customer_segments (last_notification_sent_at);\n\nBEGIN;"
    ) in sql
    # one transaction per revision, plus one more for each of the 3 choice columns added
    # to existing tables (VALIDATE runs between them, outside a transaction) and for each
    # of the 3 concurrent index builds
    assert sql.count("BEGIN;") == 12 and sql.count("COMMIT;") == 12
