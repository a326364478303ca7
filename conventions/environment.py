"""What ``alembic/env.py`` delegates to, so env.py stays three lines.

Online upgrade/downgrade/stamp runs go to ``conventions.runner``: one revision per
transaction, one at a time, under the migrator lock, with lock timeouts, retries,
checksum validation and history (see its docstring for the order of work). Only the
commands known to read (current, check, autogenerate, …; see ``READ_ONLY``) run
plainly; any other command — a newer Alembic's, a plugin's — goes through the runner
too, locked before it plans: it fails closed. Offline runs (``--sql``) emit
the same DDL as text. run() installs the archive-on-downgrade implementations of
drop_column/drop_table (``conventions.archive``) and the safety check on plain
operations (``conventions.runtime.safety``) when it runs a command, not at import:
``status`` loads env.py to read what it hands over (capture mode) and must not load
what changes the database.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic.runtime.environment import EnvironmentContext
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from conventions import logs
from conventions.autogen import chain, refuse_enums
from conventions.autogen import imports as autogen_imports
from conventions.diagnose import connection_error
from conventions.drift import compare_options
from conventions.errors import UnsupportedCommand
from conventions.limits import Limits
from conventions.naming import revision_stem
from conventions.project_env import CAPTURE
from conventions.tracebacks import traceback_requested

if TYPE_CHECKING:
    from conventions.runner import StepFn

__all__ = ["run", "traceback_requested"]

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


# What run() itself decides: a project's env.py passing these would silently lose
# the runtime's guarantees (one transaction per revision, the runner's connection).
_HOUSE_OWNED = frozenset(
    {"connection", "url", "target_metadata", "transaction_per_migration", "fn", "as_sql"}
)

# config.attributes[CAPTURE], a dict, makes run() record what env.py hands over
# (metadata, configure options, URL) and return without running anything. ``status``
# reads the project's own include_object and URL this way (conventions.project_env).


def run(
    context: Any,
    target_metadata: Any,
    *,
    url: str | URL | None = None,
    **configure_kwargs: Any,
) -> None:
    """Run the Alembic command that invoked env.py, the house way.

    ``context`` is what env.py imports (``alembic.context``, a module proxying the
    active EnvironmentContext) or an EnvironmentContext itself. ``target_metadata`` is
    a MetaData (or a list), a declarative base, a registry or a Flask-SQLAlchemy ``db``.
    ``url`` is the project's own database URL (e.g. from its app config), used when
    ``DATABASE_URL`` is unset. Any other keyword is Alembic's ``configure()``
    option (include_object, process_revision_directives, render_as_batch,
    user_module_prefix, compare_server_default, ...): the house options are composed
    with them, so the project's hooks run too.
    """
    logs.install()
    _let_flask_migrate_speak()
    context = _environment(context)
    owned = sorted(_HOUSE_OWNED & set(configure_kwargs))
    if owned:
        raise UnsupportedCommand(
            f"run() sets {', '.join(owned)} itself; env.py cannot pass "
            f"{'it' if len(owned) == 1 else 'them'}.",
            function="run",
            hints=["Hand the database over as run(context, metadata, url=...)."],
        )
    metadata = _metadata(target_metadata)
    options = _common_options(context, metadata, configure_kwargs)
    capture = context.config.attributes.get(CAPTURE)
    if isinstance(capture, dict):
        capture.update(metadata=metadata, options=options, url=url)
        return
    # The runtime is imported only to run: ``status`` loads env.py (capture, above) and
    # must not load what changes the database. Importing archive installs the
    # archive-on-downgrade drop_column/drop_table, then the safety check around them.
    from conventions import archive  # noqa: F401
    from conventions.runtime import safety  # noqa: F401

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
        from conventions.script_errors import broken_script
        from conventions.settings import project_root

        broken = broken_script(err, roots=[Path(context.script.dir), project_root()])
        if broken is None:
            raise
        raise broken from err


def _let_flask_migrate_speak() -> None:
    """Re-enable Flask-Migrate's logger, through which ``flask db`` reports our errors.

    Flask-Migrate prints a CommandError as ``log.error(...)`` on its ``flask_migrate``
    logger; the ``fileConfig(...)`` at the top of its env.py disables every logger that
    existed before it, so the message (an Enum refused, a lock timeout) was lost and
    ``flask db migrate`` exited 1 in silence.
    """
    import logging

    logger = logging.getLogger("flask_migrate")
    logger.disabled = False
    if not logger.handlers and not logging.getLogger().handlers:
        logger.addHandler(logging.StreamHandler())


def _metadata(target: Any) -> Any:
    from conventions.errors import MetadataNotFound
    from conventions.project_metadata import locate

    if target is None:
        return None
    found = locate(target)
    if found is None:
        raise MetadataNotFound(
            f"run() was given {type(target).__name__}, not a MetaData, a declarative base, "
            "a registry or a Flask-SQLAlchemy db object.",
            target=type(target).__name__,
            hints=["Pass Base.metadata, Base, db or a MetaData as run()'s second argument."],
        )
    return found


def _environment(context: Any) -> EnvironmentContext:
    if isinstance(context, EnvironmentContext):
        return context
    # The module proxy only forwards methods; the instance is where the command's
    # planning function (context_opts["fn"]) lives, which the step runner wraps.
    return context._proxy


def _common_options(
    context: EnvironmentContext, metadata: Any, theirs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Compose the house configure() options with the project's own (``theirs``).

    Theirs win on plain values (compare_server_default, render_as_batch, ...); hooks are
    chained so both run: include_name must accept a name on both sides, and their
    process_revision_directives runs first, then the Enum refusal and file naming see
    its result.
    """
    theirs = dict(theirs or {})
    house = compare_options()
    their_include_name = theirs.pop("include_name", None)
    if their_include_name is not None:
        house["include_name"] = _both(house["include_name"], their_include_name)
    their_directives = theirs.pop("process_revision_directives", None)
    hooks = [refuse_enums, _note_autogenerate(context)]
    if _house_names(context):
        hooks.append(_house_file_name(context))
    if their_directives is not None:
        hooks.insert(0, their_directives)
    return {
        **house,
        **theirs,
        "target_metadata": metadata,
        "transaction_per_migration": True,
        # Refuse a revision that would write an Enum (conventions.autogen), then name it.
        "process_revision_directives": chain(*hooks),
    }


