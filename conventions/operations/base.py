"""Hand a house op to its implementation, loading the implementations first.

The op declarations (this package) are read-side: autogenerate's comparators build
them and ``status``'s drift check loads them, and neither may load the code that
changes the database. So the implementations (:mod:`conventions.ops`) are imported
here, on the first call of an op, not when a declaration module is imported:
whichever way the names reached Alembic's ``op`` (the placeholders of
:mod:`conventions.lazy_ops`, or these classes registered by ``conventions.autogen``
in env.py), a call always finds its implementation.
"""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation, Operations


def invoke(operations: Operations, op: MigrateOperation) -> Any:
    """Run ``op`` through Alembic's ``Operations.invoke`` once the implementations are loaded."""
    import conventions.ops  # noqa: F401  (registers every @implementation_for)

    return operations.invoke(op)
