"""House conventions for evolving a PostgreSQL schema with Alembic.

Importing this package registers the house operations on Alembic's ``op``.
"""

from conventions import ops as _ops  # noqa: F401  (registers op.add_choice_column & co.)
from conventions.choice import Choice
from conventions.naming import NAMING_CONVENTION

__all__ = ["NAMING_CONVENTION", "Choice"]
