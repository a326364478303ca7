"""add loyalty tiers to offers

Revision ID: c4d8e2a61b29
Revises: 8b2e4d6f0a14
Create Date: 2025-01-29 09:00:00

Breaking changes:
    None (new nullable columns).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import conventions  # noqa: F401  (registers op.add_choice_column and the other house ops)

revision: str = "c4d8e2a61b29"
down_revision: str | Sequence[str] | None = "8b2e4d6f0a14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOYALTY_TIERS = ("bronze", "silver", "gold", "platinum")


def upgrade() -> None:
    op.add_choice_column("offers", "min_loyalty_tier", LOYALTY_TIERS, length=20)
    op.add_index(
        op.f("ix_offers_min_loyalty_tier"),
        "offers",
        ["min_loyalty_tier"],
        postgresql_concurrently=True,
    )
    op.ensure_column("offers", sa.Column("loyalty_points_cost", sa.Integer()))


def downgrade() -> None:
    op.drop_column("offers", "loyalty_points_cost")
    op.drop_index(op.f("ix_offers_min_loyalty_tier"), table_name="offers")
    op.drop_choice_column("offers", "min_loyalty_tier")
