"""Rollback never silently loses data, on real deployments (issue 11, 1-5).

Each downgrade here used to exit 0 (or fail blaming the migration) with data gone: a
role with a schema of its own, FORCE ROW LEVEL SECURITY, a type the downgrade drops, a
restore in the wrong order, names sized in characters instead of bytes. Each test checks
the message, the exit status and what the database holds afterwards. Migrations run as a
non-superuser role that owns its database (superusers bypass row-level security).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from conventions.harness.scratch import DatabaseFactory, connect, run_cli
from tests.runtime_support import add_revision, execute, rows, scalar, version


@dataclass
class RoleDb:
    admin: URL  # superuser on the database, for setting scenarios up
    url: URL  # the migrator: owner of the database, not a superuser
    role: str


@pytest.fixture
def role_db(db_factory: DatabaseFactory) -> Iterator[RoleDb]:
    role = f"own_{uuid.uuid4().hex[:8]}"
    admin = connect(db_factory.admin)
    with admin.cursor() as cur:
        cur.execute(f'CREATE ROLE "{role}" LOGIN')
    url = db_factory.create()
    with admin.cursor() as cur:
        cur.execute(f'ALTER DATABASE "{url.database}" OWNER TO "{role}"')
    admin.close()
    try:
        yield RoleDb(url, url.set(username=role), role)
    finally:
        db_factory.drop(url)
        admin = connect(db_factory.admin)
        with admin.cursor() as cur:
            cur.execute(f'DROP ROLE IF EXISTS "{role}"')
        admin.close()


def _cli(*args: str, url: URL, cwd: Path | None = None) -> tuple[int, str]:
    done = run_cli(["-m", "conventions", *args], url=url, cwd=cwd)
    return done.returncode, done.stdout + done.stderr


def _alembic(*args: str, url: URL, cwd: Path | None = None) -> tuple[int, str]:
    done = run_cli(["alembic", *args], url=url, cwd=cwd)
    return done.returncode, done.stdout + done.stderr


def _archives(url: URL) -> list[tuple[str, int, bool]]:
    done = run_cli(["-m", "conventions", "archive", "list", "--json"], url=url)
    assert done.returncode == 0, done.stderr
    return [(a["name"], a["rows"], a["present"]) for a in json.loads(done.stdout)]


def _archived_rows(url: URL, name: str) -> int:
    return int(scalar(url, f'SELECT count(*) FROM migration_archive."{name}"'))


# -- 1. a role with a schema of its own -------------------------------------------------


def test_a_role_with_its_own_schema_archives_the_table_the_drop_removes(role_db: RoleDb) -> None:
    code, out = _alembic("upgrade", "head", url=role_db.url)
    assert code == 0, out
    execute(
        role_db.admin,
        "INSERT INTO offers (title, min_loyalty_tier) VALUES ('a', 'gold'), ('b', 'silver');"
        " INSERT INTO business_sessions (business_id, session_token, expires_at)"
        " VALUES (1, 't1', now()), (2, 't2', now());"
        f' CREATE SCHEMA "{role_db.role}" AUTHORIZATION "{role_db.role}"',
    )
    offers = rows(role_db.admin, "SELECT id, min_loyalty_tier FROM offers ORDER BY id")
    code, out = _alembic("downgrade", "8b2e4d6f0a14", url=role_db.url)
    assert code == 0, out
    assert "Archived offers.min_loyalty_tier before dropping it: 2 row(s), 2 non-NULL" in out
    assert "Archived table business_sessions before dropping it: 2 row(s)" in out
    found = {name: count for name, count, _ in _archives(role_db.url)}
    assert found["offers__min_loyalty_tier__c4d8e2a61b29"] == 2
    assert found["business_sessions__1d9f7c3e5a01"] == 2
    assert _archived_rows(role_db.admin, "business_sessions__1d9f7c3e5a01") == 2
    listing = _cli("archive", "list", url=role_db.url)[1]
    assert "of public.offers.min_loyalty_tier" in listing  # the schema the drop resolved to
    # Back up, and the data goes back where it came from.
    execute(role_db.admin, f'DROP SCHEMA "{role_db.role}"')
    assert _alembic("upgrade", "head", url=role_db.url)[0] == 0
    names = [name for name, _, _ in _archives(role_db.url)]
    code, out = _cli("archive", "restore", *names, url=role_db.url)
    assert code == 0, out
    assert rows(role_db.admin, "SELECT id, min_loyalty_tier FROM offers ORDER BY id") == offers
    assert scalar(role_db.admin, "SELECT count(*) FROM business_sessions") == 2


# -- 2. row-level security ----------------------------------------------------------------

RLS_UPGRADE = """
    op.create_table('tenant_docs', sa.Column('id', sa.Integer, primary_key=True),
                    sa.Column('tenant', sa.Text, nullable=False), sa.Column('body', sa.Text))
    op.execute("ALTER TABLE tenant_docs ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tenant_docs FORCE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY only_mine ON tenant_docs"
               " USING (tenant = current_setting('app.tenant', true))")
