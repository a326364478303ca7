"""create or sync business sessions

Handles schema drift: some environments created business_sessions by hand before
it was under migration control, without the tracking columns. Add what is missing.

Revision ID: 5b8e1f4a7c02
Revises: 1d9f7c3e5a01
Create Date: 2025-02-02 09:00:00

Breaking changes:
    None (new nullable columns).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import conventions  # noqa: F401  (registers op.add_choice_column and the other house ops)

revision: str = "5b8e1f4a7c02"
down_revision: str | Sequence[str] | None = "1d9f7c3e5a01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("business_sessions", sa.Column("user_agent", sa.Text()))
    op.add_column("business_sessions", sa.Column("last_seen_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("business_sessions", "last_seen_at")
    op.drop_column("business_sessions", "user_agent")
