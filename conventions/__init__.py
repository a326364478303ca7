"""House conventions for evolving a PostgreSQL schema with Alembic.

Importing this package is cheap on purpose: the models import ``Choice`` from it, and
read-only commands (status, inspect, lint) run inside it, so it never loads the code
that changes the database. It registers the house operation names on Alembic's
``op`` (migrations do ``import conventions``, then ``op.add_choice_column(...)``);
each loads :mod:`conventions.ops` on its first call (:mod:`conventions.lazy_ops`).
The autogenerate comparators and renderers (:mod:`conventions.autogen`) are loaded by
``conventions.env`` (env.py) and by ``status``'s drift check.
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

from conventions import lazy_ops as _op_names  # noqa: E402
from conventions.assured import safety_assured  # noqa: E402
from conventions.choice import Choice  # noqa: E402
from conventions.naming import NAMING_CONVENTION  # noqa: E402

_op_names.register()

__all__ = ["NAMING_CONVENTION", "Choice", "safety_assured"]
