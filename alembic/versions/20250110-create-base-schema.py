"""create base schema

The notification domain as it stood before the seed's migrations: segments,
campaigns, offers and wallet passes. Create-or-sync, so a database whose tables were
made by hand converges instead of failing.

Revision ID: 3f1a9c2b7d10
Revises:
Create Date: 2025-01-10 09:00:00

Breaking changes:
    None (new tables).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from conventions import Choice  # importing conventions registers the house ops

revision: str = "3f1a9c2b7d10"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CAMPAIGN_STATUSES = ("draft", "scheduled", "sending", "sent", "cancelled")


def upgrade() -> None:
    op.create_or_sync_table(
        "customer_segments",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_customer_segments_name")),
    )
    op.create_or_sync_table(
        "notification_campaigns",
        sa.Column("id", sa.BigInteger()),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("segment_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "status", Choice(CAMPAIGN_STATUSES, length=20), server_default="draft", nullable=False
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_campaigns")),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["customer_segments.id"],
            ondelete="CASCADE",
            name=op.f("fk_notification_campaigns_segment_id_customer_segments"),
        ),
    )
    op.add_index(
        op.f("ix_notification_campaigns_segment_id"), "notification_campaigns", ["segment_id"]
    )
    op.create_or_sync_table(
        "offers",
        sa.Column("id", sa.BigInteger()),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("discount_percent", sa.Numeric(5, 2)),
        sa.Column("starts_at", sa.DateTime(timezone=True)),
        sa.Column("ends_at", sa.DateTime(timezone=True)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    op.create_or_sync_table(
        "wallet_passes",
        sa.Column("id", sa.BigInteger()),
        sa.Column("offer_id", sa.BigInteger(), nullable=False),
        sa.Column("serial_number", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_passes")),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offers.id"],
            ondelete="CASCADE",
            name=op.f("fk_wallet_passes_offer_id_offers"),
        ),
        sa.UniqueConstraint("serial_number", name=op.f("uq_wallet_passes_serial_number")),
    )
    op.add_index(op.f("ix_wallet_passes_offer_id"), "wallet_passes", ["offer_id"])
    op.create_or_sync_table(
        "wallet_notifications",
        sa.Column("id", sa.BigInteger()),
        sa.Column("wallet_pass_id", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_notifications")),
        sa.ForeignKeyConstraint(
            ["wallet_pass_id"],
            ["wallet_passes.id"],
            ondelete="CASCADE",
            name=op.f("fk_wallet_notifications_wallet_pass_id_wallet_passes"),
        ),
    )


def downgrade() -> None:
    op.drop_table("wallet_notifications")
    op.drop_index(op.f("ix_wallet_passes_offer_id"), table_name="wallet_passes")
    op.drop_table("wallet_passes")
    op.drop_table("offers")
    op.drop_index(op.f("ix_notification_campaigns_segment_id"), table_name="notification_campaigns")
    op.drop_table("notification_campaigns")
    op.drop_table("customer_segments")
