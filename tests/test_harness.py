"""The migration harness itself: it catches what it promises to catch, naming names.

Faulty revisions are written into a scratch copy of the project (``project_copy``)
and the harness is run on that copy: in-process for the precise assertions, and
once as a real ``pytest`` run of tests/test_migrations.py, which is what
``make test`` would show a user.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from conventions.db.settings import database_url
from conventions.errors import MultipleHeads
from conventions.harness import (
    IGNORED,
    HarnessSettings,
    Ladder,
    Project,
    ScratchServer,
    Seeder,
    Snapshot,
    check_data_survives,
    check_idempotent,
    check_no_native_enum,
    check_round_trip,
    check_single_head,
    diff,
    setup_seconds,
    take_snapshot,
)
from conventions.harness.failures import (
    DataNotPreserved,
    NativeEnumFound,
    SchemaNotRestored,
    UpgradeNotIdempotent,
)
from conventions.harness.rows import TableRows, compare_rows, read_rows
from conventions.harness.scratch import run_cli, url_text
from conventions.harness.seed_data import SeedRowRejected
from tests.data.seed_rows import SEED_ROWS

ROOT = Path(__file__).resolve().parents[1]
PENDING = "SELECT id FROM wallet_notifications WHERE delivery_status = 'pending' ORDER BY id"


# --- helpers ---------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[ScratchServer]:
    scratch = ScratchServer()
    try:
        yield scratch
    finally:
        scratch.close()


def add_revision(
    project: Path, stem: str, revision: str, down: str, upgrade: str, downgrade: str
) -> str:
    """Write a revision file into a project copy; return its id."""

    def body(code: str) -> str:
        return textwrap.indent(code.strip(), "    ")

    source = (
        f'"""{stem} (a scratch revision written by tests/test_harness.py)\n\n'
        f'Revision ID: {revision}\nRevises: {down}\n"""\n\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {revision!r}\ndown_revision = {down!r}\n"
        "branch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade() -> None:\n{body(upgrade)}\n\n\n"
        f"def downgrade() -> None:\n{body(downgrade)}\n"
    )
    (project / "alembic" / "versions" / f"{stem}.py").write_text(source)
    return revision


def head_of(project: Path) -> str:
    (head,) = Project(project).heads()
    return head


def ladder_on(project: Path, server: ScratchServer) -> Ladder:
    ladder = Ladder(Project(project), server, Seeder(SEED_ROWS)).build()
    assert ladder.broken is None, ladder.broken
    return ladder


# --- the three faults the issue names ---------------------------------------------------


def test_downgrade_that_forgets_a_column_fails_naming_revision_and_column(
    project_copy: Path, server: ScratchServer
) -> None:
    rev = add_revision(
        project_copy,
        "20991201-add-promo-code-to-offers",
        "f00dfeed0001",
        head_of(project_copy),
        'op.add_column("offers", sa.Column("promo_code", sa.String(20)))\n'
        'op.create_index("ix_offers_promo_code", "offers", ["promo_code"])',
        'op.drop_index("ix_offers_promo_code", table_name="offers")\n'
        "# forgot: op.drop_column('offers', 'promo_code')",
    )
    ladder = ladder_on(project_copy, server)
    with ladder.before(rev) as connection, pytest.raises(SchemaNotRestored) as caught:
        check_round_trip(ladder.project, connection, rev)
    failure = caught.value
    assert failure.revision == "20991201-add-promo-code-to-offers (f00dfeed0001)"
    assert [d.key for d in failure.differences] == ["column public.offers.promo_code"]
    assert [d.verdict for d in failure.differences] == ["left behind"]
    assert "Downgrade of 20991201-add-promo-code-to-offers (f00dfeed0001) does not restore" in str(
        failure
    )
    assert "left behind: column public.offers.promo_code — character varying(20) NULL" in str(
        failure
    )


