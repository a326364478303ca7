"""Read-only access to PostgreSQL: URLs and their secrets, connection facts, catalog reads.

Nothing here changes the database, so read-only commands (status, inspect, lint)
may import it freely.
"""
