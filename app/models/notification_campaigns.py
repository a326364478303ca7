from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from conventions import Choice

CAMPAIGN_TYPES = (
    "lifecycle",
    "promotional",
    "transactional",
    "new_offer_announcement",
    "custom_promotion",
    "seasonal_campaign",
)
CAMPAIGN_STATUSES = ("draft", "scheduled", "sending", "sent", "cancelled")


class NotificationCampaign(Base):
    __tablename__ = "notification_campaigns"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    segment_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("customer_segments.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(
        Choice(CAMPAIGN_STATUSES, length=20), server_default="draft"
    )
    campaign_type: Mapped[str | None] = mapped_column(
        Choice(CAMPAIGN_TYPES, length=50),
        comment="What kind of campaign this is; drives templates and reporting.",
    )
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
