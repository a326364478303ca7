"""The harness on a project that is not ours: a legacy history, and what it configures.

A foreign-shaped project is written into a temporary directory: its own plain
env.py (no house runtime), a legacy native ENUM in an old revision, a data
migration that a generated row breaks, a one-way revision, an association table
without a primary key that a later revision de-duplicates, and data migrations
that declare what they change. The harness runs on it as a user would run it
(``pytest`` in the project, its test module being the one line ``init`` writes),
and each outcome is asserted: passed, expected failure with the reason, or
failed with the reason — and only the tests that need the broken part.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from conventions.db.settings import database_url
from conventions.harness import (
    HarnessSettings,
    Ladder,
    Project,
    ScratchServer,
    Seeder,
    TableRows,
)
from conventions.harness.declarations import check_entries, data_change
from conventions.harness.failures import RevisionFailsOnHarnessRows
from conventions.harness.scratch import run_cli, url_text
from conventions.harness.settings import HarnessConfigError

ENV_PY = '''\
"""A plain env.py, as in most projects: no house runtime."""
from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
'''

ALEMBIC_INI = "[alembic]\nscript_location = alembic\n"

#: stem, upgrade SQL, downgrade SQL, extra module source
REVISIONS = [
    (
        "20240101-services-and-tags",
        """CREATE TYPE service_kind AS ENUM ('web', 'worker');
           CREATE TABLE services (id serial PRIMARY KEY, name text NOT NULL,
                                  port text NOT NULL, kind service_kind NOT NULL);
           CREATE TABLE tags (id serial PRIMARY KEY, label text NOT NULL);
           CREATE TABLE service_tags (service_id int NOT NULL REFERENCES services (id),
                                      tag_id int NOT NULL REFERENCES tags (id))""",
        "DROP TABLE service_tags; DROP TABLE tags; DROP TABLE services; DROP TYPE service_kind",
        "",
    ),
    (
        "20240102-port-becomes-a-number",
        "ALTER TABLE services ALTER COLUMN port TYPE integer USING port::integer",
        "ALTER TABLE services ALTER COLUMN port TYPE text",
        "",
    ),
    (
        "20240103-index-service-names",
        "CREATE INDEX ix_services_name ON services (name)",
        "DROP INDEX CONCURRENTLY ix_services_name",  # the known bug: not in a transaction
        "",
    ),
    (
        "20240104-deduplicate-service-tags",
        """DELETE FROM service_tags a USING service_tags b
           WHERE a.ctid < b.ctid AND a.service_id = b.service_id AND a.tag_id = b.tag_id;
           ALTER TABLE service_tags ADD CONSTRAINT pk_service_tags
               PRIMARY KEY (service_id, tag_id)""",
        "ALTER TABLE service_tags DROP CONSTRAINT pk_service_tags",
        "",
    ),
    (
        "20240105-names-in-capitals",
        "UPDATE services SET name = upper(name)",
        "SELECT 1",
        'harness_data_changes = {"services": ["name"]}\n',
    ),
    (
        "20240106-drop-unused-tags",
        "DELETE FROM tags WHERE id NOT IN (SELECT tag_id FROM service_tags)",
        "SELECT 1",
        "",
    ),
    (
        "20240107-add-mood",
        "CREATE TYPE mood AS ENUM ('calm', 'busy'); ALTER TABLE services ADD COLUMN mood mood",
        "ALTER TABLE services DROP COLUMN mood; DROP TYPE mood",
        "",
    ),
]

CONFIG = """\
[tool.conventions.harness]
legacy_enums = ["service_kind"]
legacy_until = "20240104-deduplicate-service-tags"

[tool.conventions.harness.one_way]
"20240103-index-service-names" = "downgrade drops the index CONCURRENTLY in a transaction (T-12)"

