"""pytest fixtures and hooks for the migration harness; load with ``pytest_plugins``.

In a project's ``tests/conftest.py``::

    pytest_plugins = ["conventions.harness.plugin"]

    @pytest.fixture(scope="session")
    def migration_seed_rows():
        return {"customer_segments": [{"id": 1, "name": "VIP"}], ...}

and the test module is ``from conventions.harness.suite import *`` (see
:mod:`conventions.harness.suite`). The database is the one ``DATABASE_URL`` names
(environment, then ``.env``), else the embedded server; the project is the one
``CONVENTIONS_ROOT`` or the working directory points at; its
``[tool.conventions.harness]`` settings come through ``migration_harness_settings``,
which a conftest may override to adjust them in Python (``settings.replace(...)``).
The plugin also answers pytest-alembic's two fixtures (``alembic_config``,
``alembic_engine``), so its built-in tests run on a real PostgreSQL through the
project's own env.py instead of SQLite.

Works with pytest 8 and 9 and with pytest-xdist: the workers of one run share the
ladder's template databases (the controller hands them one run id and drops the
templates at the end).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Connection

from conventions.harness.declarations import check_entries, one_way_reason
from conventions.harness.ladder import Ladder
from conventions.harness.project import Project
from conventions.harness.scratch import ScratchServer
from conventions.harness.seed_data import Seeder, SeedRows
from conventions.harness.settings import HarnessSettings
from conventions.harness.suite import NEEDS

_LADDER = pytest.StashKey[Ladder]()
_RUN = pytest.StashKey[str]()
_NEEDS = pytest.StashKey[dict[str, int]]()  # item nodeid -> rung it clones
_WORKERS = pytest.StashKey[list[dict[str, Any]]]()  # figures of each xdist worker
_WORKER_RUN = "migration_harness_run"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "harness_clones_before: the test clones the rung just before its revision"
    )
    config.addinivalue_line("markers", "harness_downgrades: the test runs its revision's downgrade")
    config.addinivalue_line(
        "markers", "harness_climbs_all: the test climbs the whole history (it runs last)"
    )
    workerinput = getattr(config, "workerinput", None)
    config.stash[_RUN] = (
        workerinput[_WORKER_RUN]
        if workerinput and _WORKER_RUN in workerinput
        else uuid.uuid4().hex[:8]
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Take pytest-alembic's file collector out unless ``--test-alembic`` asked for it.

    The harness runs pytest-alembic's built-in tests itself (see the suite); the
    collector would only add an empty module node under ``tests/conftest.py``, and
    under pytest 9 building that node fails (pytest-alembic 0.13 subclasses
    ``pytest.Module`` in a way pytest 9 rejects), which would stop collection. Its
    fixtures (``alembic_runner``) live in another plugin object and stay.
    """
    manager = session.config.pluginmanager
    asked = getattr(session.config.option, "pytest_alembic_registration_enabled", False)
    if not asked and manager.get_plugin("pytest-alembic") is not None:
        manager.unregister(name="pytest-alembic")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist, in the controller: every worker of this run shares its templates."""
    node.workerinput[_WORKER_RUN] = node.config.stash[_RUN]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist, in the controller: collect a worker's harness figures."""
    figures = getattr(node, "workeroutput", {}).get(_WORKER_RUN)
    if figures:
        node.config.stash.setdefault(_WORKERS, []).append(figures)


