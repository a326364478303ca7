"""The safe runtime behind every upgrade, downgrade and stamp run online.

Order of work, and why:

1. Plan from the current heads and validate checksums *without* the lock: on an
   up-to-date database that is the whole run (a handful of cheap queries), so a
   no-op ``make migrate`` stays as fast as plain Alembic.
2. Otherwise take the migrator lock (its own connection), then plan and validate
   again: another migrator may have done the work while we waited.
3. Apply one step per transaction with ``lock_timeout``/``statement_timeout`` set;
   a step that could not get its lock is rolled back and retried with back-off.
4. Record every step in the history: success inside the step's transaction,
   failure after the rollback.

A command the runtime does not know (``direction=None``) skips step 1: its planning
function might change something while it plans, so it only ever runs under the lock,
and its direction is read off the steps it planned.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from typing import Any

from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, RevisionStep, StampStep
from alembic.script import revision as revision_graph
from alembic.util import CommandError
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from conventions import assured, logs
from conventions.db.pooler import pool_mode
from conventions.db.redact import mask_url as mask
from conventions.db.server import read_only_reason
from conventions.errors import (
    BaselineNeeded,
    DatabaseReadOnly,
    EditedMigration,
    MigrationInterrupted,
    MultipleHeads,
    TransactionPooler,
    UnsupportedCommand,
)
from conventions.history import records
from conventions.reports.status import untracked_tables
from conventions.runtime import archive, commits, explain, recorder, safety
from conventions.runtime.blockers import BlockerWatch
from conventions.runtime.limits import Limits, pg_duration
from conventions.runtime.migrator_lock import MigratorLock
from conventions.runtime.progress import Progress
from conventions.runtime.retry import DEADLOCK, RetryLoop, retryable
from conventions.runtime.step_plan import StepPlan, plan_step

StepFn = Callable[[Any, Any], Iterable[Any]]


class _OneStepAtATime:
    """Hand Alembic the planned steps one per ``run_migrations()`` call."""

    def __init__(self) -> None:
        self.steps: list[Any] = []
        self.index = 0

    def __call__(self, heads: Any, ctx: Any) -> list[Any]:
        if self.index >= len(self.steps):
            return []
        return [self.steps[self.index]]

    @property
    def current(self) -> Any:
        return self.steps[self.index]


class StepRunner:
    def __init__(
        self,
        context: EnvironmentContext,
        connection: Connection,
        engine: Engine,
        *,
        plan_fn: StepFn,
        direction: str | None,
        metadata: MetaData | None,
        options: dict[str, Any],
        limits: Limits | None = None,
        progress: Progress | None = None,
        retry: RetryLoop | None = None,
    ) -> None:
        self.context = context
        self.connection = connection
        self.engine = engine
        self.plan_fn = plan_fn
        self.direction = direction
        self.metadata = metadata
        self.limits = limits or Limits.from_env()
        self.progress = progress or Progress()
        self.retry = retry or RetryLoop(self.limits)
        self.feeder = _OneStepAtATime()
        self.entry: recorder.Entry | None = None
        self.applied: list[str] = []  # steps of this run that committed, for an interrupt
        self.lock: MigratorLock | None = None
        self._legacy: frozenset[str] | None = None  # revisions up to legacy_until
        context.configure(
            connection=connection, fn=self.feeder, on_version_apply=self._applied, **options
        )
        self.migration_context: MigrationContext = context.get_context()

    # -- planning -------------------------------------------------------------------

    def _plan(self) -> tuple[tuple[str, ...], list[Any]]:
        heads = self.migration_context.get_current_heads()
        try:
            steps = list(self.plan_fn(heads, self.migration_context))
        except CommandError as err:
            if isinstance(err.__cause__, revision_graph.MultipleHeads):
                raise MultipleHeads(self.context.script.get_heads()) from None
            raise
        return heads, steps

    def _validate(self, heads: tuple[str, ...]) -> None:
        """Refuse to run when an applied file changed since it ran (Flyway's validate)."""
        if not heads or not records.exists(self.connection):
            return
        recorded = records.recorded_checksums(self.connection)
        if not recorded:
            return
        scripts = self.context.script.iterate_revisions(heads, "base")
        applied = [(script.revision, script.path) for script in reversed(list(scripts))]
        edited = records.edited_files(applied, recorded)
        if edited:
            raise EditedMigration(edited)

    def _check_baseline(self, heads: tuple[str, ...]) -> None:
        if heads or self.metadata is None or self.migration_context._has_version_table():
            return
        known = untracked_tables(self.connection, self.metadata)
        if known:
            raise BaselineNeeded(known)

    # -- running --------------------------------------------------------------------

    def _subject(self, step: Any) -> tuple[str, str | None]:
        """Return (revision id, file path) a history row is about."""
        script = getattr(step, "revision", None)
        if script is not None:
            return script.revision, script.path
        targets = tuple(step.to_revisions) if step.is_upgrade else ()
        if len(targets) == 1:
            return targets[0], self.context.script.get_revision(targets[0]).path
        return (",".join(targets) or "base"), None

    def _is_legacy(self, revision: str) -> bool:
        """Whether ``revision`` predates the conventions (at or below ``legacy_until``)."""
        if self._legacy is None:
            from conventions.db.settings import project_root
            from conventions.runtime.safety_config import legacy_revisions

            until, self._legacy = legacy_revisions(self.context.script, project_root())
            if self._legacy:
                logs.info(
                    f"notice: the safety check skips the {len(self._legacy)} revision(s) up to "
                    f"legacy_until = {until} ([tool.conventions.harness]): they predate it."
                )
        return revision in self._legacy

    def run(self) -> None:
        try:
            self._run()
        except DBAPIError as err:  # a step's own failure is explained in _run_step
            raise explain.bookkeeping_error(err, self.connection) from err
        except KeyboardInterrupt as interrupt:
            if isinstance(interrupt, MigrationInterrupted):
                raise
            # Not inside a step (planning, waiting for the migrator lock, between steps).
            raise MigrationInterrupted(
                direction=self.direction or "upgrade", applied=self.applied
            ) from interrupt

    def _run(self) -> None:
        if self.direction is not None:
            heads, steps = self._plan()
            self._validate(heads)
            self._end_transaction()
            if not steps:
                self._finish(heads)
                return
        database = self.engine.url.database or "?"
        self._refuse_read_only()
        pooled = self._pool_mode()
        shared = self.connection if pooled else None
        with MigratorLock(
            self.engine, wait=self.limits.migrator_wait, database=database, shared=shared
        ) as lock:
            heads, steps = self._plan()
            self._validate(heads)
            if self.direction is None:
                self.direction = _direction_of(steps, self.plan_fn)
            direction = self.direction  # None only for an unknown command that planned no step
            if direction == "upgrade":
                self._check_baseline(heads)
            if steps and direction is not None:
                self.lock = lock
                lock.verify()  # behind a pooler: this transaction is on the lock's server
                recorder.ensure_tables(self.connection)
                self._end_transaction()
                self._set_session_limits()
                self.feeder.steps = steps
                self.progress.plan(len(steps), direction)
                try:
                    for index in range(len(steps)):
                        self.feeder.index = index
                        self._run_step(lock, direction)
                finally:
                    # A caller's own connection (config.attributes) gets its settings back.
                    self._reset_session_limits()
            self._end_transaction()
            heads = self.migration_context.get_current_heads()
            self._end_transaction()
        self._finish(heads)

    def _pool_mode(self) -> str | None:
        """Refuse a transaction pooler before any DDL; say "session" for a session pooler."""
        mode = pool_mode(self.connection, self.engine)
        self._end_transaction()
        if mode == "transaction":
            raise TransactionPooler(database=mask(self.engine.url))
        return mode

    def _refuse_read_only(self) -> None:
        """A standby or read-only database is refused before the lock and any DDL."""
        reason = read_only_reason(self.connection)
        self._end_transaction()
        if reason is not None:
            raise DatabaseReadOnly(database=mask(self.engine.url), reason=reason)

    def _finish(self, heads: tuple[str, ...]) -> None:
        if self.direction in ("upgrade", "downgrade"):
            at = "at " + ", ".join(heads) if heads else "empty"
            self.progress.finish(f"Database is up to date ({at}); nothing to apply.")

    def _run_step(self, lock: MigratorLock, direction: str) -> None:
        """Apply the current step in its own transaction, retried by the retry loop."""
        plan = plan_step(
            self.feeder.current,
            self._subject(self.feeder.current),
            direction=direction,
            limits=self.limits,
        )
        self.entry = entry = recorder.Entry(plan.revision, plan.file_name, plan.direction)
        entry.checksum = plan.checksum
        # On a shared connection (behind a pooler) there is no second session to watch
        # from: blockers go unnamed rather than cost another server connection.
        watcher = None if lock.shared is not None else lock.connection
        pid = self.connection.connection.dbapi_connection.get_backend_pid()  # type: ignore[union-attr]
        watches: list[BlockerWatch] = []
        commits.forget(self.migration_context)  # kept across retries: a commit stays made
        try:
            self.retry.run(
                lambda number: self._attempt(lock, plan, entry, watcher, pid, watches),
                what=f"Migration {plan.name}",
                give_up=lambda err, attempts, code: self._gave_up(
                    plan, entry, watches[-1], err, attempts, code
                ),
                kept=self._kept,
                # Refused before the step's first statement: nothing to record or retry.
                final=(TransactionPooler,),
            )
        except Exception:
            raise
        except KeyboardInterrupt as err:  # never retried; says what it left behind
            interrupted = MigrationInterrupted(
                direction=direction,
                applied=self.applied,
                migration=plan.name,
                committed_before=commits.committed_before(self.migration_context),
            )
            recorder.record_failure(self.connection, entry, interrupted.render())
            raise interrupted from err
        except BaseException:
            recorder.record_failure(self.connection, entry, "interrupted")
            raise
        self.applied.append(plan.name)

    def _attempt(
        self,
        lock: MigratorLock,
        plan: StepPlan,
        entry: recorder.Entry,
        watcher: Connection | None,
        pid: int,
        watches: list[BlockerWatch],
    ) -> None:
        """Run the step once; on failure roll back, then raise what it failed with."""
        entry.restart()
        self.progress.begin_step()
        failure: BaseException | None = None
        marker = (
            archive.downgrade_of(plan.revision) if plan.archive_drops else contextlib.nullcontext()
        )
        notes = assured.collecting()  # safety_assured reasons, for this step's row
        # An adopted history's applied revisions (up to legacy_until) are not refused.
        unchecked = safety.legacy() if self._is_legacy(plan.revision) else contextlib.nullcontext()
        with BlockerWatch(watcher, pid, plan.watch_interval) as watch, marker, notes, unchecked:
            watches.append(watch)
            try:
                with self.context.begin_transaction():
                    lock.verify()  # first statement of the step's transaction
                    self.context.run_migrations()
            except BaseException as err:
                failure = err
                self._roll_back()
        if failure is not None:
            raise failure

    def _kept(self) -> str:
        """What a retry leaves committed (a house op that committed before failing)."""
        committed = commits.committed_before(self.migration_context)
        return f" (work before {committed} stays committed)" if committed else ""

    def _gave_up(
        self,
        plan: StepPlan,
        entry: recorder.Entry,
        watch: BlockerWatch,
        failure: Exception,
        attempts: int,
        code: str | None,
    ) -> Exception:
        """Explain the step's last failure and record it in the history."""
        committed = commits.committed_before(self.migration_context)
        error: Exception
        if retryable(code):
            error = explain.table_busy(
                plan.name,
                attempts=attempts,
                limits=self.limits,
                blockers=watch.seen,
                waiting_for=watch.waiting_for,
                deadlock=code == DEADLOCK,
                committed_before=committed,
            )
        else:
            error = explain.explain(
                failure,
                plan.name,
                connection=self.connection,
                limits=self.limits,
                committed_before=committed,
            )
        recorder.record_failure(self.connection, entry, str(error))
        return error

    def _applied(self, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        """Alembic's on_version_apply: still inside the step's transaction."""
        assert self.entry is not None
        self.entry.note = assured.step_note(self.entry.note)
        recorder.record(self.connection, self.entry, success=True)
        self.progress.end_step(self.feeder.current, is_upgrade=step.is_upgrade)

    # -- connection housekeeping ------------------------------------------------------

    def _set_session_limits(self) -> None:
        # Session-level (is_local = false) so they hold for every per-step transaction;
        # client_connection_check_interval lets the server notice a killed migrator
        # during a long statement and roll back instead of holding locks.
        if self.lock is not None:
            self.lock.verify()  # never SET on a pooled server that is not ours
        self.connection.execute(
            text(
                "SELECT set_config('lock_timeout', :lt, false),"
                " set_config('statement_timeout', :st, false),"
                " set_config('client_connection_check_interval', '1s', false)"
            ),
            {
                "lt": pg_duration(self.limits.lock_timeout),
                "st": pg_duration(self.limits.statement_timeout),
            },
        )
        self.connection.commit()

    def _reset_session_limits(self) -> None:
        with contextlib.suppress(Exception):
            self._end_transaction()
            self.connection.execute(
                text(
                    "RESET lock_timeout; RESET statement_timeout;"
                    " RESET client_connection_check_interval"
                )
            )
            self.connection.commit()

    def _end_transaction(self) -> None:
        if self.connection.in_transaction():
            self.connection.commit()

    def _roll_back(self) -> None:
        try:
            if self.connection.in_transaction():
                self.connection.rollback()
        except Exception:  # the connection may be dead; the server rolled back already
            pass


def _direction_of(steps: list[Any], plan_fn: StepFn) -> str | None:
    """Return the one direction of an unknown command's steps (None when it planned none)."""
    kinds = {_kind(step) for step in steps}
    if len(kinds) <= 1 and kinds <= {"upgrade", "downgrade", "stamp"}:
        return next(iter(kinds), None)
    name = getattr(plan_fn, "__name__", repr(plan_fn))
    raise UnsupportedCommand(
        f"The command that ran env.py (planning function {name!r}) planned steps the house "
        f"runtime cannot record as one run ({', '.join(sorted(kinds))}). Nothing was run.",
        function=name,
        hints=["Run them as separate alembic upgrade / downgrade / stamp commands."],
    )


def _kind(step: Any) -> str:
    if isinstance(step, StampStep):
        return "stamp"
    if isinstance(step, RevisionStep):
        return "upgrade" if step.is_upgrade else "downgrade"
    return type(step).__name__


def application_name(direction: str) -> str:
    """Name our sessions so a waiting migrator can say who holds the lock."""
    return f"conventions {direction} (pid {os.getpid()})"[:63]
