"""The migration history: the bookkeeping schema, reading it, checksums."""