def test_migration_that_loses_rows_fails_naming_revision_table_and_rows(
    project_copy: Path, server: ScratchServer
) -> None:
    rev = add_revision(
        project_copy,
        "20991202-clean-up-pending-notifications",
        "f00dfeed0002",
        head_of(project_copy),
        "op.execute(\"DELETE FROM wallet_notifications WHERE delivery_status = 'pending'\")",
        "pass",
    )
    ladder = ladder_on(project_copy, server)
    with ladder.before(rev) as connection:
        pending = connection.execute(text(PENDING)).scalars().all()
        total = connection.execute(text("SELECT count(*) FROM wallet_notifications")).scalar()
        connection.rollback()
        assert pending, "the seed data should include pending notifications"
        with pytest.raises(DataNotPreserved) as caught:
            check_data_survives(ladder.project, connection, rev)
    message = str(caught.value)
    assert caught.value.revision == "20991202-clean-up-pending-notifications (f00dfeed0002)"
    assert "Round trip of 20991202-clean-up-pending-notifications (f00dfeed0002)" in message
    ids = ", ".join(f"id={i}" for i in pending[:5])
    assert (
        f"public.wallet_notifications: upgrade lost {len(pending)} of {total} row(s): {ids}"
        in message
    )
    stages = [(stage, changes.table) for stage, changes in caught.value.problems]
    assert stages == [
        ("upgrade", "public.wallet_notifications"),
        ("downgrade", "public.wallet_notifications"),
    ]


def test_round_trip_that_truncates_values_fails_though_the_schema_is_restored(
    project_copy: Path, server: ScratchServer
) -> None:
    rev = add_revision(
        project_copy,
        "20991209-shorten-offer-titles",
        "f00dfeed0010",
        head_of(project_copy),
        'op.alter_column("offers", "title", type_=sa.String(12),'
        ' postgresql_using="left(title, 12)")',
        'op.alter_column("offers", "title", type_=sa.String(200))',
    )
    ladder = ladder_on(project_copy, server)
    with ladder.before(rev) as connection:
        check_round_trip(ladder.project, connection, rev)  # the schema comes back exactly
    with ladder.before(rev) as connection, pytest.raises(DataNotPreserved) as caught:
        check_data_survives(ladder.project, connection, rev)
    (stage, changes), *_ = caught.value.problems
    assert (stage, changes.table, changes.lost) == ("downgrade", "public.offers", [])
    assert "id=1: title '10% off, this week only' -> '10% off, thi'" in changes.changed
    assert "public.offers: downgrade changed" in str(caught.value)