[tool.conventions.harness.data_changes]
"20240106-drop-unused-tags" = {tags = "rows"}
"""


def rev_id(n: int) -> str:
    return f"f0e1d2c3b4{n:02d}"


def write_project(root: Path, config: str = CONFIG) -> Path:
    """Write the foreign project (alembic.ini, alembic/env.py, versions, tests)."""
    versions = root / "alembic" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text(ALEMBIC_INI)
    (root / "alembic" / "env.py").write_text(ENV_PY)
    (root / "pyproject.toml").write_text(config)
    for n, (stem, up, down, extra) in enumerate(REVISIONS, start=1):
        down_rev = repr(rev_id(n - 1)) if n > 1 else "None"
        (versions / f"{stem}.py").write_text(
            f'"""{stem}"""\nfrom alembic import op\n\n'
            f"revision = {rev_id(n)!r}\ndown_revision = {down_rev}\n{extra}\n\n"
            f"def upgrade():\n    op.execute({textwrap.dedent(up)!r})\n\n\n"
            f"def downgrade():\n    op.execute({down!r})\n"
        )
    tests = root / "tests"
    tests.mkdir()
    (tests / "conftest.py").write_text('pytest_plugins = ["conventions.harness.plugin"]\n')
    (tests / "test_migrations.py").write_text("from conventions.harness.suite import *  # noqa\n")
    return root


def run_harness(root: Path, *args: str) -> tuple[dict[str, str], str]:
    """Run pytest in the project; return {test id: outcome} and the whole output."""
    result = run_cli(
        [
            *("-m", "pytest", "-rA", "-p", "no:cacheprovider", "-W", "error", "--tb=line"),
            *("-k", "not models_match", *args, "tests/test_migrations.py"),
        ],
        url=url_text(database_url()),
        cwd=root,
        env={"CONVENTIONS_ROOT": str(root)},
        timeout=600,
    )
    out = result.stdout + result.stderr
    outcomes = {}
    for line in out.splitlines():
        found = re.match(r"(PASSED|FAILED|XFAIL|XPASS|ERROR) tests/test_migrations.py::(\S+)", line)
        if found:
            outcomes[found.group(2)] = found.group(1)
    assert outcomes, out
    return outcomes, out


def scratch_databases() -> set[str]:
    server = ScratchServer()
    try:
        return set(server.databases("hm"))
    finally:
        server.close()


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["one-process", "xdist-2-workers"])
def test_legacy_history_fails_only_where_it_should_with_the_reasons(
    tmp_path: Path, workers: tuple[str, ...]
) -> None:
    root = write_project(tmp_path / "legacy")
    before = scratch_databases()
    outcomes, out = run_harness(root, *workers)

    # A generated row breaks the data migration at 20240102: its tests, and only those, fail.
    broken = "20240102-port-becomes-a-number"
    for test in ("restores_schema", "keeps_data", "upgrade_is_idempotent"):
        assert outcomes.pop(next(t for t in outcomes if test in t and broken in t)) == "FAILED"
    reason = (
        "RevisionFailsOnHarnessRows: Cannot test 20240102-port-becomes-a-number (f0e1d2c3b402) "
        "with data: its upgrade fails on the rows the harness put in the tables (invalid input "
        'syntax for type integer: "generated services.port '
    )
    # Once per failing test in its --tb=line traceback; the -rA summary lines are cut to the
    # terminal width (which depends on the path's length), so they are not counted.
    tracebacks = [
        line for line in out.splitlines() if reason in line and not line.startswith("FAILED")
    ]
    assert len(tracebacks) == 3, out
    assert outcomes.pop("test_upgrade_one_revision_at_a_time_with_data") == "FAILED"
    assert (
        "revisions that upgrade only without the harness's rows: "
        + ("20240102-port-becomes-a-number (f0e1d2c3b402)")
        in out
    )

    # The one-way revision is an expected failure, with the reason from the configuration.
    one_way = "20240103-index-service-names"
    for test in ("test_round_trip_restores_schema", "test_round_trip_keeps_data"):
        assert outcomes.pop(f"{test}[{one_way}]") == "XFAIL", out
        assert (
            f"XFAIL tests/test_migrations.py::{test}[{one_way}] - one-way revision "
            "(allow-listed): downgrade drops the index CONCURRENTLY in a transaction (T-12)"
        ) in out

    # The legacy ENUM passes its own test; the new one fails it, named; round trips do not.
    assert outcomes.pop("test_no_native_enum[20240107-add-mood]") == "FAILED"
    assert (
        "Native ENUM type(s) exist after 20240107-add-mood (f0e1d2c3b407): "
        + ("public.mood ('calm', 'busy')")
        in out
    )
    assert "service_kind (" not in out  # legacy: never reported

    # Legacy revisions (up to legacy_until) break the idempotency convention: reported, with
    # what broke; the first revision after it that breaks it fails.
    for stem in ("20240101-services-and-tags", "20240103-index-service-names"):
        assert outcomes.pop(f"test_upgrade_is_idempotent[{stem}]") == "XFAIL", out
    assert (
        "XFAIL tests/test_migrations.py::test_upgrade_is_idempotent[20240103-index-service-names]"
        " - legacy revision (legacy_until = 20240104-deduplicate-service-tags): written before "
        "the conventions: Upgrade of 20240103-index-service-names (f0e1d2c3b403) is not "
        "idempotent: re-running it on top of itself failed: (psycopg2.errors.DuplicateTable) "
        'relation "ix_services_name" already exists'
    ) in out, out
    assert outcomes.pop("test_upgrade_is_idempotent[20240104-deduplicate-service-tags]") == "XFAIL"
    assert outcomes.pop("test_upgrade_is_idempotent[20240107-add-mood]") == "FAILED"
    assert 'type "mood" already exists' in out

    # Everything else passes: the dedup, the declared data changes, the round trips after 02,
    # up-down consistency (stopping above the one-way revision), single head, empty to head.
    assert set(outcomes.values()) == {"PASSED"}, {k: v for k, v in outcomes.items()}
    for stem, *_ in REVISIONS:
        assert f"test_round_trip_keeps_data[{stem}]" in outcomes or stem in (broken, one_way)
    assert "test_up_down_consistency" in outcomes
    # Each revision climbed once, also with two workers: they share the templates, and the
    # run leaves no database behind.
    across = " across 2 worker\\(s\\)" if workers else ""
    assert re.search(rf"migration harness: 7 revision\(s\), 7 climbed{across} in [\d.]+s", out), out
    assert "test_upgrade_is_idempotent[20240105-names-in-capitals]" in outcomes
    assert scratch_databases() <= before
    # One process: each rung is dropped once its tests ran (the whole climb runs last), so
    # the disk holds a couple of templates, never one per revision (8 rungs here).
    kept = int(re.search(r"at most (\d+) template\(s\) kept", out)[1])  # type: ignore[index]
    if not workers:
        assert kept <= 3, out


def test_shaped_rows_fix_the_data_migration_and_k_climbs_only_as_far_as_needed(
    tmp_path: Path,
) -> None:
    config = CONFIG + '\n[tool.conventions.harness.tables.services]\nvalues = {port = "8080"}\n'
    root = write_project(tmp_path / "shaped", config)
    outcomes, out = run_harness(root, "-k", "20240102")  # the last -k wins
    assert outcomes == {
        "test_round_trip_restores_schema[20240102-port-becomes-a-number]": "PASSED",
        "test_round_trip_keeps_data[20240102-port-becomes-a-number]": "PASSED",
        "test_no_native_enum[20240102-port-becomes-a-number]": "PASSED",
        "test_upgrade_is_idempotent[20240102-port-becomes-a-number]": "PASSED",
    }, out
    # Rungs 1 and 2 only (before and after the selected revision), not all seven.
    assert re.search(r"migration harness: 7 revision\(s\), 2 climbed in", out), out


# --- in-process: the pieces the runs above rely on ---------------------------------------


@pytest.fixture
def server() -> ScratchServer:
    scratch = ScratchServer()
    yield scratch
    scratch.close()


def test_rows_switched_off_for_a_table_let_the_migration_pass(
    tmp_path: Path, server: ScratchServer
) -> None:
    root = write_project(tmp_path / "off")
    project = Project(root)
    on = Ladder(project, server, Seeder({}, HarnessSettings.load(root)))
    with pytest.raises(RevisionFailsOnHarnessRows) as caught:
        on.before(rev_id(2))
    assert caught.value.revision == "20240102-port-becomes-a-number (f0e1d2c3b402)"
    assert on.climbed == 2 and on.broken is None
    assert on.rungs[2].without_rows is not None
    on.close()

    off = HarnessSettings.load(root).replace(tables={"services": TableRows(generate=False)})
    ladder = Ladder(project, server, Seeder({}, off))
    with ladder.before(rev_id(2)) as connection:
        assert connection.execute(text("SELECT count(*) FROM services")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM tags")).scalar() == 1
    assert ladder.seeder.skipped["public.services"] == (
        "generated rows are switched off for this table"
    )
    ladder.close()


def test_a_rung_no_test_needs_is_dropped_and_climbed_again_if_asked_for(
    tmp_path: Path, server: ScratchServer
) -> None:
    root = write_project(tmp_path / "prune")
    ladder = Ladder(Project(root), server, Seeder({}, HarnessSettings.load(root)), prune=True)
    ladder.expect(2)  # one test will clone the rung before revision 3
    ladder.reach(5)
    # Only the counted rung and the top one (the climb goes on from it) are left.
    assert sorted(i for i, rung in ladder.rungs.items() if rung.template) == [2, 5]
    assert set(ladder.templates.values()) <= set(server.databases(ladder.prefix))
    assert ladder.peak_templates == 2
    assert ladder.after(rev_id(1)).enums is not None  # its facts outlive its template
    exists = text("SELECT to_regclass('services') IS NOT NULL")
    with ladder.connection(ladder.template_before(rev_id(3))) as connection:
        assert connection.execute(exists).scalar()
    # A rung nobody announced is climbed to again rather than cloned from a dropped one.
    with ladder.connection(ladder.template_before(rev_id(2))) as connection:
        assert connection.execute(exists).scalar()
    assert ladder.climbed == 5 + 1
    ladder.close()


def test_generated_rows_in_a_table_without_key_are_never_identical(engine: Engine) -> None:
    """A reshaped association table gets a new row only if it differs from every other."""
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a VALUES (1), (2);
                CREATE TABLE b (id int PRIMARY KEY); INSERT INTO b VALUES (7);
                CREATE TABLE ab (a_id int NOT NULL REFERENCES a, b_id int NOT NULL REFERENCES b);
                """
            )
        )
    seeder = Seeder()
    pairs = "SELECT a_id, b_id FROM ab ORDER BY 1"
    with engine.connect() as conn:
        seeder.fill(conn)
        conn.execute(
            text("TRUNCATE a, b CASCADE; INSERT INTO a VALUES (1), (2); INSERT INTO b VALUES (7)")
        )
        conn.execute(text("INSERT INTO ab VALUES (1, 7)"))
        conn.commit()
        conn.execute(text("ALTER TABLE ab ALTER COLUMN b_id TYPE bigint"))
        seeder.fill(conn)  # (1, 7) is there: the next referenced row of a is taken
        assert conn.execute(text(pairs)).all() == [(1, 7), (2, 7)]
        conn.execute(text("ALTER TABLE ab ALTER COLUMN a_id TYPE bigint"))
        seeder.fill(conn)  # every pair exists: no duplicate is inserted
        assert conn.execute(text(pairs)).all() == [(1, 7), (2, 7)]
    assert seeder.skipped["public.ab"] == "every row it could generate duplicates one already there"


