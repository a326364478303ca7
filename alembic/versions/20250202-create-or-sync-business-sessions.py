"""create or sync business sessions

Handles schema drift: some environments created business_sessions by hand before
it was under migration control, without the tracking columns. ``create_or_sync_table``
creates the table if it is missing; if it exists it adds what is missing (here
user_agent and last_seen_at) and fails, naming both definitions, on anything that
differs and cannot be fixed safely.

Revision ID: 5b8e1f4a7c02
Revises: 1d9f7c3e5a01
Create Date: 2025-02-02 09:00:00

Breaking changes:
    None (new nullable columns).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from conventions import Choice  # importing conventions registers the house ops

revision: str = "5b8e1f4a7c02"
down_revision: str | Sequence[str] | None = "1d9f7c3e5a01"
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
        sa.Column("user_agent", sa.Text()),
        sa.Column("last_seen_at", sa.DateTime(timezone=True)),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_sessions")),
        sa.UniqueConstraint("session_token", name=op.f("uq_business_sessions_session_token")),
        sa.Index(op.f("ix_business_sessions_business_id"), "business_id"),
    )


def downgrade() -> None:
    op.drop_column("business_sessions", "last_seen_at")
    op.drop_column("business_sessions", "user_agent")
