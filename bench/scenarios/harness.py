"""8. The test harness: seconds to set up one test database.

Each test gets a database of its own. Migrating an empty database for every test
would cost a full ``alembic upgrade head``; the harness instead clones a migrated
template (``CREATE DATABASE … TEMPLATE``, a file-level copy inside the server) on
an admin session with ``synchronous_commit = off``.
"""

from __future__ import annotations

import time

from bench.config import ROOT
from bench.context import Context
from bench.processes import BIN, child_env, timed
from bench.results import Headline, Section
from bench.stats import Spread, duration
from conventions import logs
from conventions.harness.databases import ScratchServer, setup_seconds

NUMBER = 8
TITLE = "Test harness: one test database"


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
    clone, fresh_migrate = Spread.of(clone_times), Spread.of(migrate_times)
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
            "would pay per test)."
        ),
        columns=["set-up of one test database", "wall time"],
        rows=[
            ["**ours**: harness clone of a migrated template", clone.text()],
            ["empty database + `alembic upgrade head`", fresh_migrate.text()],
        ],
        raw={"clone": clone_times, "migrate": migrate_times},
    )
    section.headlines.append(
        Headline("set up one test database", clone, fresh_migrate, "migrate from empty")
    )
    return section
