"""What ``alembic/env.py`` delegates to, so env.py stays three lines.

Online upgrade/downgrade/stamp runs go to ``conventions.runner``: one revision per
transaction, one at a time, under the migrator lock, with lock timeouts, retries,
checksum validation and history (see its docstring for the order of work). Read-only
commands (current, check, autogenerate) run plainly. Offline runs (``--sql``) emit
the same DDL as text. Importing this module also installs the archive-on-downgrade
implementations of drop_column/drop_table (``conventions.archive``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from alembic.runtime.environment import EnvironmentContext
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from conventions import archive, logs
from conventions.autogen import chain, refuse_enums
from conventions.diagnose import connection_error
from conventions.drift import compare_options
from conventions.naming import revision_stem
from conventions.runner import StepFn, StepRunner, application_name
from conventions.settings import database_url
from conventions.tracebacks import traceback_requested

__all__ = ["run", "traceback_requested"]

# Commands that change the database, and so run under the migrator lock.
_CHANGES = ("upgrade", "downgrade", "stamp")


def run(context: Any, target_metadata: MetaData) -> None:
    """Run the Alembic command that invoked env.py, the house way.

    ``context`` is what env.py imports (``alembic.context``, a module proxying the
    active EnvironmentContext) or an EnvironmentContext itself.
    """
    logs.install()
    context = _environment(context)
    options = _common_options(context, target_metadata)
    if context.is_offline_mode():
        _run_offline(context, options)
    else:
        _run_online(context, options)


def _environment(context: Any) -> EnvironmentContext:
    if isinstance(context, EnvironmentContext):
        return context
    # The module proxy only forwards methods; the instance is where the command's
    # planning function (context_opts["fn"]) lives, which the step runner wraps.
    return context._proxy


def _common_options(context: EnvironmentContext, metadata: MetaData) -> dict[str, Any]:
    return {
        "target_metadata": metadata,
        **compare_options(),
        "transaction_per_migration": True,
        # Refuse a revision that would write an Enum (conventions.autogen), then name it.
        "process_revision_directives": chain(refuse_enums, _house_file_name(context)),
    }


def _house_file_name(context: EnvironmentContext) -> Callable[..., None]:
    """Name new revision files ``YYYYMMDD-description.py`` like the seed did."""
    script = context.script

    def process(_ctx: Any, _revision: Any, directives: list[Any]) -> None:
        if not directives:
            return
        directive = directives[0]
        versions = script.versions if hasattr(script, "versions") else script.dir
        from pathlib import Path

        version_path = Path(getattr(directive, "version_path", None) or versions)
        stem = revision_stem(directive.message or "", version_path)
        # Alembic formats file_template with %; a literal name needs no placeholders.
        script.file_template = stem.replace("%", "%%")

    return process


def _run_offline(context: EnvironmentContext, options: dict[str, Any]) -> None:
    url = context.config.attributes.get("url") or _offline_url(context)
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **options)
    # Offline SQL cannot count rows, so a downgrade script says what it drops instead.
    downgrade = _direction(context) == "downgrade"
    marker = archive.downgrade_of("offline") if downgrade else nullcontext()
    with marker, context.begin_transaction():
        context.run_migrations()


def _offline_url(context: EnvironmentContext) -> str:
    """Offline SQL needs only the dialect, so never start a server to produce it."""
    from conventions.settings import configured_url, parse_url, project_root

    raw = configured_url(project_root())
    return str(parse_url(raw)) if raw else "postgresql+psycopg2://"


def _run_online(context: EnvironmentContext, options: dict[str, Any]) -> None:
    direction = _direction(context)
    given: Connection | None = context.config.attributes.get("connection")
    if given is not None:
        # The migrator lock needs a session of its own, never one from the caller's pool.
        engine = create_engine(given.engine.url, poolclass=NullPool, **_naming(given, direction))
        try:
            _migrate(context, given, engine, options)
        finally:
            engine.dispose()
        return
    url = context.config.attributes.get("url") or database_url()
    engine = create_engine(url, poolclass=NullPool, **_naming(url, direction))
    try:
        connection = engine.connect()
    except OperationalError as err:
        raise connection_error(err, engine.url) from None
    try:
        _migrate(context, connection, engine, options)
    finally:
        connection.close()
        engine.dispose()


def _naming(source: Any, direction: str) -> dict[str, Any]:
    """Set application_name (unless the URL does) so pg_stat_activity says who we are."""
    if isinstance(source, Connection):
        url = source.engine.url
    else:
        url = source if isinstance(source, URL) else make_url(source)
    if "application_name" in url.query or direction not in _CHANGES:
        return {}
    return {"connect_args": {"application_name": application_name(direction)}}


def _direction(context: EnvironmentContext) -> str:
    name = getattr(context.context_opts.get("fn"), "__name__", "")
    return {"do_stamp": "stamp"}.get(name, name)


def _migrate(
    context: EnvironmentContext, connection: Connection, engine: Engine, options: dict[str, Any]
) -> None:
    plan_fn: StepFn | None = context.context_opts.get("fn")
    direction = _direction(context)
    if plan_fn is None or direction not in _CHANGES:
        # current / check / autogenerate: read-only, nothing to step through
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    StepRunner(
        context,
        connection,
        engine,
        plan_fn=plan_fn,
        direction=direction,
        metadata=options.get("target_metadata"),
        options=options,
    ).run()