"""


@pytest.mark.parametrize("dropped", ["table", "column"])
def test_forced_row_level_security_archives_every_row(
    project_copy: Path, role_db: RoleDb, dropped: str
) -> None:
    downgrade = (
        "op.drop_table('tenant_docs')"
        if dropped == "table"
        else "op.drop_column('tenant_docs', 'body')\nop.drop_table('tenant_docs')"
    )
    add_revision(project_copy, "aa00000000a2", upgrade=RLS_UPGRADE, downgrade=downgrade)
    assert _alembic("upgrade", "head", url=role_db.url, cwd=project_copy)[0] == 0
    execute(
        role_db.admin,
        "INSERT INTO tenant_docs SELECT g, CASE WHEN g <= 10 THEN 'a' ELSE 'b' END, 'doc ' || g"
        " FROM generate_series(1, 30) g",
    )
    if dropped == "column":
        # Only the column: the table stays, FORCE included, after the archive.
        add_revision(
            project_copy,
            "aa00000000a3",
            down="aa00000000a2",
            upgrade="pass",
            downgrade="op.drop_column('tenant_docs', 'body')",
        )
        assert _alembic("upgrade", "head", url=role_db.url, cwd=project_copy)[0] == 0
    code, out = _alembic("downgrade", "-1", url=role_db.url, cwd=project_copy)
    assert code == 0, out
    name = "tenant_docs__aa00000000a2" if dropped == "table" else "tenant_docs__body__aa00000000a3"
    assert _archived_rows(role_db.admin, name) == 30
    assert (name, 30, True) in _archives(role_db.url)
    if dropped == "column":
        assert scalar(
            role_db.admin,
            "SELECT relforcerowsecurity FROM pg_class WHERE oid = 'tenant_docs'::regclass",
        )
        assert scalar(role_db.admin, "SELECT count(*) FROM tenant_docs") == 30


TENANT_A = {"PGOPTIONS": "-c app.tenant=a"}  # the migrator's session passes for 10 of 30


def test_row_level_security_with_a_tenant_setting_archives_and_restores_every_row(
    project_copy: Path, role_db: RoleDb
) -> None:
    """A session the policy lets see 10 of 30 rows archives all 30 and restores all 30."""
    add_revision(
        project_copy,
        "aa00000000a2",
        upgrade=RLS_UPGRADE,
        downgrade="op.drop_column('tenant_docs', 'body')\nop.drop_table('tenant_docs')",
    )

    def alembic(*args: str) -> tuple[int, str]:
        done = run_cli(["alembic", *args], url=role_db.url, cwd=project_copy, env=TENANT_A)
        return done.returncode, done.stdout + done.stderr

    assert alembic("upgrade", "head")[0] == 0
    execute(
        role_db.admin,
        "INSERT INTO tenant_docs SELECT g, CASE WHEN g <= 10 THEN 'a' ELSE 'b' END, 'doc ' || g"
        " FROM generate_series(1, 30) g",
    )
    before = rows(role_db.admin, "SELECT id, tenant, body FROM tenant_docs ORDER BY id")
    code, out = alembic("downgrade", "-1")
    assert code == 0, out
    assert "Archived tenant_docs.body before dropping it: 30 row(s), 30 non-NULL" in out
    assert "Archived table tenant_docs before dropping it: 30 row(s)" in out
    assert scalar(role_db.admin, "SELECT to_regclass('tenant_docs')") is None
    assert _archived_rows(role_db.admin, "tenant_docs__aa00000000a2") == 30
    assert _archived_rows(role_db.admin, "tenant_docs__body__aa00000000a2") == 30
    # Back up (policy and FORCE again), then restore as the same tenant: every row back.
    assert alembic("upgrade", "head")[0] == 0
    done = run_cli(
        [
            "-m",
            "conventions",
            "archive",
            "restore",
            "tenant_docs__body__aa00000000a2",
            "tenant_docs__aa00000000a2",
        ],
        url=role_db.url,
        cwd=project_copy,
        env=TENANT_A,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Restored 30 row(s) from migration_archive.tenant_docs__aa00000000a2" in done.stderr
    assert "Restored 30 row(s) from migration_archive.tenant_docs__body__aa00000000a2" in (
        done.stderr
    )
    assert rows(role_db.admin, "SELECT id, tenant, body FROM tenant_docs ORDER BY id") == before
    assert scalar(
        role_db.admin,
        "SELECT relforcerowsecurity FROM pg_class WHERE oid = 'tenant_docs'::regclass",
    )
    assert all(_restored_at(role_db.admin).values())


# -- 3. a type the downgrade drops --------------------------------------------------------

TYPES_UPGRADE = """
    op.execute("CREATE DOMAIN amount AS numeric(10, 2) CHECK (VALUE >= 0)")
    op.execute("CREATE TYPE pay_state AS ENUM ('open', 'paid')")  # noqa: HSE007
    op.execute("CREATE TYPE card AS (brand text, last4 text)")
    op.execute("CREATE TABLE payments (id int PRIMARY KEY, total amount, state pay_state,"
               " card card, states pay_state[])")
    op.execute("INSERT INTO payments VALUES (1, 9.50, 'paid', ROW('visa', '4242'),"
               " ARRAY['open', 'paid']::pay_state[]), (2, 0, 'open', NULL, NULL)")
