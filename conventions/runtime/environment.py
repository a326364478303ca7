"""Run the Alembic command that invoked env.py: online through the step runner, or offline.

Online upgrade/downgrade/stamp runs go to ``conventions.runtime.step_runner``: one revision per
transaction, one at a time, under the migrator lock, with lock timeouts, retries,
checksum validation and history (see its docstring for the order of work). Only the
commands known to read (current, check, autogenerate, …; see ``READ_ONLY``) run
plainly; any other command — a newer Alembic's, a plugin's — goes through the runner
too, locked before it plans: it fails closed. Offline runs (``--sql``) emit
the same DDL as text. Importing this module installs the archive-on-downgrade
implementations of drop_column/drop_table (``conventions.runtime.archive``) and the
safety check on plain operations (``conventions.runtime.safety``); :mod:`conventions.env`
imports it only when a command runs, never in ``status``'s capture mode.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic.runtime.environment import EnvironmentContext
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import NoReferenceError

from conventions.db.connect import open_connection, open_engine
from conventions.errors import UnsupportedCommand
from conventions.runtime import (
    archive,
    safety,  # noqa: F401  (then the safety check around them)
)
from conventions.runtime.limits import Limits
from conventions.tracebacks import traceback_requested

if TYPE_CHECKING:
    from conventions.runtime.step_runner import StepFn

# Commands that change the database, and so run under the migrator lock.
_CHANGES = ("upgrade", "downgrade", "stamp")

# Planning functions (their __name__) that only read, so they run without the lock:
# alembic.command's current (display_version), check and revision with
# revision_environment or --autogenerate (retrieve_migrations), merge (nothing), show
# current (show_current), history --indicate-current (_display_current_history), edit
# current (edit_current); and pytest-alembic's runner.current (get_current). Anything
# else is assumed to change the schema. tests/test_runtime_planners.py pins this list to
# the installed Alembic, so a new command is classified on purpose, not by accident.
READ_ONLY = frozenset(
    {
        "display_version",
        "retrieve_migrations",
        "nothing",
        "show_current",
        "_display_current_history",
        "edit_current",
        "get_current",
    }
)


def run_command(
    context: EnvironmentContext, options: dict[str, Any], *, url: str | URL | None
) -> None:
    """Run the command with the composed ``options``; ``url`` is the one env.py handed run()."""
    if url is not None:
        context.config.attributes["conventions.handed_url"] = url
    try:
        if context.is_offline_mode():
            _run_offline(context, options)
        else:
            _run_online(context, options)
    except (SyntaxError, ImportError) as err:
        # Alembic loads every revision file while planning, i.e. in here.
        if traceback_requested():
            raise
        from conventions.db.settings import project_root
        from conventions.project.script_errors import broken_script

        broken = broken_script(err, roots=[Path(context.script.dir), project_root()])
        if broken is None:
            raise
        raise broken from err
    except NoReferenceError as err:
        # Autogenerate / alembic check compare their metadata: a ForeignKey to a table
        # that is not in it is theirs to fix, and says so (FAILED: … under alembic).
        if traceback_requested():
            raise
        from conventions.project.metadata import unresolved_foreign_keys

        raise unresolved_foreign_keys(err, options.get("target_metadata")) from err


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
    from conventions.db.settings import configured_url, project_root, project_url

    root = project_root()
    handed, ini = _handed(context), _ini_url(context)
    if configured_url(root) is None and handed is None and ini is None:
        return "postgresql+psycopg2://"
    return project_url(root, handed=handed, config_url=ini).render_as_string(hide_password=False)


def _handed(context: EnvironmentContext) -> str | URL | None:
    """The URL env.py handed run(), else the active Flask app's (``flask db upgrade``)."""
    return context.config.attributes.get("conventions.handed_url") or _flask_url()


def _flask_url() -> str | None:
    """``SQLALCHEMY_DATABASE_URI`` of the Flask app in context, if one is (never imports Flask).

    Under ``flask db …`` (or an app's own command calling flask_migrate) the app's config
    is the project's URL; an env.py need not copy it into ``sqlalchemy.url`` first.
    """
    import sys

    flask = sys.modules.get("flask")
    if flask is None or not flask.has_app_context():
        return None
    value = flask.current_app.config.get("SQLALCHEMY_DATABASE_URI")
    return value if isinstance(value, str) and value else None


