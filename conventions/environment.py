"""What ``alembic/env.py`` delegates to, so env.py stays three lines.

Online runs apply one revision per transaction, one at a time, under our control:
that is what lets the runtime log progress, record history, and retry a single
migration that hit a lock timeout without replaying the others. Offline runs
(``--sql``) emit the same DDL as text.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from alembic.runtime.environment import EnvironmentContext
from alembic.util import CommandError
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from conventions import logs
from conventions.diagnose import connection_error, statement_error
from conventions.errors import ConventionsError, MigrationFailed
from conventions.naming import revision_stem
from conventions.progress import Progress, step_name
from conventions.settings import database_url

StepFn = Callable[[Any, Any], Iterable[Any]]


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
        "compare_type": True,
        "compare_server_default": True,
        "transaction_per_migration": True,
        "process_revision_directives": _house_file_name(context),
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
    with context.begin_transaction():
        context.run_migrations()


def _offline_url(context: EnvironmentContext) -> str:
    """Offline SQL needs only the dialect, so never start a server to produce it."""
    from conventions.settings import configured_url, parse_url, project_root

    raw = configured_url(project_root())
    return str(parse_url(raw)) if raw else "postgresql+psycopg2://"


def _run_online(context: EnvironmentContext, options: dict[str, Any]) -> None:
    given: Connection | None = context.config.attributes.get("connection")
    if given is not None:
        _migrate(context, given, options)
        return
    url = context.config.attributes.get("url") or database_url()
    engine = create_engine(url, poolclass=NullPool)
    try:
        connection = engine.connect()
    except OperationalError as err:
        raise connection_error(err, engine.url) from None
    try:
        _migrate(context, connection, options)
    finally:
        connection.close()
        engine.dispose()


class _OneStepAtATime:
    """Alembic's planned steps, handed out one per ``run_migrations()`` call.

    The plan is computed once from the heads at the start (so ``downgrade -1`` means
    one step, not one step per call); each call then applies exactly one step in its
    own transaction, which is where the runner logs, records and retries.
    """

    def __init__(self, plan_fn: StepFn, progress: Progress, direction: str) -> None:
        self.plan_fn = plan_fn
        self.progress = progress
        self.direction = direction
        self.steps: list[Any] | None = None
        self.index = 0

    def __call__(self, heads: Any, ctx: Any) -> list[Any]:
        if self.steps is None:
            self.steps = list(self.plan_fn(heads, ctx))
            self.progress.plan(len(self.steps), self.direction)
        if self.index >= len(self.steps):
            return []
        self.progress.begin_step()
        return [self.steps[self.index]]

    @property
    def current(self) -> Any:
        assert self.steps is not None
        return self.steps[self.index]


def _direction(context: EnvironmentContext) -> str:
    name = getattr(context.context_opts.get("fn"), "__name__", "")
    return {"do_stamp": "stamp"}.get(name, name)


def _migrate(context: EnvironmentContext, connection: Connection, options: dict[str, Any]) -> None:
    plan_fn: StepFn | None = context.context_opts.get("fn")
    direction = _direction(context)
    if plan_fn is None or direction not in ("upgrade", "downgrade", "stamp"):
        # current / check / autogenerate: read-only, nothing to step through
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    progress = Progress()
    feeder = _OneStepAtATime(plan_fn, progress, direction)

    def applied(ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        progress.end_step(feeder.current, is_upgrade=step.is_upgrade)

    context.configure(connection=connection, fn=feeder, on_version_apply=applied, **options)
    while True:
        try:
            with context.begin_transaction():
                context.run_migrations()
        except CommandError:
            _roll_back(connection)
            raise
        except Exception as err:
            _roll_back(connection)
            if not feeder.steps:
                raise
            raise _explain(err, feeder.current) from err
        if not feeder.steps:
            break
        feeder.index += 1
        if feeder.index >= len(feeder.steps):
            break
    if connection.in_transaction():
        connection.commit()
    if direction != "stamp":
        progress.finish(f"Database is up to date ({_heads_text(context)}); nothing to apply.")


def _heads_text(context: EnvironmentContext) -> str:
    heads = context.get_context().get_current_heads()
    return "at " + ", ".join(heads) if heads else "empty"


def _roll_back(connection: Connection) -> None:
    try:
        if connection.in_transaction():
            connection.rollback()
    except Exception:  # the connection may be dead; the server rolled back already
        pass


def _explain(err: Exception, step: Any) -> ConventionsError:
    name = step_name(step)
    if isinstance(err, ConventionsError):
        err.args = (f"Migration {name} failed and was rolled back: {err.args[0]}",)
        return err
    explained = statement_error(err) if isinstance(err, DBAPIError) else None
    if explained is not None:
        explained.args = (f"Migration {name} failed and was rolled back: {explained.args[0]}",)
        return explained
    detail = str(getattr(err, "orig", None) or err).strip().splitlines()
    first = detail[0] if detail else type(err).__name__
    return MigrationFailed(
        f"Migration {name} failed and was rolled back: {type(err).__name__}: {first}",
        revision=name,
        hints=[
            "Nothing of this migration was applied; fix the file and run it again.",
            "For the full traceback: alembic --raiseerr upgrade head "
            "(or CONVENTIONS_TRACEBACK=1 make migrate).",
        ],
    )


def traceback_requested() -> bool:
    return os.environ.get("CONVENTIONS_TRACEBACK", "") not in ("", "0")