"""
TYPES_DOWNGRADE = """
    op.drop_column('payments', 'total')
    op.execute("DROP DOMAIN amount")
    op.drop_table('payments')
    op.execute("DROP TYPE pay_state")
    op.execute("DROP TYPE card")
"""


def test_an_archive_survives_the_types_the_downgrade_drops(
    project_copy: Path, role_db: RoleDb
) -> None:
    add_revision(project_copy, "aa00000000a4", upgrade=TYPES_UPGRADE, downgrade=TYPES_DOWNGRADE)
    assert _alembic("upgrade", "head", url=role_db.url, cwd=project_copy)[0] == 0
    before = rows(
        role_db.admin,
        "SELECT id, total::text, state::text, card::text, states::text FROM payments ORDER BY id",
    )
    code, out = _alembic("downgrade", "-1", url=role_db.url, cwd=project_copy)
    assert code == 0, out
    assert scalar(role_db.admin, "SELECT to_regtype('amount')") is None
    assert scalar(role_db.admin, "SELECT to_regtype('pay_state')") is None
    listed = _archives(role_db.url)
    assert ("payments__total__aa00000000a4", 2, True) in listed
    assert ("payments__aa00000000a4", 2, True) in listed
    comment = scalar(
        role_db.admin,
        "SELECT col_description('migration_archive.payments__aa00000000a4'::regclass, 2)",
    )
    assert comment == "original type: pay_state"
    # Upgrade again (the types come back), restore, and every value is as it was.
    assert _alembic("upgrade", "head", url=role_db.url, cwd=project_copy)[0] == 0
    execute(role_db.admin, "DELETE FROM payments")
    code, out = _cli(
        "archive",
        "restore",
        "payments__total__aa00000000a4",
        "payments__aa00000000a4",
        url=role_db.url,
        cwd=project_copy,
    )
    assert code == 0, out
    after = rows(
        role_db.admin,
        "SELECT id, total::text, state::text, card::text, states::text FROM payments ORDER BY id",
    )
    assert after == before


def test_archive_list_never_reports_rows_that_are_gone(project_copy: Path, role_db: RoleDb) -> None:
    add_revision(project_copy, "aa00000000a4", upgrade=TYPES_UPGRADE, downgrade=TYPES_DOWNGRADE)
    assert _alembic("upgrade", "head", url=role_db.url, cwd=project_copy)[0] == 0
    assert _alembic("downgrade", "-1", url=role_db.url, cwd=project_copy)[0] == 0
    execute(role_db.admin, 'DROP TABLE migration_archive."payments__aa00000000a4"')
    assert ("payments__aa00000000a4", 2, False) in _archives(role_db.url)
    listing = _cli("archive", "list", url=role_db.url)[1]
    assert "payments__aa00000000a4  MISSING (its table was dropped; the 2 row(s) are gone)" in (
        listing
    )
    code, out = _cli("archive", "restore", "payments__aa00000000a4", url=role_db.url)
    assert code == 1 and "is gone" in out


# -- 4. restore order -----------------------------------------------------------------------

FK_UPGRADE = """
    op.create_table('authors', sa.Column('id', sa.Integer, primary_key=True),
                    sa.Column('name', sa.Text))
    op.create_table('books', sa.Column('id', sa.Integer, primary_key=True),
                    sa.Column('author_id', sa.Integer, sa.ForeignKey('authors.id')),
                    sa.Column('note', sa.Text))
"""
FK_DOWNGRADE = """
    op.drop_column('books', 'note')
    op.drop_table('books')
    op.drop_table('authors')