def _both(first: Callable[..., bool], second: Callable[..., bool]) -> Callable[..., bool]:
    def include(*args: Any) -> bool:
        return bool(first(*args)) and bool(second(*args))

    return include


def _house_names(context: EnvironmentContext) -> bool:
    """Whether new files get the house ``YYYYMMDD-description`` name (no template of theirs)."""
    from conventions.project_layout import ALEMBIC_DEFAULT_FILE_TEMPLATE

    template = context.config.get_alembic_option("file_template")
    return not template or template == ALEMBIC_DEFAULT_FILE_TEMPLATE


def _note_autogenerate(context: EnvironmentContext) -> Callable[..., None]:
    """Tell the post-write import hook whether this revision was autogenerated.

    With ``revision_environment`` on, Alembic writes its "auto generated" marker into
    hand-written files too, so the marker alone cannot tell them apart; the command
    line can (``--autogenerate``), and the hook runs later in this same process.
    """

    def process(_ctx: Any, _revision: Any, _directives: list[Any]) -> None:
        cmd_opts = getattr(context.config, "cmd_opts", None)
        autogen_imports.AUTOGENERATE_RUN = bool(getattr(cmd_opts, "autogenerate", False))

    return process


def _house_file_name(context: EnvironmentContext) -> Callable[..., None]:
    """Name new revision files ``YYYYMMDD-description.py`` like the seed did."""
    script = context.script

    def process(_ctx: Any, _revision: Any, directives: list[Any]) -> None:
        if not directives:
            return
        directive = directives[0]
        versions = script.versions
        version_path = Path(getattr(directive, "version_path", None) or versions)
        stem = revision_stem(directive.message or "", version_path)
        # Alembic formats file_template with %; a literal name needs no placeholders.
        script.file_template = stem.replace("%", "%%")

    return process


def _run_offline(context: EnvironmentContext, options: dict[str, Any]) -> None:
    url = context.config.attributes.get("url") or _offline_url(context)
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **options)
    # Offline SQL cannot count rows, so a downgrade script says what it drops instead.
    from conventions import archive

    downgrade = _direction(context) == "downgrade"
    marker = archive.downgrade_of("offline") if downgrade else nullcontext()
    with marker, context.begin_transaction():
        context.run_migrations()


def _offline_url(context: EnvironmentContext) -> str:
    """Offline SQL needs only the dialect, so never start a server to produce it."""
    from conventions.settings import configured_url, project_root, project_url

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
    from conventions.settings import project_root, project_url

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
        engine = create_engine(given.engine.url, poolclass=NullPool, **_naming(given, direction))
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
    naming = _naming(url, direction) if postgres else {}
    engine = create_engine(url, poolclass=NullPool, **naming)
    try:
        connection = engine.connect()
    except OperationalError as err:
        raise connection_error(err, engine.url) from None
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

    from conventions.settings import mask

    sys.stderr.write(
        f"notice: {mask(connection.engine.url)} is not PostgreSQL: plain Alembic semantics "
        "(no migrator lock, lock timeouts, retries or history); house ops refuse here.\n"
    )
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


def _naming(source: Any, direction: str) -> dict[str, Any]:
    """Set application_name (unless the URL does) so pg_stat_activity says who we are."""
    if isinstance(source, Connection):
        url = source.engine.url
    else:
        url = source if isinstance(source, URL) else make_url(source)
    if "application_name" in url.query or not direction or direction in READ_ONLY:
        return {}
    from conventions.runner import application_name

    return {"connect_args": {"application_name": application_name(direction)}}


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
        guarded = {"fn": _only_reading(plan_fn, direction)} if plan_fn is not None else {}
        context.configure(connection=connection, **options, **guarded)
        with context.begin_transaction():
            context.run_migrations()
        return
    from conventions.runner import StepRunner

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
