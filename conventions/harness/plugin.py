"""pytest fixtures for the migration harness; load with ``pytest_plugins``.

In a project's ``tests/conftest.py``::

    pytest_plugins = ["conventions.harness.plugin"]

    @pytest.fixture(scope="session")
    def migration_seed_rows():
        return {"customer_segments": [{"id": 1, "name": "VIP"}], ...}

The database is the one ``DATABASE_URL`` names (environment, then ``.env``), else
the embedded server; the project is the one ``CONVENTIONS_ROOT`` or the working
directory points at. The plugin also answers pytest-alembic's two fixtures
(``alembic_config``, ``alembic_engine``), so its built-in tests run on a real
PostgreSQL through the project's own env.py instead of SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.config import Config
from sqlalchemy.engine import Connection

from conventions.harness.databases import ScratchServer
from conventions.harness.ladder import BASE, Ladder
from conventions.harness.project import Project
from conventions.harness.seed_data import Seeder, SeedRows

_LADDER = pytest.StashKey[Ladder]()


@pytest.fixture(scope="session")
def migration_project() -> Project:
    """The Alembic project under test."""
    return Project()


@pytest.fixture(scope="session")
def migration_seed_rows() -> SeedRows:
    """The project's small seed data set; override it in conftest.py (default: none)."""
    return {}


@pytest.fixture(scope="session")
def scratch_server() -> Iterator[ScratchServer]:
    """Scratch databases for the session; all dropped at the end."""
    server = ScratchServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def migration_ladder(
    request: pytest.FixtureRequest,
    migration_project: Project,
    scratch_server: ScratchServer,
    migration_seed_rows: SeedRows,
) -> Ladder:
    """A template database before and after every revision, built once per session."""
    ladder = Ladder(migration_project, scratch_server, Seeder(migration_seed_rows)).build()
    request.config.stash[_LADDER] = ladder
    return ladder


@pytest.fixture
def alembic_config(migration_project: Project) -> Config:
    """pytest-alembic's config: the project's own alembic.ini and env.py."""
    return migration_project.config()


@pytest.fixture
def alembic_engine(migration_ladder: Ladder) -> Iterator[Connection]:
    """pytest-alembic's database: a fresh empty clone (a connection, as env.py expects)."""
    with migration_ladder.connection(migration_ladder.templates[BASE]) as connection:
        yield connection


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    ladder = terminalreporter.config.stash.get(_LADDER, None)
    if ladder is None:
        return
    clones = ladder.clone_seconds
    per_db = sorted(clones)[len(clones) // 2] if clones else 0.0
    terminalreporter.write_line(
        f"migration harness: {len(ladder.order)} revision(s), templates built in "
        f"{ladder.build_seconds:.2f}s, {len(clones)} test database(s) at "
        f"{per_db:.3f}s each (median clone)"
    )
