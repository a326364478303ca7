"""Make a plan: scratch database at the target's revision, trace the pending revisions.

Order of work: read the target (its revision and table sizes, read-only) unless the
sizes come from a file or ``--rows``; build the scratch database at that revision
from the history (untraced); run each pending revision on it through the project's
env.py and the house step runner, exactly as ``make migrate`` does, with the tracer
on the migration connection; calibrate the per-row costs on the scratch server if
anything scanned or rewrote; then model and assemble (``report``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import URL

from conventions.db.settings import mask
from conventions.errors import ConventionsError
from conventions.harness.project import Project
from conventions.harness.scratch import ScratchServer, engine_for
from conventions.harness.steps import upgrade_one
from conventions.plan import model, report, scratch, sizes
from conventions.plan.tracer import Tracer


class ScratchBuildFailed(ConventionsError):
    """The history does not build the target's revision from an empty database."""

    def __init__(self, revision: str, detail: str) -> None:
        self.revision = revision
        super().__init__(
            f"Cannot build the scratch database at the target's revision: {revision} fails "
            f"from an empty database ({detail}). Nothing was planned; the target was only read.",
            hints=["make test runs the same climb (test_upgrade_from_empty_to_head) and says why."],
        )


@dataclass
class Request:
    """What to plan: the range, where sizes come from, where scratch databases go."""

    upper: str = "heads"
    lower: tuple[str, ...] | None = None  # None: the target's current revision
    target: URL | None = None  # read-only; None with stats or rows
    stats: sizes.TargetSizes | None = None
    rows: Mapping[str, float] | None = None
    scratch_url: URL | None = None
    threshold: float = 1.0


def read_target(url: URL) -> sizes.TargetSizes:
    """The target's revision, server version and table sizes, read-only."""
    engine = sizes.read_only_engine(url)
    try:
        from conventions.db.connect import open_connection

        with open_connection(engine) as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
            version = connection.execute(text("SHOW server_version")).scalar()
            tables = sizes.read_sizes(connection)
            connection.rollback()
    finally:
        engine.dispose()
    return sizes.TargetSizes(
        tables, tuple(heads), f"database {url.database}", str(version), database=mask(url)
    )


def make_plan(
    project: Project, request: Request, on_ready: Callable[[report.Plan], None] | None = None
) -> report.Plan:
    """Plan ``request``; ``on_ready`` gets the plan before the scratch database is dropped.

    Dropping a database whose files were just written waits for the server to flush
    them, a noticeable part of a run on a busy machine: printing the result first
    lets the reader see it while the clean-up finishes.
    """
    if request.stats is not None:
        target = request.stats
    elif request.target is not None and not request.rows:
        target = read_target(request.target)
    else:
        target = sizes.TargetSizes({}, None, "--rows")
    if request.rows:
        target.override(request.rows)
    lower = request.lower if request.lower is not None else (target.revision or ())
    done = scratch.ancestors(project, lower)
    applied = [rev for rev in project.revisions() if rev.revision in done]
    pending = scratch.between(project, lower, request.upper)
    plan = report.Plan([], target, None, request.threshold, start=tuple(lower))
    server = ScratchServer(request.scratch_url, prefix=f"plan_{uuid.uuid4().hex[:8]}")
    try:
        with server.clone(None, label="plan") as url:
            with scratch.quiet():
                _on_scratch(project, url, applied, pending, plan)
            _version_note(plan)
            if on_ready is not None:
                on_ready(plan)
    finally:
        server.close()
    return plan


def _on_scratch(
    project: Project, url: URL, applied: Sequence, pending: Sequence, plan: report.Plan
) -> None:
    """Build the target's revision (untraced), trace the pending ones, calibrate, model."""
    engine = engine_for(url)
    try:
        started = time.perf_counter()
        with engine.connect() as connection:
            plan.scratch_version = str(connection.execute(text("SHOW server_version")).scalar())
            connection.commit()
            for rev in applied:
                try:
                    upgrade_one(project, connection, rev.revision)
                except Exception as err:  # the user's history, not our bug
                    raise ScratchBuildFailed(project.label(rev.revision), _first(err)) from err
        plan.scratch_seconds = time.perf_counter() - started
        started = time.perf_counter()
        tracer = Tracer(engine, url)
        try:
            _trace(project, engine, tracer, pending, plan)
        finally:
            tracer.detach()
        plan.trace_seconds = time.perf_counter() - started
        if model.needs_rates(tracer.statements):
            plan.rates = model.calibrate(url)
        _assemble(project, tracer, pending, plan)
    finally:
        engine.dispose()


def _trace(project: Project, engine, tracer: Tracer, pending: Sequence, plan: report.Plan) -> None:
    plan.revisions = [report.RevisionPlan(r.revision, project.label(r.revision)) for r in pending]
    with engine.connect() as connection:
        for rev_plan in plan.revisions:
            tracer.revision = rev_plan.revision
            try:
                upgrade_one(project, connection, rev_plan.revision)
            except Exception as err:
                rev_plan.failure = _first(err)
                break
            finally:
                tracer.revision = None
    failed = next((r for r in plan.revisions if r.failure), None)
    if failed is not None:
        for rev_plan in plan.revisions[plan.revisions.index(failed) + 1 :]:
            rev_plan.skipped = f"an earlier revision ({failed.label}) could not run on scratch"


def _assemble(project: Project, tracer: Tracer, pending: Sequence, plan: report.Plan) -> None:
    for index, rev_plan in enumerate(plan.revisions):
        traced = [t for t in tracer.statements if t.revision == rev_plan.revision]
        built = report.revision_plan(
            rev_plan.revision, rev_plan.label, traced, plan.sizes, plan.rates, tracer.new
        )
        built.failure, built.skipped = rev_plan.failure, rev_plan.skipped
        plan.revisions[index] = built


def _first(err: BaseException) -> str:
    lines = [line for line in str(err).splitlines() if line.strip()]
    return lines[0].strip() if lines else type(err).__name__


def _version_note(plan: report.Plan) -> None:
    target, scratch_v = plan.sizes.server_version, plan.scratch_version
    if target and scratch_v and target.split(".")[0] != scratch_v.split(".")[0]:
        plan.notes.append(
            f"the scratch server runs PostgreSQL {scratch_v}, the target {target}: lock levels "
            "differ between major versions; set CONVENTIONS_PLAN_SCRATCH_URL to a server of "
            "the target's version"
        )


class UnknownRevision(ConventionsError):
    """The range names a revision the project does not have."""

    def __init__(self, revision: str) -> None:
        self.revision = revision
        super().__init__(
            f"No revision {revision!r} in this project's history. Nothing was planned.",
            hints=["`alembic history` lists the revisions; give REV or FROM:TO."],
        )
