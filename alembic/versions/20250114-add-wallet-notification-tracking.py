"""add wallet notification tracking

Revision ID: 8b2e4d6f0a14
Revises: 3f1a9c2b7d10
Create Date: 2025-01-14 09:00:00

Breaking changes:
    None (new nullable columns; delivery_status defaults to 'pending').
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import conventions  # noqa: F401  (registers op.add_choice_column and the other house ops)

revision: str = "8b2e4d6f0a14"
down_revision: str | Sequence[str] | None = "3f1a9c2b7d10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DELIVERY_STATUSES = ("pending", "sent", "delivered", "failed")


def upgrade() -> None:
    op.add_choice_column(
        "wallet_notifications",
        "delivery_status",
        DELIVERY_STATUSES,
        length=20,
        server_default="pending",
        nullable=False,
    )
    op.ensure_column("wallet_notifications", sa.Column("delivered_at", sa.DateTime(timezone=True)))
    op.ensure_column("wallet_notifications", sa.Column("opened_at", sa.DateTime(timezone=True)))
    op.add_index(
        op.f("ix_wallet_notifications_wallet_pass_id_created_at"),
        "wallet_notifications",
        ["wallet_pass_id", "created_at"],
        postgresql_concurrently=True,
    )
    op.ensure_column("wallet_passes", sa.Column("last_notified_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("wallet_passes", "last_notified_at")
    op.drop_index(
        op.f("ix_wallet_notifications_wallet_pass_id_created_at"),
        table_name="wallet_notifications",
    )
    op.drop_column("wallet_notifications", "opened_at")
    op.drop_column("wallet_notifications", "delivered_at")
    op.drop_choice_column("wallet_notifications", "delivery_status")
