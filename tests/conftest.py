"""Fixtures: every test that touches PostgreSQL gets its own real database."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool

from conventions.harness import SeedRows
from conventions.harness.scratch import DatabaseFactory, run_cli
from tests.runtime_support import MIGRATE

ROOT = Path(__file__).resolve().parents[1]

# The migration harness (tests/test_migrations.py): its fixtures, and pytest-alembic's
# alembic_config/alembic_engine answered on a real PostgreSQL.
pytest_plugins = ["conventions.harness.plugin"]


@pytest.fixture(scope="session")
def migration_seed_rows() -> SeedRows:
    """The sample domain's seed rows, inserted before every migration the harness runs."""
    from tests.data.seed_rows import SEED_ROWS

    return SEED_ROWS


@pytest.fixture(scope="session")
def db_factory() -> DatabaseFactory:
    return DatabaseFactory()


@pytest.fixture
def fresh_db(db_factory: DatabaseFactory) -> Iterator[URL]:
    """An empty database of its own, dropped after the test."""
    url = db_factory.create()
    try:
        yield url
    finally:
        db_factory.drop(url)


@pytest.fixture(scope="session")
def seed_template(db_factory: DatabaseFactory) -> Iterator[str]:
    """A database migrated to the seed head once per session, to clone from."""
    url = db_factory.create(prefix="tpl_runtime")
    try:
        result = run_cli(MIGRATE, url=url)
        assert result.returncode == 0, result.stdout + result.stderr
        yield str(url.database)
    finally:
        db_factory.drop(url)


@pytest.fixture
def seeded_db(db_factory: DatabaseFactory, seed_template: str) -> Iterator[URL]:
    """A database of its own at the seed head, history included (cloned, not migrated)."""
    url = db_factory.create(template=seed_template)
    try:
        yield url
    finally:
        db_factory.drop(url)


@pytest.fixture
def engine(fresh_db: URL) -> Iterator[Engine]:
    eng = create_engine(fresh_db, poolclass=NullPool)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A scratch copy of the project (alembic.ini, alembic/, app/) to add revisions to."""
    dest = tmp_path / "project"
    dest.mkdir()
    shutil.copy(ROOT / "alembic.ini", dest / "alembic.ini")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "alembic", dest / "alembic", ignore=ignore)
    shutil.copytree(ROOT / "app", dest / "app", ignore=ignore)
    return dest
