"""End to end: a migration written only with house ops, through ``alembic`` and the runtime.

It upgrades, downgrades (through the archive rule: drop_choice_column goes through
``op.drop_column``) and upgrades again; re-running it on top of itself converges;
and its offline script, run by hand on an empty server, builds the same schema.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool

from conventions.harness.scratch import DatabaseFactory, connect, run_cli

REVISION = "ab12cd34ef56"
STEM = "20991231-house-ops-only"

UPGRADE = """
op.create_or_sync_table(
    "referrals",
    sa.Column("id", sa.BigInteger()),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("kind", Choice(["friend", "partner"]), server_default="friend", nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    sa.UniqueConstraint("code", name=op.f("uq_referrals_code")),
)
op.add_choice_column("offers", "channel", CHANNELS, comment="Where it's shown")
op.alter_choices(
    "wallet_notifications", "delivery_status", [*DELIVERY, "bounced"], existing_values=DELIVERY
)
op.ensure_column("offers", sa.Column("referral_id", sa.BigInteger()))
op.add_foreign_key(None, "offers", "referrals", ["referral_id"], ["id"], ondelete="SET NULL")
op.add_index(None, "offers", ["channel"], postgresql_concurrently=True)
op.add_check_constraint("cost_not_negative", "offers", "loyalty_points_cost >= 0")
op.add_comment("offers", "What customers can redeem")
"""

DOWNGRADE = """
op.add_comment("offers", None, existing_comment="What customers can redeem")
op.drop_constraint(op.f("ck_offers_cost_not_negative"), "offers", type_="check")
op.drop_index(op.f("ix_offers_channel"), table_name="offers")
op.drop_constraint(op.f("fk_offers_referral_id_referrals"), "offers", type_="foreignkey")
op.drop_column("offers", "referral_id")
op.alter_choices(
    "wallet_notifications", "delivery_status", DELIVERY, existing_values=[*DELIVERY, "bounced"]
)
op.drop_choice_column("offers", "channel")
op.drop_table("referrals")
"""

SCHEMA = """
SELECT 'column', c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
       || ' ' || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
       || ' ' || coalesce(col_description(a.attrelid, a.attnum), '')
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
  AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', c.relname, con.conname, pg_get_constraintdef(con.oid) || ' ' || convalidated
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
WHERE c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'index', c.relname, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'comment', c.relname, '', coalesce(obj_description(c.oid, 'pg_class'), '')
FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
"""

BOOKKEEPING = {"alembic_version", "migration_history"}


def write_revision(project: Path) -> None:
    versions = project / "alembic" / "versions"
    source = (
        f'"""house ops only\n\nRevision ID: {REVISION}\nRevises: 5b8e1f4a7c02\n"""\n\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\nfrom conventions import Choice\n\n"
        f"revision = {REVISION!r}\ndown_revision = '5b8e1f4a7c02'\n"
        "branch_labels = None\ndepends_on = None\n\n"
        'CHANNELS = ["app", "email", "it\'s \\"in-store\\"", "50% off, today"]\n'
        'DELIVERY = ["pending", "sent", "delivered", "failed"]\n\n\n'
        f"def upgrade() -> None:\n{textwrap.indent(UPGRADE.strip(), '    ')}\n\n\n"
        f"def downgrade() -> None:\n{textwrap.indent(DOWNGRADE.strip(), '    ')}\n"
    )
    (versions / f"{STEM}.py").write_text(source)


def schema(engine: Engine) -> set[tuple[str, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(text(SCHEMA)).all()
    return {tuple(r) for r in rows if r[1] not in BOOKKEEPING}


def alembic(project: Path, url: URL, *args: str) -> str:
    result = run_cli(["alembic", *args], url=url, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_house_ops_upgrade_downgrade_upgrade_and_rerun(project_copy: Path, fresh_db: URL) -> None:
    write_revision(project_copy)
    engine = create_engine(fresh_db, poolclass=NullPool)
    alembic(project_copy, fresh_db, "upgrade", "5b8e1f4a7c02")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO offers (id, title, loyalty_points_cost) VALUES (1, 'a', 5)"))
    before = schema(engine)

    up = alembic(project_copy, fresh_db, "upgrade", "head")
    assert f"[1/1] {STEM} ok" in up
    upgraded = schema(engine)
    assert ("constraint", "offers", "ck_offers_channel") in {r[:3] for r in upgraded}
    assert all(r[3].endswith("true") for r in upgraded if r[0] == "constraint")  # validated
    with engine.begin() as conn:
        conn.execute(text("UPDATE offers SET channel = '50% off, today' WHERE id = 1"))

    down = alembic(project_copy, fresh_db, "downgrade", "-1")
    assert f"[1/1] {STEM} (downgrade) ok" in down
    assert "Archived offers.channel before dropping it" in down  # drop_column's archive rule
    assert schema(engine) == before

    alembic(project_copy, fresh_db, "upgrade", "head")
    assert schema(engine) == upgraded

    # Half-applied or re-run: the whole migration on top of itself converges.
    alembic(project_copy, fresh_db, "stamp", "5b8e1f4a7c02")
    again = alembic(project_copy, fresh_db, "upgrade", "head")
    assert "[warn] Column offers.channel already exists, skipping" in again
    assert "[warn] wallet_notifications.delivery_status already allows exactly these values" in (
        again
    )
    assert "[warn] Table referrals already exists and matches, skipping" in again
    assert schema(engine) == upgraded
    engine.dispose()


def run_script(url: URL, script: str) -> None:
    """Run an offline script the way ``psql -f`` would: statement by statement, as written."""
    conn = connect(url)  # autocommit: the script has its own BEGIN/COMMIT
    try:
        with conn.cursor() as cur:
            for statement in script.split(";\n"):
                if statement.strip() and not all(
                    line.startswith("--") for line in statement.strip().splitlines()
                ):
                    cur.execute(statement)
    finally:
        conn.close()


def test_offline_script_builds_the_same_schema_as_online(
    project_copy: Path, db_factory: DatabaseFactory, fresh_db: URL
) -> None:
    write_revision(project_copy)
    script = run_cli(["alembic", "upgrade", "head", "--sql"], url=fresh_db, cwd=project_copy)
    assert script.returncode == 0, script.stderr
    assert "ALTER TABLE offers ADD CONSTRAINT ck_offers_channel CHECK (channel IN ('app', " in (
        script.stdout
    )
    assert "'it''s \"in-store\"', '50% off, today')) NOT VALID;" in script.stdout
    run_script(fresh_db, script.stdout)
    offline_engine = create_engine(fresh_db, poolclass=NullPool)
    offline_schema = schema(offline_engine)
    offline_engine.dispose()

    online = db_factory.create()
    try:
        alembic(project_copy, online, "upgrade", "head")
        online_engine = create_engine(online, poolclass=NullPool)
        assert offline_schema == schema(online_engine)
        online_engine.dispose()
    finally:
        db_factory.drop(online)