def test_stale_and_malformed_configuration_is_an_error_naming_the_key(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "stale", CONFIG + '\n[tool.conventions.harness.tables.x]\ngenerate = "maybe"\n'
    )
    with pytest.raises(HarnessConfigError) as caught:
        HarnessSettings.load(root)
    assert str(caught.value).startswith(
        "[tool.conventions.harness] tables.x.generate: expected true or false, got 'maybe'."
    )
    settings = HarnessSettings(one_way={"deadbeef0000": "gone"})
    with pytest.raises(HarnessConfigError) as stale:
        check_entries(settings, Project(root))
    assert "one_way.deadbeef0000: names no revision of the project" in str(stale.value)
    blank = '[tool.conventions.harness.one_way]\nabc = " "\n'
    with pytest.raises(HarnessConfigError) as empty:
        HarnessSettings.load(write_project(tmp_path / "empty", blank))
    assert "every one-way revision needs its reason" in str(empty.value)


def test_declared_data_change_merges_the_file_and_the_configuration(tmp_path: Path) -> None:
    root = write_project(tmp_path / "declared")
    project, settings = Project(root), HarnessSettings.load(root)
    assert data_change(settings, project, rev_id(5)) == {"public.services": ("name",)}
    assert data_change(settings, project, rev_id(6)) == {"public.tags": "rows"}
    assert data_change(settings, project, rev_id(1)) == {}


def test_the_module_init_writes_collects_under_strict_markers(tmp_path: Path) -> None:
    """init's module loads the plugin itself; the suite's markers must not need it first."""
    from importlib import resources

    root = write_project(tmp_path / "strict")
    (root / "tests" / "conftest.py").unlink()
    template = resources.files("conventions").joinpath("templates", "test_migrations.py")
    (root / "tests" / "test_migrations.py").write_text(template.read_text("utf-8"))
    (root / "pyproject.toml").write_text(
        CONFIG + '\n[tool.pytest.ini_options]\naddopts = "--strict-markers"\n'
    )
    outcomes, out = run_harness(root, "-k", "keeps_data and 20240101")
    assert "not found in `markers` configuration option" not in out
    assert list(outcomes.values()) == ["PASSED"], out
    MARK = "harness_climbs_all"  # the tags are markers still: -m selects by them
    marked = run_cli(
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only", "tests", "-m", MARK],
        url=url_text(database_url()),
        cwd=root,
        env={"CONVENTIONS_ROOT": str(root)},
    )
    assert "test_upgrade_one_revision_at_a_time_with_data" in marked.stdout, marked.stdout
    assert "1/" in marked.stdout and "tests collected" in marked.stdout, marked.stdout