def _shared(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Workers report their figures; the pytest-xdist controller drops the shared templates."""
    config = session.config
    if _shared(config):
        ladder = config.stash.get(_LADDER, None)
        if ladder is not None:
            # pytest-xdist sets workeroutput on a worker's config; pytest's Config declares none.
            config.workeroutput[_WORKER_RUN] = _figures(ladder)  # type: ignore[attr-defined]
        return
    if not config.pluginmanager.hasplugin("dsession"):
        return
    server = ScratchServer()
    try:
        for name in server.databases(f"hm{config.stash[_RUN]}_"):
            server.drop(name)
    finally:
        server.close()


# --- parametrizing and ordering ---------------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "migration_revision" not in metafunc.fixturenames:
        return
    project = Project()
    settings = _settings_for(metafunc.config, project)
    downgrades = "harness_downgrades" in getattr(metafunc.function, NEEDS, ())
    params = []
    for script in project.revisions():
        marks = []
        reason = one_way_reason(settings, project, script.revision) if downgrades else None
        if reason is not None:
            marks.append(
                pytest.mark.xfail(reason=f"one-way revision (allow-listed): {reason}", strict=True)
            )
        params.append(pytest.param(script.revision, id=project.stem(script.revision), marks=marks))
    metafunc.parametrize("migration_revision", params)


def _settings_for(config: pytest.Config, project: Project) -> HarnessSettings:
    settings = HarnessSettings.load(project.root)
    check_entries(settings, project)
    return settings


def pytest_collection_modifyitems(session: pytest.Session, items: list[pytest.Item]) -> None:
    """Run the per-revision tests revision by revision (oldest first), in place.

    Then every test that clones rung R runs before any test of a later revision, so R
    can be dropped as soon as they are done: the disk holds a couple of templates,
    not one per revision.
    """
    for item in items:  # the suite's needs() tags become markers (see suite.py)
        for marker in sorted(getattr(getattr(item, "function", None), NEEDS, ())):
            item.add_marker(marker)
    # The whole climb goes last: by then the per-revision tests have climbed as they
    # went, dropping rungs behind them; first, it would keep every rung until they ran.
    climbs = [item for item in items if item.get_closest_marker("harness_climbs_all")]
    if climbs:
        items[:] = [item for item in items if item not in climbs] + climbs
    positions = [i for i, item in enumerate(items) if _revision_of(item) is not None]
    if not positions:
        return
    order = {rev.revision: n for n, rev in enumerate(Project().revisions())}
    harness = sorted(
        enumerate(items[i] for i in positions),
        key=lambda pair: (order.get(_revision_of(pair[1]) or "", -1), pair[0]),
    )
    for slot, (_, item) in zip(positions, harness, strict=True):
        items[slot] = item


def _revision_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    value = callspec.params.get("migration_revision")
    return value if isinstance(value, str) else None


def pytest_runtest_teardown(item: pytest.Item) -> None:
    ladder = item.config.stash.get(_LADDER, None)
    if ladder is None or _shared(item.config):
        return
    needs = item.config.stash.get(_NEEDS, {})
    if item.nodeid in needs:
        ladder.release(needs[item.nodeid])


def _count_needs(session: pytest.Session, ladder: Ladder) -> dict[str, int]:
    needs: dict[str, int] = {}
    for item in session.items:
        fixtures = getattr(item, "fixturenames", ())
        revision = _revision_of(item)
        if revision is not None and item.get_closest_marker("harness_clones_before"):
            needs[item.nodeid] = ladder.index(revision)
        elif "alembic_engine" in fixtures:
            needs[item.nodeid] = 0
    for index in needs.values():
        ladder.expect(index)
    return needs


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def migration_project() -> Project:
    """The Alembic project under test."""
    return Project()


@pytest.fixture(scope="session")
def migration_harness_settings(
    request: pytest.FixtureRequest, migration_project: Project
) -> HarnessSettings:
    """``[tool.conventions.harness]``; override it to adjust (``settings.replace(...)``)."""
    return _settings_for(request.config, migration_project)


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
    migration_harness_settings: HarnessSettings,
) -> Iterator[Ladder]:
    """Template databases before and after every revision, climbed as tests need them."""
    ladder = Ladder(
        migration_project,
        scratch_server,
        Seeder(migration_seed_rows, migration_harness_settings),
        run=request.config.stash[_RUN],
        shared=_shared(request.config),
    )
    request.config.stash[_LADDER] = ladder
    request.config.stash[_NEEDS] = _count_needs(request.session, ladder)
    ladder.prune = True  # every test that clones a rung was counted
    try:
        yield ladder
    finally:
        ladder.close()


@pytest.fixture
def alembic_config(migration_project: Project, migration_harness_settings: HarnessSettings) -> Any:
    """pytest-alembic's config: the project's alembic.ini and env.py.

    Downgrades stop at the newest allow-listed one-way revision (pytest-alembic's
    ``minimum_downgrade_revision``): below it the history cannot go back down.
    """
    from pytest_alembic import Config

    one_way = [
        rev.revision
        for rev in migration_project.revisions()
        if one_way_reason(migration_harness_settings, migration_project, rev.revision)
    ]
    return Config(
        alembic_config=migration_project.config(),
        minimum_downgrade_revision=one_way[-1] if one_way else None,
    )


@pytest.fixture
def alembic_engine(migration_ladder: Ladder) -> Iterator[Connection]:
    """pytest-alembic's database: a fresh empty clone (a connection, as env.py expects)."""
    base = migration_ladder.reach(0)
    assert base is not None and base.template is not None
    with migration_ladder.connection(base.template) as connection:
        yield connection


def _figures(ladder: Ladder) -> dict[str, Any]:
    return {
        "revisions": len(ladder.order),
        "climbed": ladder.climbed,
        "seconds": ladder.build_seconds,
        "peak": ladder.peak_templates,
        "clones": list(ladder.clone_seconds),
    }


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line: revisions, how many were climbed and how fast, disk, clone cost.

    Under pytest-xdist it sums the workers: ``climbed`` equal to the revisions
    needed (not a multiple of it) is the sign the workers shared their templates.
    """
    config = terminalreporter.config
    ladder = config.stash.get(_LADDER, None)
    workers = config.stash.get(_WORKERS, [])
    runs = [_figures(ladder)] if ladder is not None else workers
    if not runs:
        return
    climbed = sum(r["climbed"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    clones = sorted(c for r in runs for c in r["clones"])
    per_db = clones[len(clones) // 2] if clones else 0.0
    per_revision = seconds / climbed if climbed else 0.0
    across = f" across {len(runs)} worker(s)" if ladder is None else ""
    terminalreporter.write_line(
        f"migration harness: {runs[0]['revisions']} revision(s), {climbed} climbed{across} in "
        f"{seconds:.2f}s ({per_revision * 1000:.0f} ms per revision), at most "
        f"{max(r['peak'] for r in runs)} template(s) kept, {len(clones)} test database(s) at "
        f"{per_db:.3f}s each (median clone)"
    )
