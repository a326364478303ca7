"""The application's models; importing this package registers every table on Base."""

from app.models.base import Base
from app.models.business_sessions import BusinessSession
from app.models.customer_segments import CustomerSegment
from app.models.notification_campaigns import NotificationCampaign
from app.models.offers import Offer
from app.models.wallet import WalletNotification, WalletPass

__all__ = [
    "Base",
    "BusinessSession",
    "CustomerSegment",
    "NotificationCampaign",
    "Offer",
    "WalletNotification",
    "WalletPass",
]
