"""Drift between the models and the database: what ``alembic check`` finds, readably.

One place defines how models and database are compared, so ``alembic check``,
``alembic revision --autogenerate`` (via ``conventions.environment``) and
``python -m conventions status`` can never disagree. Read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from conventions.history import BOOKKEEPING_SCHEMAS

# Extra comparisons beyond Alembic's: each takes (connection, metadata) and returns
# human-readable differences. Issue 6 plugs the choice-value comparison in here (and
# registers its Alembic comparator in load_comparators), so status reports it too.
Comparator = Callable[[Connection, MetaData], list[str]]
EXTRA_COMPARATORS: list[Comparator] = []


def load_comparators() -> None:
    """Import the modules that register extra Alembic autogenerate comparators.

    Registration happens at import time (``comparators.dispatch_for``); importing
    them here makes ``status`` see the same differences as ``alembic check``.
    """
    import conventions.autogen  # noqa: F401  (choice values and lengths)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Leave the runtime's own schemas (history, archives) out of every comparison."""
    if type_ == "schema":
        return name not in BOOKKEEPING_SCHEMAS
    return parent_names.get("schema_name") not in BOOKKEEPING_SCHEMAS


def compare_options() -> dict[str, Any]:
    """Options for ``context.configure`` and for a bare MigrationContext alike."""
    return {"compare_type": True, "compare_server_default": True, "include_name": include_name}


def differences(connection: Connection, metadata: MetaData) -> list[str]:
    """Return every difference between ``metadata`` and the database, one line each."""
    load_comparators()
    context = MigrationContext.configure(connection, opts=compare_options())
    lines = [describe(diff) for diff in _flatten(compare_metadata(context, metadata))]
    for comparator in EXTRA_COMPARATORS:
        lines.extend(comparator(connection, metadata))
    return lines


def _flatten(diffs: list[Any]) -> list[tuple[Any, ...]]:
    flat: list[tuple[Any, ...]] = []
    for diff in diffs:
        if isinstance(diff, list):
            flat.extend(diff)
        else:
            flat.append(diff)
    return flat


def _table_of(obj: Any) -> str:
    table = getattr(obj, "table", None)
    return getattr(table, "name", "?")


def describe(diff: tuple[Any, ...]) -> str:
    """Render one Alembic diff tuple as a sentence a person can act on."""
    from conventions.autogen.changes import describe as describe_choice

    choice_text = describe_choice(diff)
    if choice_text is not None:
        return choice_text
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        where = "models only" if kind == "add_table" else "database only"
        return f"table {diff[1].name}: in the {where}"
    if kind in ("add_column", "remove_column"):
        where = "models only" if kind == "add_column" else "database only"
        return f"column {diff[2]}.{diff[3].name}: in the {where}"
    if kind.startswith("modify_"):
        _, _schema, table, column, _info, old, new = diff
        what = kind.removeprefix("modify_").replace("_", " ")
        return f"column {table}.{column}: {what} is {old!r} in the database, {new!r} in the models"
    if kind.startswith(("add_", "remove_")):
        verb, noun = kind.split("_", 1)
        where = "models only" if verb == "add" else "database only"
        obj = diff[1]
        return f"{noun} {getattr(obj, 'name', obj)} on {_table_of(obj)}: in the {where}"
    return " ".join(str(part) for part in diff)