def test_model_change_without_migration_fails_the_test_module(
    project_copy: Path, server: ScratchServer
) -> None:
    """`make test` in a project with all three faults: each fails, naming revision and object."""
    head = head_of(project_copy)
    add_revision(
        project_copy,
        "20991201-add-promo-code-to-offers",
        "f00dfeed0001",
        head,
        'op.add_column("offers", sa.Column("promo_code", sa.String(20)))',
        "pass  # forgot to drop offers.promo_code",
    )
    add_revision(
        project_copy,
        "20991202-clean-up-pending-notifications",
        "f00dfeed0002",
        "f00dfeed0001",
        "op.execute(\"DELETE FROM wallet_notifications WHERE delivery_status = 'pending'\")",
        "pass",
    )
    models = project_copy / "app" / "models"
    (models / "referrals.py").write_text(
        textwrap.dedent(
            """\
            from sqlalchemy import BigInteger, String
            from sqlalchemy.orm import Mapped, mapped_column

            from app.models.base import Base


            class Referral(Base):
                __tablename__ = "referrals"

                id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
                code: Mapped[str] = mapped_column(String(32))
            """
        )
    )
    with (models / "__init__.py").open("a") as init:
        init.write("from app.models.referrals import Referral  # noqa: E402,F401\n")
    shutil.copytree(
        ROOT / "tests", project_copy / "tests", ignore=shutil.ignore_patterns("__pycache__")
    )
    revisions = len(Project(project_copy).revisions())

    result = run_cli(
        [
            *("-m", "pytest", "-q", "--tb=short", "-p", "no:cacheprovider", "-W", "error"),
            *("-k", "round_trip or models_match", "tests/test_migrations.py"),
        ],
        url=url_text(database_url()),
        cwd=project_copy,
        env={"CONVENTIONS_ROOT": str(project_copy)},
        timeout=300,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    failed = {line.split("::")[1].split(" ")[0] for line in out.splitlines() if "FAILED" in line}
    assert "test_round_trip_restores_schema[20991201-add-promo-code-to-offers]" in failed
    assert "test_round_trip_keeps_data[20991202-clean-up-pending-notifications]" in failed
    assert "test_models_match_database_at_head" in failed
    # The sample history itself round-trips and keeps its data.
    assert not {f for f in failed if f.startswith("test_round_trip") and "2099" not in f}, failed
    assert "left behind: column public.offers.promo_code — character varying(20) NULL" in out, out
    assert "public.wallet_notifications: upgrade lost" in out
    assert "Models and the database migrated to head 20991202-clean-up-pending-notifications" in out
    assert "op.create_table('referrals'" in out
    assert f"migration harness: {revisions} revision(s)" in out


# --- the other promises ----------------------------------------------------------------


def test_idempotency_check_fails_on_plain_ops_and_passes_on_converging_sql(
    project_copy: Path, server: ScratchServer
) -> None:
    plain = add_revision(
        project_copy,
        "20991203-add-promo-code-plainly",
        "f00dfeed0003",
        head_of(project_copy),
        'op.add_column("offers", sa.Column("promo_code", sa.String(20)))',
        'op.drop_column("offers", "promo_code")',
    )
    unnamed = add_revision(
        project_copy,
        "20991204-index-titles-without-a-name",
        "f00dfeed0004",
        plain,
        'op.execute("CREATE INDEX ON offers (title)")',
        'op.execute("DROP INDEX offers_title_idx")',
    )
    converging = add_revision(
        project_copy,
        "20991205-add-referral-code-if-missing",
        "f00dfeed0005",
        unnamed,
        'op.execute("ALTER TABLE offers ADD COLUMN IF NOT EXISTS referral_code varchar(20)")',
        'op.execute("ALTER TABLE offers DROP COLUMN IF EXISTS referral_code")',
    )
    ladder = ladder_on(project_copy, server)
    with ladder.before(plain) as connection, pytest.raises(UpgradeNotIdempotent) as erred:
        check_idempotent(ladder.project, connection, plain)
    assert erred.value.revision == "20991203-add-promo-code-plainly (f00dfeed0003)"
    assert 'column "promo_code" of relation "offers" already exists' in str(erred.value)
    assert "re-running it on top of itself failed" in str(erred.value)

    with ladder.before(unnamed) as connection, pytest.raises(UpgradeNotIdempotent) as drifted:
        check_idempotent(ladder.project, connection, unnamed)
    assert [d.describe() for d in drifted.value.differences] == [
        "left behind: index public.offers_title_idx1 — CREATE INDEX offers_title_idx1 ON "
        "public.offers USING btree (title)"
    ]

    with ladder.before(converging) as connection:
        check_idempotent(ladder.project, connection, converging)
    with ladder.before(converging) as connection:
        check_round_trip(ladder.project, connection, converging)


def test_native_enum_is_reported_by_its_own_check_not_the_round_trip(
    project_copy: Path, server: ScratchServer
) -> None:
    rev = add_revision(
        project_copy,
        "20991206-add-mood-enum",
        "f00dfeed0006",
        head_of(project_copy),
        "op.execute(\"CREATE TYPE mood AS ENUM ('happy', 'it''s complicated')\")",
        'op.execute("DROP TYPE mood")',
    )
    ladder = ladder_on(project_copy, server)
    with ladder.before(rev) as connection:
        check_round_trip(ladder.project, connection, rev)  # the round trip itself is fine
    label = ladder.project.label(rev)
    after = ladder.after(rev).enums
    with pytest.raises(NativeEnumFound) as caught:
        check_no_native_enum(label, after, before=ladder.reach(ladder.index(rev)).enums)
    assert caught.value.types == {"public.mood": "'happy', 'it''s complicated'"}
    assert "Native ENUM type(s) exist after 20991206-add-mood-enum (f00dfeed0006)" in str(
        caught.value
    )
    assert "op.add_choice_column" in str(caught.value)
    # Listed as legacy, it passes; and a revision that only keeps it is never blamed.
    check_no_native_enum(
        label, after, legacy=HarnessSettings(legacy_enums=("mood",)).is_legacy_enum
    )
    check_no_native_enum("later", after, before=after)


def test_archived_data_and_bookkeeping_do_not_count_as_left_behind(
    project_copy: Path, server: ScratchServer
) -> None:
    rev = add_revision(
        project_copy,
        "20991207-add-nickname",
        "f00dfeed0007",
        head_of(project_copy),
        'op.add_column("customer_segments", sa.Column("nickname", sa.Text()))\n'
        "op.execute(\"UPDATE customer_segments SET nickname = 'nick ' || id\")",
        'op.execute("CREATE SCHEMA IF NOT EXISTS migration_archive")\n'
        'op.execute("CREATE TABLE migration_archive.customer_segments_nickname AS '
        'SELECT id, nickname FROM customer_segments")\n'
        'op.execute("CREATE SCHEMA IF NOT EXISTS migration_meta")\n'
        'op.execute("CREATE TABLE migration_meta.harness_note (id serial primary key)")\n'
        'op.execute("INSERT INTO migration_meta.harness_note DEFAULT VALUES")\n'
        'op.drop_column("customer_segments", "nickname")',
    )
    ladder = ladder_on(project_copy, server)
    with ladder.before(rev) as connection:
        check_round_trip(ladder.project, connection, rev)
    with ladder.before(rev) as connection:
        check_data_survives(ladder.project, connection, rev)


def test_multiple_heads_fail_with_the_merge_hint(project_copy: Path) -> None:
    from pytest_alembic import Config, runner

    head = head_of(project_copy)
    add_revision(project_copy, "20991208-left", "f00dfeed0008", head, "pass", "pass")
    add_revision(project_copy, "20991208-right", "f00dfeed0009", head, "pass", "pass")
    config = Config.from_raw_config(Project(project_copy).config())
    with runner(config=config) as alembic_runner, pytest.raises(MultipleHeads) as caught:
        check_single_head(alembic_runner)
    assert set(caught.value.heads) == {"f00dfeed0008", "f00dfeed0009"}
    assert "alembic merge" in str(caught.value)


# --- the pieces --------------------------------------------------------------------------


def test_snapshot_covers_every_kind_of_object(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                CREATE TYPE mood AS ENUM ('ok');
                CREATE DOMAIN short_code AS varchar(8) CHECK (VALUE <> '');
                CREATE TABLE things (
                    id bigserial CONSTRAINT pk_things PRIMARY KEY,
                    code short_code,
                    state varchar(10) NOT NULL DEFAULT 'new'
                        CONSTRAINT ck_things_state CHECK (state IN ('new', 'old')));
                CREATE INDEX ix_things_state ON things (state) WHERE state <> 'old';
                COMMENT ON TABLE things IS 'Things.';
                COMMENT ON COLUMN things.state IS 'Where it is.';
                CREATE SEQUENCE tickets START 100 INCREMENT 5;
                CREATE VIEW new_things AS SELECT id FROM things WHERE state = 'new';
                CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql
                    AS $$ BEGIN RETURN NEW; END $$;
                CREATE TRIGGER things_touch BEFORE UPDATE ON things
                    FOR EACH ROW EXECUTE FUNCTION touch();
                """
            )
        )
    with engine.connect() as conn:
        objects = take_snapshot(conn).objects
    assert objects["table public.things"] == ""
    assert objects["column public.things.state"] == (
        "character varying(10) NOT NULL DEFAULT 'new'::character varying"
    )
    assert objects["column public.things.code"] == "short_code NULL"
    assert objects["constraint public.things.ck_things_state"].startswith("CHECK (")
    assert objects["constraint public.things.pk_things"] == "PRIMARY KEY (id)"
    assert objects["index public.ix_things_state"] == (
        "CREATE INDEX ix_things_state ON public.things USING btree (state) "
        "WHERE ((state)::text <> 'old'::text)"
    )
    assert objects["comment on table public.things"] == "Things."
    assert objects["comment on column public.things.state"] == "Where it is."
    assert objects["sequence public.tickets"].startswith("bigint START 100 INCREMENT 5")
    assert objects["sequence public.things_id_seq"].endswith("OWNED BY things.id")
    assert objects["enum type public.mood"] == "'ok'"
    assert objects["domain public.short_code"].startswith("character varying(8)")
    assert "things" in objects["view public.new_things"]
    assert "function public.touch()" in objects
    assert objects["trigger public.things.things_touch"].startswith("CREATE TRIGGER things_touch")


def test_snapshot_leaves_out_the_ignore_list(engine: Engine) -> None:
    assert IGNORED == (
        "migration_meta",
        "migration_archive",
        "*.alembic_version",
        "*.migration_history",
    )
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
                CREATE TABLE migration_history (id serial PRIMARY KEY);
                CREATE SCHEMA migration_meta;
                CREATE TABLE migration_meta.history (id serial PRIMARY KEY);
                CREATE SCHEMA migration_archive;
                CREATE TABLE migration_archive.offers_title (id int, title text);
                CREATE TABLE kept (id int);
                """
            )
        )
    with engine.connect() as conn:
        keys = set(take_snapshot(conn).objects)
        assert set(read_rows(conn)) == {"public.kept"}
    assert {k for k in keys if "kept" in k} == {"table public.kept", "column public.kept.id"}
    leaked = {k for k in keys if "alembic" in k or "migration" in k or "history" in k}
    assert leaked == set()


