"""Read-only access to PostgreSQL: URLs and their secrets, connection facts, sizes,
type compatibility, volatility.

Nothing here changes the database, so read-only commands (status, inspect, lint), the
safety check and ``plan`` may import it freely (issue 12's layout).
"""
