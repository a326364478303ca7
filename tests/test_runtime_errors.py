"""Bad input at run time: one clear paragraph, non-zero exit, database unchanged.

Connection-level cases (malformed URL, unreachable, wrong password, missing
database) live in test_bad_input.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from conventions.harness.scratch import run_cli
from conventions.runtime import explain
from conventions.runtime.limits import Limits
from tests.runtime_support import (
    MIGRATE,
    SEED_HEAD,
    add_revision,
    column_names,
    execute,
    history,
    rows,
    scalar,
    version,
)

SECRET = "Pa55-w0rd-never-shown"


def _fails_cleanly(argv: list[str], url: URL | str, cwd: Path) -> str:
    result = run_cli(argv, url=url, cwd=cwd)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output
    return output


def test_relation_missing_names_the_table(project_copy: Path, seeded_db: URL) -> None:
    add_revision(
        project_copy,
        "dd00000000d1",
        upgrade="""
            op.create_table('half_done', sa.Column('id', sa.Integer(), primary_key=True))
            op.add_column('Offers', sa.Column('x', sa.Integer()))
        """,
    )
    for argv in (MIGRATE, ["alembic", "upgrade", "head"]):
        output = _fails_cleanly(argv, seeded_db, project_copy)
        assert "Migration 20991231-runtime-test-dd00000000d1 failed and was rolled back" in output
        assert 'Relation does not exist: relation "Offers" does not exist' in output
        assert "Run earlier migrations first" in output
        assert "quoted names are case-sensitive" in output
        assert "renamed" in output
    assert version(seeded_db) == [SEED_HEAD]
    assert scalar(seeded_db, "SELECT to_regclass('half_done')") is None
    failures = [row for row in history(seeded_db) if not row[2]]
    assert len(failures) == 2 and all(rev == "dd00000000d1" for rev, *_ in failures)
    assert 'relation "Offers" does not exist' in failures[-1][3]


def test_constraint_violation_counts_offending_rows(project_copy: Path, seeded_db: URL) -> None:
    execute(
        seeded_db,
        "INSERT INTO customer_segments (id, name) VALUES (1, 'vip');"
        " INSERT INTO notification_campaigns (id, name, segment_id, campaign_type) VALUES"
        " (10, 'a', 1, 'lifecycle'), (11, 'b', 1, NULL), (12, 'c', 1, NULL)",
    )
    add_revision(
        project_copy,
        "dd00000000d2",
        upgrade="op.alter_column('notification_campaigns', 'campaign_type', nullable=False)",
    )
    output = _fails_cleanly(MIGRATE, seeded_db, project_copy)
    assert (
        'Constraint violation: column "campaign_type" of relation "notification_campaigns" '
        "contains null values — 2 existing row(s) offend, e.g. 11, 12. Nothing was changed."
    ) in output
    assert "data migration" in output
    assert version(seeded_db) == [SEED_HEAD]
    nullable = scalar(
        seeded_db,
        "SELECT is_nullable FROM information_schema.columns"
        " WHERE table_name = 'notification_campaigns' AND column_name = 'campaign_type'",
    )
    assert nullable == "YES"


def test_check_violation_samples_the_offending_values(project_copy: Path, seeded_db: URL) -> None:
    execute(
        seeded_db,
        "INSERT INTO offers (id, title, min_loyalty_tier) VALUES"
        " (1, 'a', 'gold'), (2, 'b', 'silver'), (3, 'c', 'silver'), (4, 'd', NULL)",
    )
    add_revision(
        project_copy,
        "dd00000000d3",
        upgrade="""
            name = op.f('ck_offers_min_loyalty_tier')
            op.drop_constraint(name, 'offers', type_='check')
            op.create_check_constraint(name, 'offers', "min_loyalty_tier IN ('gold', 'platinum')")
        """,
    )
    output = _fails_cleanly(MIGRATE, seeded_db, project_copy)
    assert 'check constraint "ck_offers_min_loyalty_tier" of relation "offers"' in output
    assert "— 2 existing row(s) offend, e.g. 'silver'. Nothing was changed." in output
    constraint = scalar(
        seeded_db,
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conname = 'ck_offers_min_loyalty_tier'",
    )
    assert "'bronze'" in constraint  # the old constraint is still there


def test_plain_foreign_key_violation_counts_the_orphans(project_copy: Path, seeded_db: URL) -> None:
    execute(
        seeded_db,
        "CREATE TABLE refs (id int PRIMARY KEY); CREATE TABLE uses (ref_id int);"
        " INSERT INTO refs VALUES (1); INSERT INTO uses VALUES (1), (7), (7), (9), (NULL)",
    )
    add_revision(
        project_copy,
        "dd00000000d5",
        upgrade="op.create_foreign_key('fk_uses_ref_id_refs', 'uses', 'refs', ['ref_id'], ['id'])",
    )
    output = _fails_cleanly(MIGRATE, seeded_db, project_copy)
    assert 'violates foreign key constraint "fk_uses_ref_id_refs"' in output
    assert "— 3 existing row(s) offend, e.g. 7, 9. Nothing was changed." in output
    fk = "SELECT count(*) FROM pg_constraint WHERE conname = 'fk_uses_ref_id_refs'"
    assert scalar(seeded_db, fk) == 0
    assert version(seeded_db) == [SEED_HEAD]


def test_a_failure_after_a_committed_validate_says_partly_applied_and_converges(
    project_copy: Path, seeded_db: URL
) -> None:
    execute(seeded_db, "INSERT INTO offers (id, title) VALUES (1, 'same'), (2, 'same'), (3, 'x')")
    add_revision(
        project_copy,
        "dd00000000d6",
        upgrade="""
            op.add_choice_column(
                'offers', 'channel', ['web', 'app'], server_default='web', nullable=False
            )
            op.create_unique_constraint('uq_offers_title', 'offers', ['title'])
        """,
    )
    output = _fails_cleanly(MIGRATE, seeded_db, project_copy)
    assert (
        "Migration 20991231-runtime-test-dd00000000d6 failed and was partly applied (work "
        "before ALTER TABLE offers VALIDATE CONSTRAINT ck_offers_channel was committed): "
        "Constraint violation: could not create unique index"
    ) in output
    assert "The house ops converge when re-run — fix the cause and run it again." in output
    assert "rolled back:" not in output and "Nothing of this migration was applied" not in output
    # What the message says was committed is there; the rest is not; no version moved.
    assert "channel" in column_names(seeded_db, "offers")
    validated = "SELECT convalidated FROM pg_constraint WHERE conname = 'ck_offers_channel'"
    assert scalar(seeded_db, validated) is True
    assert scalar(seeded_db, "SELECT to_regclass('uq_offers_title')") is None
    assert version(seeded_db) == [SEED_HEAD]
    assert "partly applied" in history(seeded_db)[-1][3]

    execute(seeded_db, "UPDATE offers SET title = 'other' WHERE id = 2")  # fix the cause
    again = run_cli(MIGRATE, url=seeded_db, cwd=project_copy)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Column offers.channel already exists, skipping" in again.stdout + again.stderr
    assert version(seeded_db) == ["dd00000000d6"]
    assert scalar(seeded_db, "SELECT to_regclass('uq_offers_title') IS NOT NULL") is True
    assert rows(seeded_db, "SELECT DISTINCT channel FROM offers") == [("web",)]


def test_a_house_op_refusing_after_a_commit_speaks_only_for_itself(
    project_copy: Path, seeded_db: URL
) -> None:
    execute(seeded_db, "INSERT INTO offers (id, title, loyalty_points_cost) VALUES (1, 'a', -5)")
    add_revision(
        project_copy,
        "dd00000000d7",
        upgrade="""
            op.add_choice_column('offers', 'channel', ['web', 'app'])
            op.add_check_constraint('cost', 'offers', 'loyalty_points_cost >= 0')
        """,
    )
    output = _fails_cleanly(MIGRATE, seeded_db, project_copy)
    assert (
        "failed and was partly applied (work before ALTER TABLE offers VALIDATE CONSTRAINT "
        "ck_offers_channel was committed): Cannot add constraint ck_offers_cost to offers: "
        "1 row(s) of offers fail CHECK (loyalty_points_cost >= 0) (e.g. '-5'). "
        "That operation changed nothing."
    ) in output
    assert "Nothing was changed" not in output
    assert (
        scalar(seeded_db, "SELECT count(*) FROM pg_constraint WHERE conname = 'ck_offers_cost'")
        == 0
    )


def test_giving_up_on_a_lock_after_a_commit_does_not_claim_nothing_was_applied() -> None:
    statement = "ALTER TABLE offers VALIDATE CONSTRAINT ck_offers_channel"
    busy = explain.table_busy(
        "m1",
        attempts=5,
        limits=Limits(),
        blockers=[],
        waiting_for="offers",
        committed_before=statement,
    )
    assert f"It was partly applied: work before {statement} was committed" in str(busy)
    assert "nothing was applied" not in str(busy)
    assert "The house ops converge when re-run" in str(busy)
    clean = explain.table_busy("m1", attempts=5, limits=Limits(), blockers=[], waiting_for="")
    assert "Each attempt was rolled back; nothing was applied." in str(clean)


@pytest.fixture
def role_on(fresh_db: URL) -> Iterator[URL]:
    """A login role with no privileges beyond CONNECT, and a password never to be shown."""
    role = f"limited_{uuid.uuid4().hex[:8]}"
    execute(fresh_db, f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'")
    try:
        yield fresh_db.set(username=role, password=SECRET)
    finally:
        execute(fresh_db, f"DROP OWNED BY {role}; DROP ROLE {role}")


@pytest.fixture
def limited_role(seeded_db: URL, role_on: URL) -> Iterator[URL]:
    """A role that may use the version and history tables but owns nothing."""
    role = role_on.username
    execute(
        seeded_db,
        f"GRANT SELECT, UPDATE ON alembic_version TO {role};"
        f" GRANT USAGE ON SCHEMA migration_meta TO {role};"
        f" GRANT SELECT, INSERT ON migration_meta.history TO {role}",
    )
    try:
        yield seeded_db.set(username=role, password=SECRET)
    finally:
        execute(seeded_db, f"DROP OWNED BY {role}")


def test_permission_denied_names_the_privilege(
    project_copy: Path, seeded_db: URL, limited_role: URL
) -> None:
    add_revision(
        project_copy,
        "dd00000000d4",
        upgrade="op.add_column('offers', sa.Column('x', sa.Integer()))",
    )
    output = _fails_cleanly(MIGRATE, limited_role, project_copy)
    role = limited_role.username
    assert "Permission denied: must be owner of table offers" in output
    assert f"(missing: ownership of table offers, for user {role})" in output
    assert f"ALTER TABLE offers OWNER TO {role};" in output
    assert SECRET not in output
    assert "x" not in column_names(seeded_db, "offers")
    assert version(seeded_db) == [SEED_HEAD]
    failure = rows(
        seeded_db,
        "SELECT revision, success, db_user, error FROM migration_meta.history"
        " ORDER BY id DESC LIMIT 1",
    )[0]
    assert failure[:3] == ("dd00000000d4", False, role)
    assert SECRET not in failure[3]


def test_permission_denied_before_any_migration(
    project_copy: Path, fresh_db: URL, role_on: URL
) -> None:
    output = _fails_cleanly(MIGRATE, role_on, project_copy)
    role, database = role_on.username, fresh_db.database
    assert "the runtime's bookkeeping (alembic_version, schema migration_meta) failed" in output
    assert f"Permission denied: permission denied for database {database}" in output
    assert f"GRANT CREATE ON DATABASE {database} TO {role};" in output
    assert SECRET not in output
    assert version(fresh_db) == []
    assert scalar(fresh_db, "SELECT to_regnamespace('migration_meta')") is None


def test_multiple_heads_are_named(project_copy: Path, seeded_db: URL) -> None:
    add_revision(
        project_copy,
        "ee00000000e1",
        upgrade="op.create_table('left_t', sa.Column('id', sa.Integer(), primary_key=True))",
    )
    add_revision(
        project_copy,
        "ee00000000e2",
        upgrade="op.create_table('right_t', sa.Column('id', sa.Integer(), primary_key=True))",
    )
    before = history(seeded_db)
    for argv in (MIGRATE, ["alembic", "upgrade", "head"]):
        output = _fails_cleanly(argv, seeded_db, project_copy)
        assert "Multiple heads: ee00000000e1, ee00000000e2" in output
        assert "alembic merge -m 'merge heads' ee00000000e1 ee00000000e2" in output
    assert version(seeded_db) == [SEED_HEAD]
    assert history(seeded_db) == before
    status = run_cli(["-m", "conventions", "status", "--check"], url=seeded_db, cwd=project_copy)
    assert status.returncode == 1
    assert "Heads:    ee00000000e1, ee00000000e2  ← multiple heads" in status.stdout


BROKEN_SYNTAX = '''"""a revision with a typo"""

from alembic import op

revision = "bb00000000b1"
down_revision = "5b8e1f4a7c02"


def upgrade() -> None:
    op.execute("SELECT 1"


def downgrade() -> None:
    pass
'''


def _assert_untouched(url: URL, before: list[tuple[object, ...]]) -> None:
    assert version(url) == [SEED_HEAD]
    assert history(url) == before


@pytest.mark.parametrize(
    "argv",
    [MIGRATE, ["alembic", "upgrade", "head"], ["alembic", "current"]],
    ids=["conventions-migrate", "alembic-upgrade", "alembic-current"],
)
def test_syntax_error_in_a_revision_names_file_and_line(
    project_copy: Path, seeded_db: URL, argv: list[str]
) -> None:
    broken = project_copy / "alembic" / "versions" / "20991231-typo.py"
    broken.write_text(BROKEN_SYNTAX)
    before = history(seeded_db)
    result = run_cli(argv, url=seeded_db, cwd=project_copy)
    output = result.stdout + result.stderr
    assert result.returncode == (1 if argv == MIGRATE else 255), output
    assert "Traceback" not in output
    assert (
        "Cannot load alembic/versions/20991231-typo.py, line 10: SyntaxError: '(' was never "
        'closed. Nothing was run.\n    op.execute("SELECT 1"'
    ) in output
    assert "python -m py_compile alembic/versions/20991231-typo.py" in output
    assert "bug in the tooling" not in output
    _assert_untouched(seeded_db, before)


def test_import_error_in_a_revision_names_the_import(project_copy: Path, seeded_db: URL) -> None:
    path = add_revision(project_copy, "bb00000000b2", upgrade="op.execute('SELECT 1')")
    path.write_text(path.read_text().replace("import os", "import no_such_module_xyz  # typo"))
    before = history(seeded_db)
    for argv in (MIGRATE, ["alembic", "upgrade", "head"]):
        output = _fails_cleanly(argv, seeded_db, project_copy)
        assert (
            f"Cannot load alembic/versions/{path.name}, line 3: ModuleNotFoundError: No module "
            "named 'no_such_module_xyz'. Nothing was run.\n    import no_such_module_xyz"
        ) in output
        assert "Install 'no_such_module_xyz' into the project's environment" in output
    _assert_untouched(seeded_db, before)


def test_broken_env_py_is_named_by_the_cli(project_copy: Path, seeded_db: URL) -> None:
    env_py = project_copy / "alembic" / "env.py"
    env_py.write_text(
        env_py.read_text().replace("from app.models import Base", "from app.modles import Base")
    )
    output = _fails_cleanly(MIGRATE, seeded_db, project_copy)
    assert (
        "Cannot load alembic/env.py, line 5: ModuleNotFoundError: No module named 'app.modles'"
    ) in output
    assert "bug in the tooling" not in output
    assert version(seeded_db) == [SEED_HEAD]


def test_broken_revision_traceback_only_when_asked(project_copy: Path, seeded_db: URL) -> None:
    (project_copy / "alembic" / "versions" / "20991231-typo.py").write_text(BROKEN_SYNTAX)
    asked = [
        (["-m", "conventions", "--traceback", "migrate"], {}),
        (MIGRATE, {"CONVENTIONS_TRACEBACK": "1"}),
        (["alembic", "--raiseerr", "upgrade", "head"], {}),
    ]
    for argv, env in asked:
        result = run_cli(argv, url=seeded_db, cwd=project_copy, env=env)
        assert result.returncode != 0
        assert "Traceback" in result.stderr, argv
        assert "SyntaxError" in result.stderr
    assert version(seeded_db) == [SEED_HEAD]
