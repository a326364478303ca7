"""A small seed data set for the sample domain, inserted before every migration runs.

Each table is filled when the history creates it; a value for a column a later
revision adds is simply left out until then (the harness generates rows for those
columns as they appear). Values include quotes, commas, unicode and NULLs so a
migration that rewrites data meets them before production does.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from conventions.harness import SeedRows

UTC = dt.UTC
JAN = dt.datetime(2025, 1, 9, 8, 30, tzinfo=UTC)

SEED_ROWS: SeedRows = {
    "customer_segments": [
        {"id": 1, "name": "VIP", "description": "Top 1% by spend", "created_at": JAN},
        {
            "id": 2,
            "name": "Lapsed — 90 days",
            "description": 'Haven\'t ordered since autumn, "win-back" target',
            "last_notification_sent_at": JAN,
        },
        {"id": 3, "name": "Zürich, Genève & Basel", "description": None},
    ],
    "notification_campaigns": [
        {
            "id": 1,
            "name": "Spring sale",
            "segment_id": 1,
            "status": "scheduled",
            "campaign_type": "promotional",
            "scheduled_at": JAN + dt.timedelta(days=60),
        },
        {"id": 2, "name": "Welcome series", "segment_id": 2, "status": "draft"},
        {"id": 3, "name": "O'Brien's 10% off", "segment_id": 3, "status": "sent"},
    ],
    "offers": [
        {
            "id": 1,
            "title": "10% off, this week only",
            "description": "Applies to 'everything' — almost",
            "discount_percent": Decimal("10.00"),
            "starts_at": JAN,
            "ends_at": JAN + dt.timedelta(days=7),
            "min_loyalty_tier": "gold",
            "loyalty_points_cost": 250,
        },
        {"id": 2, "title": "Free coffee ☕", "discount_percent": None},
    ],
    "wallet_passes": [
        {"id": 1, "offer_id": 1, "serial_number": "PASS-0001"},
        {"id": 2, "offer_id": 2, "serial_number": "PASS-0002", "last_notified_at": JAN},
    ],
    "wallet_notifications": [
        {"id": 1, "wallet_pass_id": 1, "message": "Your pass is ready"},
        {
            "id": 2,
            "wallet_pass_id": 2,
            "message": "¡Tu café te espera!",
            "delivery_status": "delivered",
            "delivered_at": JAN,
        },
    ],
    "business_sessions": [
        {
            "id": 1,
            "business_id": 42,
            "session_token": "tok_live_abc",
            "status": "active",
            "expires_at": JAN + dt.timedelta(days=1),
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        },
        {
            "id": 2,
            "business_id": 42,
            "session_token": "tok_live_def",
            "status": "revoked",
            "expires_at": JAN,
        },
    ],
}
