"""House conventions for evolving a PostgreSQL schema with Alembic.

Importing this package registers the house operations on Alembic's ``op``.
"""

from conventions.naming import NAMING_CONVENTION

__all__ = ["NAMING_CONVENTION"]
