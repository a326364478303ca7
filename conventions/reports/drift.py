"""Drift between the models and the database: what ``alembic check`` finds, readably.

One place defines how models and database are compared, so ``alembic check``,
``alembic revision --autogenerate`` (via ``conventions.runtime.environment``) and
``python -m conventions status`` can never disagree. Read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.exc import NoReferenceError

from conventions.history.schema import BOOKKEEPING_SCHEMAS

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


# configure() options that decide what a comparison sees: a project's env.py passes
# them to run(), and status honours them as `alembic check` does.
COMPARE_KEYS = (
    "include_object",
    "include_name",
    "include_schemas",
    "compare_type",
    "compare_server_default",
    "version_table",
    "version_table_schema",
)


def differences(
    connection: Connection, metadata: MetaData, *, options: dict[str, Any] | None = None
) -> list[str]:
    """Return every difference between ``metadata`` and the database, one line each.

    ``options`` are the project's composed configure() options (from its env.py):
    its include_object and comparison switches apply here too.
    """
    load_comparators()
    opts = compare_options()
    opts.update({k: v for k, v in (options or {}).items() if k in COMPARE_KEYS})
    context = MigrationContext.configure(connection, opts=opts)
    try:
        compared = compare_metadata(context, metadata)
    except NoReferenceError as err:  # their ForeignKey to a table not in their metadata
        from conventions.project.metadata import unresolved_foreign_keys

        raise unresolved_foreign_keys(err, metadata) from err
    lines = [describe(diff) for diff in _flatten(compared)]
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


def sql_text(value: Any) -> str:
    """Render a server default (DefaultClause, TextClause, a literal) as its SQL text."""
    if value is None:
        return "none"
    arg = getattr(value, "arg", value)  # DefaultClause / FetchedValue wrap the expression
    text = getattr(arg, "text", None)  # TextClause
    if isinstance(text, str):
        return text
    if isinstance(arg, str):
        return repr(arg)
    try:
        from sqlalchemy.dialects import postgresql

        return str(
            arg.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
        )
    except Exception:
        return str(arg)


def object_name(obj: Any) -> str:
    """Name a constraint or index; an unnamed one by its columns (``fk (owner_id)``)."""
    name = getattr(obj, "name", None)
    if isinstance(name, str) and name:
        return name
    columns = [getattr(c, "name", str(c)) for c in getattr(obj, "columns", [])]
    elements = getattr(obj, "elements", None)
    if not columns and elements:  # a ForeignKeyConstraint's parent columns
        columns = [getattr(e.parent, "name", "?") for e in elements]
    where = f"({', '.join(columns)})" if columns else "(unnamed)"
    target = ""
    if elements:
        referred = {getattr(e, "target_fullname", "") for e in elements}
        target = f" → {', '.join(sorted(r for r in referred if r))}"
    return f"{where}{target}"


def describe(diff: tuple[Any, ...]) -> str:
    """Render one Alembic diff tuple as a sentence a person can act on."""
    from conventions.operations.choice import describe as describe_choice

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
    if kind == "modify_default":
        _, _schema, table, column, _info, old, new = diff
        return (
            f"column {table}.{column}: server default is {sql_text(old)} in the database, "
            f"{sql_text(new)} in the models"
        )
    if kind.startswith("modify_"):
        _, _schema, table, column, _info, old, new = diff
        what = kind.removeprefix("modify_").replace("_", " ")
        return f"column {table}.{column}: {what} is {old!r} in the database, {new!r} in the models"
    if kind.startswith(("add_", "remove_")):
        verb, noun = kind.split("_", 1)
        where = "models only" if verb == "add" else "database only"
        obj = diff[1]
        return f"{noun} {object_name(obj)} on {_table_of(obj)}: in the {where}"
    return " ".join(str(part) for part in diff)
