"""House conventions for evolving a PostgreSQL schema with Alembic.

Importing this package registers the house operations on Alembic's ``op``, and the
autogenerate comparators and renderers that write them (:mod:`conventions.autogen`).
"""

from conventions import autogen as _autogen  # noqa: F401  (autogenerate sees choices)
from conventions import ops as _ops  # noqa: F401  (registers op.add_choice_column & co.)
from conventions.choice import Choice
from conventions.naming import NAMING_CONVENTION

__all__ = ["NAMING_CONVENTION", "Choice"]
