"""Read-only questions about a live database (sizes, type compatibility, volatility).

Nothing here changes the database, so the safety check, ``plan`` and ``status`` can
all ask these questions (issue 12's layout: database access lives in ``conventions.db``).
"""
