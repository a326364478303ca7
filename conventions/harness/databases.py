"""What one harness test pays to set up its database: a template clone, timed.

A migrated, seeded database is built once per session for each point in the
history, then every test clones the one it needs. The clones themselves come from
:mod:`conventions.harness.scratch` (the one scratch-database helper); this module
measures them for the benchmarks. ``ScratchServer``, ``engine_for`` and
``FAST_OPTIONS`` are re-exported for code written against the old path.
"""

from __future__ import annotations

import statistics
import time

from sqlalchemy.engine import URL

from conventions.harness.project import Project
from conventions.harness.scratch import FAST_OPTIONS, ScratchServer, connected, engine_for

__all__ = ["FAST_OPTIONS", "ScratchServer", "engine_for", "setup_seconds"]


def setup_seconds(
    server: ScratchServer | None = None,
    *,
    template: str | None = None,
    project: Project | None = None,
    samples: int = 5,
) -> float:
    """Return the median seconds to set up one test database (a template clone).

    With no ``template``, one is made first by migrating a scratch database to the
    project's head (``project`` defaults to the current one), so the figure is what a
    harness test pays. Benchmarks call this to report the per-test cost of the
    machine they run on.
    """
    own = server is None
    server = server or ScratchServer()
    made = None
    try:
        if template is None:
            made = server.create(label="bench_template")
            _migrate_to_head(made, project or Project())
            template = made.database
        timings = []
        for _ in range(max(samples, 1)):
            started = time.perf_counter()
            url = server.create(template=template, label="bench")
            timings.append(time.perf_counter() - started)
            server.drop(url)
        return statistics.median(timings)
    finally:
        if made is not None:
            server.drop(made)
        if own:
            server.close()


def _migrate_to_head(url: URL, project: Project) -> None:
    from conventions.harness.steps import upgrade_one

    with connected(url) as connection:
        for revision in project.revisions():
            upgrade_one(project, connection, revision.revision)
