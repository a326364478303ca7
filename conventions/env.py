"""What ``alembic/env.py`` imports: ``from conventions.env import run``.

env.py stays three lines: it hands its ``context`` and metadata to :func:`run`. This
module composes the house ``configure()`` options with the project's own and, when
``status`` loads env.py only to read what it hands over (capture mode), records them
and returns; it is on the read-only side, so ``status`` loading env.py loads nothing
that changes the database. Running a command is :mod:`conventions.runtime.environment`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic.runtime.environment import EnvironmentContext
from sqlalchemy.engine import URL

from conventions import logs
from conventions.autogen import chain, refuse_enums
from conventions.autogen import imports as autogen_imports
from conventions.errors import UnsupportedCommand
from conventions.naming import revision_stem
from conventions.project.env_capture import CAPTURE
from conventions.reports.drift import compare_options
from conventions.tracebacks import traceback_requested

__all__ = ["run", "traceback_requested"]

# What run() itself decides: a project's env.py passing these would silently lose
# the runtime's guarantees (one transaction per revision, the runner's connection).
_HOUSE_OWNED = frozenset(
    {"connection", "url", "target_metadata", "transaction_per_migration", "fn", "as_sql"}
)

# config.attributes[CAPTURE], a dict, makes run() record what env.py hands over
# (metadata, configure options, URL) and return without running anything. ``status``
# reads the project's own include_object and URL this way (conventions.project.env_capture).


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
    # must not load what changes the database.
    from conventions.runtime.environment import run_command

    run_command(context, options, url=url)


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
    from conventions.project.metadata import locate

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
    from conventions.project.layout import ALEMBIC_DEFAULT_FILE_TEMPLATE

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
