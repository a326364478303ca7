"""create business sessions table

Revision ID: 1d9f7c3e5a01
Revises: e7a3b5c9d131
Create Date: 2025-02-01 09:00:00

Breaking changes:
    None (new table).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from conventions import Choice  # importing conventions registers the house ops

revision: str = "1d9f7c3e5a01"
down_revision: str | Sequence[str] | None = "e7a3b5c9d131"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SESSION_STATUSES = ("active", "expired", "revoked")


def upgrade() -> None:
    op.create_or_sync_table(
        "business_sessions",
        sa.Column("id", sa.BigInteger()),
        sa.Column("business_id", sa.BigInteger(), nullable=False),
        sa.Column("session_token", sa.String(128), nullable=False),
        sa.Column(
            "status", Choice(SESSION_STATUSES, length=20), server_default="active", nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_sessions")),
        sa.UniqueConstraint("session_token", name=op.f("uq_business_sessions_session_token")),
    )
    op.add_index(op.f("ix_business_sessions_business_id"), "business_sessions", ["business_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_business_sessions_business_id"), table_name="business_sessions")
    op.drop_table("business_sessions")
