"""Put the house op names on Alembic's ``op`` cheaply; load the operations on first call.

Migrations say ``import conventions`` and then ``op.add_choice_column(...)``, so
importing the package must make those names exist. Importing the operations
themselves there would load the code that changes the database into every process
that imports the package — the models (``from conventions import Choice``),
``status``, ``inspect``, ``lint`` — and read-only commands must never load it. So
the package registers one placeholder per name through Alembic's public
``Operations.register_operation``; the first call imports :mod:`conventions.ops`
(the implementations), which imports the declarations (:mod:`conventions.operations`),
whose registrations replace every placeholder, and runs the real operation. When
something else registered the declarations first (env.py's ``conventions.autogen``),
there are no placeholders left: each declaration loads the implementations on its
own first call (:func:`conventions.operations.base.invoke`).
"""

from __future__ import annotations

from typing import Any

from alembic.operations import Operations

from conventions.errors import ConventionsError

# Every name conventions.operations registers (tests/test_package_imports.py keeps them equal).
HOUSE_OPS: tuple[str, ...] = (
    "add_check_constraint",
    "add_choice_column",
    "add_comment",
    "add_foreign_key",
    "add_index",
    "add_primary_key",
    "add_unique_constraint",
    "alter_choices",
    "backfill",
    "change_column_type",
    "create_or_sync_table",
    "drop_choice_column",
    "drop_not_null",
    "ensure_column",
    "set_not_null",
)

_PLACEHOLDER = "_conventions_placeholder"


def register() -> None:
    """Register a loading placeholder for each house op Alembic does not know yet."""
    for name in HOUSE_OPS:
        if name not in vars(Operations):
            Operations.register_operation(name)(_placeholder(name))
            setattr(vars(Operations)[name], _PLACEHOLDER, True)


def is_placeholder(name: str) -> bool:
    """Say whether ``op.<name>`` still waits for :mod:`conventions.ops` to load."""
    return getattr(vars(Operations).get(name), _PLACEHOLDER, False)


def _placeholder(name: str) -> type:
    def load_and_call(cls: type, operations: Operations, *args: Any, **kw: Any) -> Any:
        import conventions.ops  # noqa: F401  (its registrations replace the placeholders)

        if is_placeholder(name):  # would call itself forever
            raise ConventionsError(
                f"op.{name} is listed in conventions.lazy_ops but conventions.ops does not "
                "register it.",
                hints=["Register the operation in conventions/ops or drop the name."],
            )
        return getattr(operations, name)(*args, **kw)

    load_and_call.__name__ = name
    load_and_call.__doc__ = f"House operation ``op.{name}`` (loads conventions.ops on first call)."
    return type(f"Deferred_{name}", (), {name: classmethod(load_and_call)})