def test_diff_names_what_was_left_behind_lost_and_changed() -> None:
    before = Snapshot({"column public.t.a": "integer NULL", "index public.ix": "CREATE INDEX ix"})
    after = Snapshot({"column public.t.a": "bigint NULL", "column public.t.b": "text NULL"})
    assert [d.describe() for d in diff(before, after)] == [
        "changed: column public.t.a\n      before: integer NULL\n      after:  bigint NULL",
        "left behind: column public.t.b — text NULL",
        "lost: index public.ix — CREATE INDEX ix",
    ]
    assert diff(before, before) == []


def test_compare_rows_by_key_and_without_one() -> None:
    keyed_before = TableRows(("id", "v"), ("id",), ({"id": 1, "v": "a"}, {"id": 2, "v": "b"}))
    keyed_after = TableRows(("id", "v"), ("id",), ({"id": 2, "v": "B"}, {"id": 3, "v": "c"}))
    changes = compare_rows("public.t", keyed_before, keyed_after, ["id", "v"])
    assert (changes.lost, changes.changed, changes.added) == (
        ["id=1"],
        ["id=2: v 'b' -> 'B'"],
        ["id=3"],
    )
    bag_before = TableRows(("v",), (), ({"v": "x"}, {"v": "x"}))
    bag_after = TableRows(("v",), (), ({"v": "x"},))
    changes = compare_rows("public.bag", bag_before, bag_after, ["v"])
    assert changes.total == 2 and len(changes.lost) == 1 and not changes.added


