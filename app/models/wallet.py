from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from conventions import Choice

DELIVERY_STATUSES = ("pending", "sent", "delivered", "failed")


class WalletPass(Base):
    __tablename__ = "wallet_passes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    offer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("offers.id", ondelete="CASCADE"), index=True
    )
    serial_number: Mapped[str] = mapped_column(String(64), unique=True)
    last_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WalletNotification(Base):
    __tablename__ = "wallet_notifications"
    __table_args__ = (Index(None, "wallet_pass_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    wallet_pass_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("wallet_passes.id", ondelete="CASCADE")
    )
    message: Mapped[str] = mapped_column(Text)
    delivery_status: Mapped[str] = mapped_column(
        Choice(DELIVERY_STATUSES, length=20), server_default="pending"
    )
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
