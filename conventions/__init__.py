"""House conventions for evolving a PostgreSQL schema with Alembic.

Importing this package registers the house operations on Alembic's ``op``, and the
autogenerate comparators and renderers that write them (:mod:`conventions.autogen`).
"""

import warnings

from sqlalchemy.exc import SAWarning

# SQLAlchemy 2.1 reflects a NOT VALID CHECK with a ``dialect_options`` key that its own
# CheckConstraint constructor then warns about. Our ops leave CHECKs NOT VALID between
# their two phases and status reports them, so every autogenerate/drift comparison over
# such a table would print this noise. The constraint itself is reflected correctly.
warnings.filterwarnings(
    "ignore", message="Can't validate argument 'dialect_options'", category=SAWarning
)

from conventions import autogen as _autogen  # noqa: E402, F401  (autogenerate sees choices)
from conventions import ops as _ops  # noqa: E402, F401  (registers op.add_choice_column & co.)
from conventions.choice import Choice  # noqa: E402
from conventions.naming import NAMING_CONVENTION  # noqa: E402

__all__ = ["NAMING_CONVENTION", "Choice"]
