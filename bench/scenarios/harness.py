"""8. The test harness: seconds to set up one test database, and to climb a long history.

Each test gets a database of its own. Migrating an empty database for every test
would cost a full ``alembic upgrade head``; the harness instead clones a migrated
template (``CREATE DATABASE … TEMPLATE``, a file-level copy inside the server) on
an admin session with ``synchronous_commit = off``.

The templates come from climbing the history once, with data. A generated history
(tables, columns, indexes, data migrations, a plain env.py) of ``BENCH_REVISIONS``
revisions and of a quarter of that is climbed side by side: the time per revision
of the long one over the short one's is the linearity figure (1.0 is linear).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.config import ROOT
from bench.context import Context
from bench.processes import BIN, child_env, timed
from bench.results import Headline, Section, Target
from bench.stats import Spread, duration
from conventions import logs
from conventions.harness import Ladder, Project, Seeder
from conventions.harness.databases import setup_seconds
from conventions.harness.scratch import ScratchServer

NUMBER = 8
TITLE = "Test harness: one test database, and the climb of a long history"
#: the climb is linear when a revision of the long history costs at most this much more
LINEAR_FACTOR = 1.5

_ENV_PY = """from alembic import context

context.configure(connection=context.config.attributes["connection"], target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
"""


def _revision_sql(k: int) -> tuple[str, str]:
    """Revision ``k`` of the generated history: a realistic mix, each one reversible."""
    table = f"t{(k // 5) * 5:04d}"
    if k % 5 == 0:
        return (
            f"CREATE TABLE {table} (id serial PRIMARY KEY, name text NOT NULL, "
            "created_at timestamptz NOT NULL DEFAULT now())",
            f"DROP TABLE {table}",
        )
    if k % 5 == 3:
        return (
            f"CREATE INDEX ix_{table}_name_{k} ON {table} (name)",
            f"DROP INDEX ix_{table}_name_{k}",
        )
    if k % 5 == 4:
        return (f"UPDATE {table} SET name = name || ''", "SELECT 1")
    return (
        f"ALTER TABLE {table} ADD COLUMN c{k:04d} varchar(40)",
        f"ALTER TABLE {table} DROP COLUMN c{k:04d}",
    )


def write_history(root: Path, count: int) -> Path:
    """Write a ``count``-revision Alembic project (plain env.py) under ``root``."""
    versions = root / "alembic" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = alembic\n")
    (root / "alembic" / "env.py").write_text(_ENV_PY)
    for k in range(count):
        up, down = _revision_sql(k)
        parent = repr(f"bench{k - 1:07d}") if k else "None"
        (versions / f"{k:04d}_step.py").write_text(
            f"from alembic import op\n\nrevision = {f'bench{k:07d}'!r}\n"
            f"down_revision = {parent}\n\n\ndef upgrade():\n    op.execute({up!r})\n\n\n"
            f"def downgrade():\n    op.execute({down!r})\n"
        )
    return root


def climb_seconds(server: ScratchServer, count: int) -> float:
    """Climb a generated ``count``-revision history with data; return seconds per revision."""
    with tempfile.TemporaryDirectory(prefix="bench_history_") as tmp:
        ladder = Ladder(Project(write_history(Path(tmp), count)), server, Seeder())
        try:
            ladder.build()
            assert ladder.broken is None, ladder.broken
            return ladder.build_seconds / ladder.climbed
        finally:
            ladder.close()
            for rung in ladder.rungs.values():
                if rung.template:
                    server.drop(rung.template)


def run(ctx: Context) -> Section:
    server = ScratchServer(ctx.factory.base, prefix="bench_harness")
    clone_times: list[float] = []
    migrate_times: list[float] = []
    migrate = [str(BIN / "alembic"), "upgrade", "head"]
    try:
        template = server.create(label="template")
        timed(migrate, env=child_env(template), cwd=ROOT)
        for _ in range(ctx.config.harness_repeats):
            # The harness's own figure, one sample per call so the spread survives.
            clone_times.append(setup_seconds(server, template=template.database, samples=1))
            # What a harness without a template pays: an empty database, then every migration.
            started = time.perf_counter()
            fresh = server.create(label="fresh")
            timed(migrate, env=child_env(fresh), cwd=ROOT)
            migrate_times.append(time.perf_counter() - started)
            server.drop(fresh)
    finally:
        server.close()
    long_count = ctx.config.revision_count
    short_count = max(long_count // 4, 5)
    climb_server = ScratchServer(ctx.factory.base, prefix="bench_climb")
    short_times: list[float] = []
    long_times: list[float] = []
    try:
        for _ in range(ctx.config.revision_repeats):
            short_times.append(climb_seconds(climb_server, short_count))
            long_times.append(climb_seconds(climb_server, long_count))
    finally:
        climb_server.close()
    clone, fresh_migrate = Spread.of(clone_times), Spread.of(migrate_times)
    short, long = Spread.of(short_times), Spread.of(long_times)
    logs.info(
        f"    climb {duration(long.median)}/revision at {long_count}, "
        f"{duration(short.median)} at {short_count}"
    )
    logs.info(f"    clone {duration(clone.median)}, migrate {duration(fresh_migrate.median)}")
    section = Section(
        number=NUMBER,
        key="8-test-database",
        title=TITLE,
        how=(
            "A template database migrated to head once (the sample project's revisions); "
            f"then, {ctx.config.harness_repeats} times: clone it as the harness does per test "
            "(`conventions.harness.setup_seconds`: `CREATE DATABASE … TEMPLATE` on an admin "
            "session with `synchronous_commit = off`), versus create an empty "
            "database and run `alembic upgrade head` in it (what a harness without templates "
            "would pay per test). Then the climb that makes the templates "
            "(`conventions.harness.Ladder.build()`: one upgrade per revision through a plain "
            f"env.py, the harness's rows filled after each) on a generated history of "
            f"{long_count} revisions and of {short_count} (tables, columns, indexes, data "
            "migrations), one after the other in each repeat: seconds per revision."
        ),
        columns=["set-up of one test database", "wall time"],
        rows=[
            ["**ours**: harness clone of a migrated template", clone.text()],
            ["empty database + `alembic upgrade head`", fresh_migrate.text()],
            [f"climb, per revision, {long_count}-revision history", long.text()],
            [f"climb, per revision, {short_count}-revision history", short.text()],
        ],
        raw={
            "clone": clone_times,
            "migrate": migrate_times,
            f"climb_per_revision_{long_count}": long_times,
            f"climb_per_revision_{short_count}": short_times,
        },
    )
    factor = long.median / short.median if short.median else float("nan")
    met = factor <= LINEAR_FACTOR
    section.targets.append(
        Target(
            f"the climb is linear: a revision of a {long_count}-revision history costs "
            f"≤ {LINEAR_FACTOR}× one of a {short_count}-revision history",
            f"{duration(long.median)} vs {duration(short.median)} per revision ({factor:.2f}×); "
            f"{long_count} revisions in {duration(long.median * long_count)}",
            met,
            "" if met else "per-revision cost grows with the history: see raw timings",
        )
    )
    section.headlines.append(
        Headline("set up one test database", clone, fresh_migrate, "migrate from empty")
    )
    return section
