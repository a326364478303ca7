"""What the house operations *are*: Alembic ``MigrateOperation`` subclasses, read-side.

As in Alembic's ``alembic/operations/ops.py``: each class holds its validated
arguments, builds itself in the classmethod that Alembic exposes as ``op.<name>``
(registered here with ``Operations.register_operation``), and carries its
conversions — ``reverse()`` for generated downgrades, ``to_diff_tuple()`` for
``alembic check`` and ``status``'s drift, ``from_…`` constructors for autogenerate.
No SQL and no catalog access: how each op runs is in :mod:`conventions.ops` (the
write side, loaded on an op's first call by :func:`conventions.operations.base.invoke`),
and how autogenerate writes it is in :mod:`conventions.autogen.render`.
"""

from conventions.operations.backfill import BackfillOp
from conventions.operations.choice import (
    AddChoiceColumnOp,
    AlterChoicesOp,
    DropChoiceCheckOp,
    DropChoiceColumnOp,
)
from conventions.operations.column import EnsureColumnOp
from conventions.operations.column_type import ChangeColumnTypeOp
from conventions.operations.comment import AddCommentOp
from conventions.operations.constraint import AddCheckConstraintOp, AddForeignKeyOp
from conventions.operations.index import AddIndexOp
from conventions.operations.not_null import DropNotNullOp, SetNotNullOp
from conventions.operations.table import CreateOrSyncTableOp
from conventions.operations.unique import AddPrimaryKeyOp, AddUniqueConstraintOp

__all__ = [
    "AddCheckConstraintOp",
    "AddChoiceColumnOp",
    "AddCommentOp",
    "AddForeignKeyOp",
    "AddIndexOp",
    "AddPrimaryKeyOp",
    "AddUniqueConstraintOp",
    "AlterChoicesOp",
    "BackfillOp",
    "ChangeColumnTypeOp",
    "CreateOrSyncTableOp",
    "DropChoiceCheckOp",
    "DropChoiceColumnOp",
    "DropNotNullOp",
    "EnsureColumnOp",
    "SetNotNullOp",
]
