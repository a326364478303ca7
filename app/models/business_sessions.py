from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from conventions import Choice

SESSION_STATUSES = ("active", "expired", "revoked")


class BusinessSession(Base):
    __tablename__ = "business_sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    business_id: Mapped[int] = mapped_column(BigInteger, index=True)
    session_token: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(
        Choice(SESSION_STATUSES, length=20), server_default="active"
    )
    user_agent: Mapped[str | None] = mapped_column(Text)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
