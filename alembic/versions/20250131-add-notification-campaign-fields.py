"""add notification campaign fields

Revision ID: e7a3b5c9d131
Revises: c4d8e2a61b29
Create Date: 2025-01-31 09:00:00

Breaking changes:
    None (new nullable columns and an index).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import conventions  # noqa: F401  (registers op.add_choice_column and the other house ops)

revision: str = "e7a3b5c9d131"
down_revision: str | Sequence[str] | None = "c4d8e2a61b29"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CAMPAIGN_TYPES = (
    "lifecycle",
    "promotional",
    "transactional",
    "new_offer_announcement",
    "custom_promotion",
    "seasonal_campaign",
)


def upgrade() -> None:
    op.add_choice_column(
        "notification_campaigns",
        "campaign_type",
        CAMPAIGN_TYPES,
        length=50,
        comment="What kind of campaign this is; drives templates and reporting.",
    )
    op.ensure_column(
        "notification_campaigns", sa.Column("scheduled_at", sa.DateTime(timezone=True))
    )
    op.ensure_column(
        "customer_segments", sa.Column("last_notification_sent_at", sa.DateTime(timezone=True))
    )
    op.add_index(
        op.f("ix_customer_segments_last_notification_sent_at"),
        "customer_segments",
        ["last_notification_sent_at"],
        postgresql_concurrently=True,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_customer_segments_last_notification_sent_at"), table_name="customer_segments"
    )
    op.drop_column("customer_segments", "last_notification_sent_at")
    op.drop_column("notification_campaigns", "scheduled_at")
    op.drop_choice_column("notification_campaigns", "campaign_type")
