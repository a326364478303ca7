"""The scratch database a plan runs on: the target's schema, rebuilt from the history.

It is made the way the migration harness makes its templates
(``conventions.harness``): an empty database on the scratch server
(:class:`conventions.harness.scratch.ScratchServer`, the one helper that makes
throw-away databases), then every revision the target has applied, one at a time
through the project's own env.py.
No row and no DDL is ever read from or sent to the target; only its revision is.
The scratch server is the embedded one unless ``[tool.conventions.plan]
scratch_url`` / ``CONVENTIONS_PLAN_SCRATCH_URL`` names another (it needs
``CREATEDB``); it should run the target's PostgreSQL major version, since lock
levels changed between versions, and the plan says when it does not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alembic.script import Script
from sqlalchemy.engine import URL

from conventions import logs
from conventions.db.settings import parse_url
from conventions.harness.project import Project
from conventions.project.config import lookup

SCRATCH_ENV = "CONVENTIONS_PLAN_SCRATCH_URL"


def scratch_server_url(root: Path) -> URL:
    """Where scratch databases are created: configured, or the embedded server."""
    setting = lookup("plan.scratch_url", root=root, env=SCRATCH_ENV)
    if setting.value:
        return parse_url(str(setting.value))
    from conventions.db import embedded

    return embedded.ensure_running(root / ".pgdata")


def ancestors(project: Project, heads: Sequence[str]) -> set[str]:
    """Every revision applied on a database at ``heads`` (the heads included)."""
    if not heads:
        return set()
    return {rev.revision for rev in project.script.iterate_revisions(tuple(heads), "base")}


def between(project: Project, lower: Sequence[str], upper: str) -> list[Script]:
    """The revisions ``alembic upgrade upper`` would apply on a database at ``lower``."""
    done = ancestors(project, lower)
    wanted = ancestors(project, [upper] if upper != "heads" else list(project.heads()))
    return [rev for rev in project.revisions() if rev.revision in wanted - done]


@contextmanager
def quiet() -> Iterator[None]:
    """Keep the runtime's progress lines for scratch runs out of the plan's output."""
    level = logs.logger.level
    logs.logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logs.logger.setLevel(level)