def test_seeder_fills_choices_and_foreign_keys_and_skips_what_it_cannot(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                CREATE TABLE parents (id bigserial PRIMARY KEY, kind varchar(8) NOT NULL
                    CONSTRAINT ck_parents_kind CHECK (kind IN ('it''s', 'b')));
                CREATE TABLE children (id bigserial PRIMARY KEY,
                    parent_id bigint NOT NULL REFERENCES parents (id));
                CREATE TABLE picky (n integer NOT NULL CHECK (n > 1000000));
                """
            )
        )
    seeder = Seeder({"parents": [{"id": 7, "kind": "b"}]})
    with engine.connect() as conn:
        assert seeder.fill(conn) == 3  # the seed row and one generated parent and child
        rows = read_rows(conn)
        conn.execute(text("INSERT INTO parents (kind) VALUES ('b')"))  # sequence moved past 7
        conn.rollback()
    assert [r["kind"] for r in rows["public.parents"].rows] == ["b", "it's"]
    assert rows["public.children"].rows[0]["parent_id"] == 7
    assert rows["public.picky"].rows == ()
    assert "violates check constraint" in seeder.skipped["public.picky"]


def test_seed_row_the_schema_rejects_is_an_error_and_inserts_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE tiers (id int PRIMARY KEY, name text CHECK (name <> ''))"))
    seeder = Seeder({"tiers": [{"id": 1, "name": "gold"}, {"id": 2, "name": ""}]})
    with engine.connect() as conn, pytest.raises(SeedRowRejected) as caught:
        seeder.fill(conn)
    assert caught.value.table == "public.tiers"
    assert caught.value.row == {"id": 2, "name": ""}
    assert 'Seed row for public.tiers was rejected: new row for relation "tiers" violates' in str(
        caught.value
    )
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tiers")).scalar() == 0


def test_setup_seconds_measures_a_clone_and_leaves_nothing_behind(server: ScratchServer) -> None:
    def ours() -> int:
        with server._cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_database WHERE datname LIKE %s", (server.prefix + "%",)
            )
            return cur.fetchone()[0]

    seconds = setup_seconds(server, samples=2)
    assert 0 < seconds < 60
    assert ours() == 0
    server.create(label="kept")
    server.close()
    assert ours() == 0