def _ini_url(context: EnvironmentContext) -> str | None:
    """``sqlalchemy.url`` as the project set it (alembic.ini, or its env.py before run())."""
    value = context.config.get_main_option("sqlalchemy.url")
    if not value or value.startswith("driver://"):  # `alembic init`'s placeholder
        return None
    return value


def _set_url(context: EnvironmentContext, url: URL) -> None:
    """Put the URL in use into the config, for migrations that call engine_from_config."""
    rendered = url.render_as_string(hide_password=False)
    context.config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))


def _run_online(context: EnvironmentContext, options: dict[str, Any]) -> None:
    from conventions.db.settings import project_root, project_url

    direction = _direction(context)
    if direction not in READ_ONLY:
        Limits.from_env()  # a bad CONVENTIONS_* setting is refused before connecting
    given: Connection | None = context.config.attributes.get("connection")
    if given is not None:
        _set_url(context, given.engine.url)
        if given.dialect.name != "postgresql":
            _plain(context, given, options)
            return
        # The migrator lock needs a session of its own, never one from the caller's pool.
        engine = open_engine(given.engine.url, application=_application(direction))
        try:
            _migrate(context, given, engine, options)
        finally:
            engine.dispose()
        return
    explicit = context.config.attributes.get("url")
    if explicit is not None:
        url = make_url(explicit) if isinstance(explicit, str) else explicit
    else:
        url = project_url(project_root(), handed=_handed(context), config_url=_ini_url(context))
    _set_url(context, url)
    postgres = url.get_backend_name() == "postgresql"
    engine = open_engine(url, application=_application(direction) if postgres else None)
    connection = open_connection(engine)
    try:
        if postgres:
            _migrate(context, connection, engine, options)
        else:
            _plain(context, connection, options)
    finally:
        connection.close()
        engine.dispose()


def _plain(context: EnvironmentContext, connection: Connection, options: dict[str, Any]) -> None:
    """Run Alembic as it runs without us: the house runtime is PostgreSQL's."""
    import sys

    from conventions.db.settings import mask

    sys.stderr.write(
        f"notice: {mask(connection.engine.url)} is not PostgreSQL: plain Alembic semantics "
        "(no migrator lock, lock timeouts, retries or history); house ops refuse here.\n"
    )
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


def _application(direction: str) -> str | None:
    """Name a changing command's sessions so pg_stat_activity says who we are."""
    if not direction or direction in READ_ONLY:
        return None
    from conventions.runtime.step_runner import application_name

    return application_name(direction)


def _direction(context: EnvironmentContext) -> str:
    name = getattr(context.context_opts.get("fn"), "__name__", "")
    return {"do_stamp": "stamp"}.get(name, name)


def _migrate(
    context: EnvironmentContext, connection: Connection, engine: Engine, options: dict[str, Any]
) -> None:
    plan_fn: StepFn | None = context.context_opts.get("fn")
    direction = _direction(context)
    if plan_fn is None or direction in READ_ONLY:
        # current / check / autogenerate: read-only, nothing to step through
        guarded: dict[str, Any] = (
            {"fn": _only_reading(plan_fn, direction)} if plan_fn is not None else {}
        )
        context.configure(connection=connection, **options, **guarded)
        with context.begin_transaction():
            context.run_migrations()
        return
    from conventions.runtime.step_runner import StepRunner

    StepRunner(
        context,
        connection,
        engine,
        plan_fn=plan_fn,
        # None: an unknown command; the runner locks first and reads the direction
        # off the steps it plans.
        direction=direction if direction in _CHANGES else None,
        metadata=options.get("target_metadata"),
        options=options,
    ).run()


def _only_reading(plan_fn: StepFn, name: str) -> StepFn:
    """Refuse steps from a planner that is known by name only: the name could be reused."""

    def plan(heads: Any, ctx: Any) -> list[Any]:
        steps = list(plan_fn(heads, ctx))
        if steps:
            raise UnsupportedCommand(
                f"The command that ran env.py (planning function {name!r}) is one the house "
                f"runtime treats as read-only, yet it planned {len(steps)} migration step(s). "
                "Nothing was run: they would have bypassed the migrator lock, lock timeouts "
                "and history.",
                function=name,
                hints=[
                    "Apply migrations with alembic upgrade/downgrade/stamp or "
                    "python -m conventions migrate/rollback.",
                ],
            )
        return steps

    plan.__name__ = name
    return plan