"""
FK_ARCHIVES = ["books__note__aa00000000a5", "books__aa00000000a5", "authors__aa00000000a5"]


def _fk_scenario(project_copy: Path, role_db: RoleDb) -> list[tuple]:
    add_revision(project_copy, "aa00000000a5", upgrade=FK_UPGRADE, downgrade=FK_DOWNGRADE)
    assert _alembic("upgrade", "head", url=role_db.url, cwd=project_copy)[0] == 0
    execute(
        role_db.admin,
        "INSERT INTO authors VALUES (1, 'Ann'), (2, 'Bo');"
        " INSERT INTO books VALUES (1, 1, 'n1'), (2, 2, NULL), (3, 1, 'n3')",
    )
    before = rows(role_db.admin, "SELECT * FROM books ORDER BY id")
    assert _alembic("downgrade", "-1", url=role_db.url, cwd=project_copy)[0] == 0
    assert [n for n, _, _ in _archives(role_db.url)] == FK_ARCHIVES  # the order list prints
    assert _alembic("upgrade", "head", url=role_db.url, cwd=project_copy)[0] == 0
    return before


def _restored_at(url: URL) -> dict[str, bool]:
    found = rows(url, "SELECT archive_table, restored_at IS NOT NULL FROM migration_meta.archives")
    return dict(found)


def test_restoring_several_archives_puts_parents_first(project_copy: Path, role_db: RoleDb) -> None:
    before = _fk_scenario(project_copy, role_db)
    code, out = _cli("archive", "restore", *FK_ARCHIVES, url=role_db.url, cwd=project_copy)
    assert code == 0, out
    assert rows(role_db.admin, "SELECT * FROM books ORDER BY id") == before
    assert scalar(role_db.admin, "SELECT count(*) FROM authors") == 2
    assert all(_restored_at(role_db.admin).values())


def test_a_restore_that_can_restore_nothing_is_not_marked_restored(
    project_copy: Path, role_db: RoleDb
) -> None:
    _fk_scenario(project_copy, role_db)
    # The child table alone: its rows reference authors that are not back yet.
    code, out = _cli("archive", "restore", "books__aa00000000a5", url=role_db.url)
    assert code == 1
    assert "would break a foreign key" in out and "Restore the archive of the referenced" in out
    # The column alone, before its rows exist: nothing matches, so nothing is marked.
    code, out = _cli("archive", "restore", "books__note__aa00000000a5", url=role_db.url)
    assert code == 1
    assert "Nothing of books__note__aa00000000a5 could be restored" in out
    assert not any(_restored_at(role_db.admin).values())
    assert scalar(role_db.admin, "SELECT count(*) FROM books") == 0
    # The real restore is not refused afterwards.
    code, out = _cli("archive", "restore", *FK_ARCHIVES, url=role_db.url)
    assert code == 0, out
    assert scalar(role_db.admin, "SELECT count(*) FROM books WHERE note IS NOT NULL") == 2


# -- 5. long and multibyte names ------------------------------------------------------------

LONG = "t" * 70  # PostgreSQL keeps the first 63 bytes
UMLAUTS = "ö" * 30  # 30 characters, 60 bytes


def test_long_and_multibyte_names_archive_and_downgrade_twice(
    project_copy: Path, role_db: RoleDb
) -> None:
    add_revision(
        project_copy,
        "aa00000000a6",
        upgrade=f"""
            op.execute('CREATE TABLE "{LONG}" (id int PRIMARY KEY, "{UMLAUTS}" text)')
            op.execute('INSERT INTO "{LONG}" VALUES (1, \\'x\\'), (2, \\'y\\')')
        """,
        downgrade=f"""
            op.drop_column("{LONG}", "{UMLAUTS}")
            op.drop_table("{LONG}")
        """,
    )
    for _ in range(2):
        assert _alembic("upgrade", "head", url=role_db.url, cwd=project_copy)[0] == 0
        execute(
            role_db.admin,
            f"INSERT INTO \"{LONG[:63]}\" VALUES (1, 'x'), (2, 'y') ON CONFLICT DO NOTHING",
        )
        code, out = _alembic("downgrade", "-1", url=role_db.url, cwd=project_copy)
        assert code == 0, out
        assert version(role_db.url) == ["5b8e1f4a7c02"]
    names = [name for name, count, present in _archives(role_db.url) if present and count == 2]
    assert len(names) == 4  # two downgrades, a column and a table archive each
    assert all(len(name.encode()) <= 63 for name in names)
    assert len(set(names)) == 4
    stored = rows(role_db.admin, "SELECT source_table, source_column FROM migration_meta.archives")
    assert (LONG[:63], UMLAUTS) in stored and (LONG[:63], None) in stored
