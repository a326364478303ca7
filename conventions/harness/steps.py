"""Move a database exactly one revision, through the project's real env.py.

The harness drives the same runtime ``make migrate`` uses (one transaction per
revision, house logging, history), so what it proves holds for real runs. Each
call hands env.py a plan of exactly one Alembic step; the planning function's name
(``upgrade``/``downgrade``/``stamp``) is what the house runtime reads to know the
direction. Steps are built from the revision itself rather than from a relative
target like ``-1``, so branched and merged histories move one node at a time too.
"""

from __future__ import annotations

from typing import Any

from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import RevisionStep
from sqlalchemy.engine import Connection

from conventions.harness.project import Project


def upgrade_one(project: Project, connection: Connection, revision: str) -> None:
    """Run ``revision``'s upgrade; its parents must be what the database is at."""
    step = RevisionStep(project.script.revision_map, project.revision(revision), True)

    def upgrade(_heads: Any, _ctx: Any) -> list[Any]:
        return [step]

    _run(project, connection, upgrade, revision)


def downgrade_one(project: Project, connection: Connection, revision: str) -> None:
    """Run ``revision``'s downgrade; the database must be at ``revision``."""
    step = RevisionStep(project.script.revision_map, project.revision(revision), False)

    def downgrade(_heads: Any, _ctx: Any) -> list[Any]:
        return [step]

    _run(project, connection, downgrade, revision)


def rewind_one(project: Project, connection: Connection, revision: str) -> None:
    """Record ``revision`` as not applied without running its downgrade.

    This is ``alembic stamp <parent>`` for one node of the graph: the schema stays
    as the upgrade left it, so running the upgrade again tests it on top of itself.
    """
    step = RevisionStep(project.script.revision_map, project.revision(revision), False)
    step.migration_fn = _nothing

    def stamp(_heads: Any, _ctx: Any) -> list[Any]:
        return [step]

    _run(project, connection, stamp, revision)


def _nothing(**_kw: Any) -> None:
    return None


def _run(project: Project, connection: Connection, plan: Any, revision: str) -> None:
    if connection.in_transaction():
        # env.py must own the transactions: one per revision, committed by the runtime.
        connection.commit()
    config = project.config(connection=connection, url=connection.engine.url)
    with EnvironmentContext(config, project.script, fn=plan, destination_rev=revision):
        project.script.run_env()
