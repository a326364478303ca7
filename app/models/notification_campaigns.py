from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

CAMPAIGN_TYPES = (
    "lifecycle",
    "promotional",
    "transactional",
    "new_offer_announcement",
    "custom_promotion",
    "seasonal_campaign",
)
CAMPAIGN_STATUSES = ("draft", "scheduled", "sending", "sent", "cancelled")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class NotificationCampaign(Base):
    __tablename__ = "notification_campaigns"
    __table_args__ = (
        CheckConstraint(_in("status", CAMPAIGN_STATUSES), name="status"),
        CheckConstraint(_in("campaign_type", CAMPAIGN_TYPES), name="campaign_type"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    segment_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("customer_segments.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), server_default="draft")
    campaign_type: Mapped[str | None] = mapped_column(
        String(50), comment="What kind of campaign this is; drives templates and reporting."
    )
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
