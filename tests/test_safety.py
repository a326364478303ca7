"""The safety check on plain Alembic operations, on the real server.

Each refusal names the table, its size, the lock and the safe way, and changes
nothing; small tables and tables created in the same migration are exempt;
``safety_assured`` lets an operation through and its reason reaches the history row;
``--sql`` output carries the warnings.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.operations import Operations
from sqlalchemy.engine import URL, Engine

import conventions
from conventions.errors import DangerousOperation, InvalidSetting
from conventions.harness.scratch import run_cli
from conventions.runtime import safety
from conventions.runtime.safety_checks import format_type
from tests.ops_harness import migration, offline, snapshot, sql
from tests.runtime_support import MIGRATE, add_revision

BIG = 20_000


@pytest.fixture
def busy(engine: Engine) -> Engine:
    """``orders``: 20,000 rows, analysed (so the planner's estimate is known)."""
    sql(
        engine,
        "CREATE TABLE orders (id bigint PRIMARY KEY, note text, amount int,"
        " customer_id bigint, code varchar(20))",
    )
    sql(engine, "CREATE TABLE customers (id bigint PRIMARY KEY)")
    sql(
        engine,
        "INSERT INTO orders SELECT g, 'n' || g, g % 100, NULL, 'c' || g"
        f" FROM generate_series(1, {BIG}) g",
    )
    sql(engine, "ANALYZE orders")
    return engine


def refused(engine: Engine, fn) -> DangerousOperation:  # type: ignore[no-untyped-def]
    before = snapshot(engine, "orders")
    with pytest.raises(DangerousOperation) as caught:
        with migration(engine) as op:
            fn(op)
    assert snapshot(engine, "orders") == before, "a refused operation changed the table"
    return caught.value


CASES = [
    (
        "set_not_null",
        lambda op: op.alter_column("orders", "note", nullable=False),
        "op.set_not_null('orders', 'note')",
        "ACCESS EXCLUSIVE",
    ),
    (
        "change_type",
        lambda op: op.alter_column("orders", "amount", type_=sa.BigInteger()),
        "op.change_column_type('orders', 'amount'",
        "ACCESS EXCLUSIVE",
    ),
    (
        "create_index",
        lambda op: op.create_index("ix_orders_amount", "orders", ["amount"]),
        "postgresql_concurrently=True",
        "SHARE (every write waits)",
    ),
    (
        "create_unique_constraint",
        lambda op: op.create_unique_constraint("uq_orders_code", "orders", ["code"]),
        "op.add_unique_constraint('uq_orders_code', 'orders', ['code'])",
        "ACCESS EXCLUSIVE",
    ),
    (
        "create_foreign_key",
        lambda op: op.create_foreign_key(
            "fk_orders_customer", "orders", "customers", ["customer_id"], ["id"]
        ),
        "op.add_foreign_key('fk_orders_customer', 'orders', 'customers'",
        "SHARE ROW EXCLUSIVE on orders and customers",
    ),
    (
        "create_check_constraint",
        lambda op: op.create_check_constraint("ck_orders_amount", "orders", "amount >= 0"),
        "op.add_check_constraint('ck_orders_amount', 'orders'",
        "ACCESS EXCLUSIVE",
    ),
    (
        "add_column",
        lambda op: op.add_column(
            "orders", sa.Column("token", sa.Text(), server_default=sa.text("random()::text"))
        ),
        "op.ensure_column('orders'",
        "ACCESS EXCLUSIVE",
    ),
    (
        "add_column",
        lambda op: op.add_column("orders", sa.Column("flag", sa.Boolean(), nullable=False)),
        "op.set_not_null",
        "ACCESS EXCLUSIVE",
    ),
    (
        "execute_dml",
        lambda op: op.execute("UPDATE orders SET note = 'x'"),
        "op.backfill('orders'",
        "a row lock on every row",
    ),
    (
        "execute_dml",
        lambda op: op.execute("DELETE FROM orders WHERE amount > 5"),
        "delete in keyset batches",
        "a row lock on every row",
    ),
    (
        "rename_table",
        lambda op: op.rename_table("orders", "purchases"),
        "expand/contract",
        "ACCESS EXCLUSIVE briefly",
    ),
    (
        "rename_column",
        lambda op: op.alter_column("orders", "note", new_column_name="remark"),
        "expand/contract",
        "ACCESS EXCLUSIVE briefly",
    ),
]


@pytest.mark.parametrize(("check", "fn", "instead", "lock"), CASES)
def test_safety_refuses_dangerous_plain_ops(
    busy: Engine, check: str, fn, instead: str, lock: str
) -> None:  # type: ignore[no-untyped-def]
    err = refused(busy, fn)
    assert err.check == check
    assert err.table == "orders"
    assert "orders" in str(err) and lock in str(err) and instead in str(err)
    assert "rows" in err.size and ("20,000" in err.size or "over" in err.size)
    assert "Nothing was run" in str(err)
    assert "safety_assured" in str(err)


def test_safety_refusal_rolls_back_earlier_ddl_of_the_step(busy: Engine) -> None:
    def both(op: Operations) -> None:
        op.add_column("orders", sa.Column("extra", sa.Text()))
        op.alter_column("orders", "note", nullable=False)

    refused(busy, both)  # snapshot unchanged: the added column was rolled back too


def test_safety_exempts_small_tables(engine: Engine) -> None:
    sql(engine, "CREATE TABLE orders (id bigint PRIMARY KEY, note text)")
    sql(engine, "INSERT INTO orders SELECT g, 'n' FROM generate_series(1, 50) g")
    with migration(engine) as op:
        op.alter_column("orders", "note", nullable=False)
        op.create_index("ix_orders_note", "orders", ["note"])
        op.execute("UPDATE orders SET note = 'y'")
    assert sql(engine, "SELECT count(*) FROM orders WHERE note = 'y'") == [(50,)]


def test_safety_counts_a_never_analysed_table_up_to_the_threshold(engine: Engine) -> None:
    sql(engine, "CREATE TABLE orders (id bigint PRIMARY KEY, note text)")
    sql(engine, f"INSERT INTO orders SELECT g, 'n' FROM generate_series(1, {BIG}) g")
    err = refused(engine, lambda op: op.alter_column("orders", "note", nullable=False))
    assert "more than 10,000 rows (counted" in err.size


def test_safety_exempts_tables_created_in_the_same_migration(engine: Engine) -> None:
    with migration(engine) as op:
        op.create_table("fresh", sa.Column("id", sa.BigInteger, primary_key=True))
        op.execute(f"INSERT INTO fresh SELECT g FROM generate_series(1, {BIG}) g")
        op.execute("ANALYZE fresh")
        op.add_column("fresh", sa.Column("note", sa.Text(), server_default="x", nullable=False))
        op.create_index("ix_fresh_note", "fresh", ["note"])
        op.create_unique_constraint("uq_fresh_note", "fresh", ["id", "note"])
        op.execute("UPDATE fresh SET note = 'y'")
    assert sql(engine, "SELECT count(*) FROM fresh WHERE note = 'y'") == [(BIG,)]


def test_safety_allows_bounded_dml_and_binary_compatible_types(busy: Engine) -> None:
    with migration(busy) as op:
        op.execute("UPDATE orders SET note = 'z' WHERE id BETWEEN 1 AND 100")
        op.alter_column("orders", "code", type_=sa.String(40))
        op.alter_column("orders", "code", type_=sa.Text())
        op.alter_column("orders", "note", type_=sa.UnicodeText)  # a class, as Alembic allows
        with op.get_context().autocommit_block():
            op.create_index("ix_orders_amount", "orders", ["amount"], postgresql_concurrently=True)
    assert sql(busy, "SELECT count(*) FROM orders WHERE note = 'z'") == [(100,)]


def test_safety_assured_lets_an_operation_through(busy: Engine) -> None:
    with migration(busy) as op:
        with conventions.safety_assured("maintenance window, app stopped"):
            op.create_index("ix_orders_amount", "orders", ["amount"])
    assert sql(busy, "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_orders_amount'") == [
        (1,)
    ]


def test_safety_assured_needs_a_reason() -> None:
    with pytest.raises(ValueError, match="needs a reason"):
        with conventions.safety_assured("  "):
            pass


def test_safety_threshold_from_the_environment(
    busy: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONVENTIONS_SAFETY_THRESHOLD_ROWS", "100000")
    with migration(busy) as op:
        op.create_index("ix_orders_amount", "orders", ["amount"])
    monkeypatch.setenv("CONVENTIONS_SAFETY_THRESHOLD_ROWS", "many")
    with pytest.raises(InvalidSetting, match="CONVENTIONS_SAFETY_THRESHOLD_ROWS"):
        safety.config()


def test_safety_check_switched_off_one_by_one(
    busy: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONVENTIONS_SAFETY_DISABLED", "create_index, rename_table")
    with migration(busy) as op:
        op.create_index("ix_orders_amount", "orders", ["amount"])
    refused(busy, lambda op: op.alter_column("orders", "note", nullable=False))
    monkeypatch.setenv("CONVENTIONS_SAFETY_DISABLED", "create_indexes")
    with pytest.raises(InvalidSetting, match="create_indexes"):
        safety.config()


def test_safety_settings_from_pyproject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "alembic.ini").write_text("[alembic]\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.conventions.safety]\nthreshold_rows = 5\ndisabled = ["drop_table"]\n'
    )
    monkeypatch.setenv("CONVENTIONS_ROOT", str(tmp_path))
    cfg = safety.config()
    assert cfg.threshold_rows == 5 and not cfg.checks("drop_table") and cfg.checks("add_column")


def test_safety_refuses_dropping_what_the_models_map(busy: Engine) -> None:
    metadata = sa.MetaData()
    sa.Table("orders", metadata, sa.Column("id", sa.BigInteger), sa.Column("note", sa.Text))
    before = snapshot(busy, "orders")
    with busy.connect() as conn:
        from alembic.runtime.migration import MigrationContext

        ctx = MigrationContext.configure(
            conn, opts={"transaction_per_migration": True, "target_metadata": metadata}
        )
        with pytest.raises(DangerousOperation, match=r"models still map orders\.note"):
            with ctx.begin_transaction(_per_migration=True):
                Operations(ctx).drop_column("orders", "note")
        with pytest.raises(DangerousOperation, match="models still map orders"):
            with ctx.begin_transaction(_per_migration=True):
                Operations(ctx).drop_table("orders")
        with ctx.begin_transaction(_per_migration=True):
            Operations(ctx).drop_column("orders", "amount")  # not mapped: allowed
    after = snapshot(busy, "orders")
    assert [c for c in before["columns"] if c[0] != "amount"] == after["columns"]


def test_safety_warnings_in_offline_sql() -> None:
    def ops(op: Operations) -> None:
        op.alter_column("orders", "note", nullable=False)
        op.create_index("ix_orders_amount", "orders", ["amount"])
        with conventions.safety_assured("tiny table"):
            op.rename_table("orders", "purchases")

    script = offline(ops)
    assert "-- WARNING (conventions safety, set_not_null): op.alter_column('orders'" in script
    assert "Instead: op.set_not_null('orders', 'note')" in script
    assert "(conventions safety, create_index)" in script
    assert "-- safety_assured: tiny table" in script
    assert "ALTER TABLE orders ALTER COLUMN note SET NOT NULL" in script


def test_format_type_matches_postgres_spelling() -> None:
    assert format_type(sa.String(20)) == "character varying(20)"
    assert format_type(sa.Numeric(10, 2)) == "numeric(10,2)"
    assert format_type(sa.DateTime()) == "timestamp without time zone"
    assert format_type(sa.UnicodeText) == "text"  # a type class, as old revisions pass it


def test_safety_refusal_through_the_cli_and_assured_in_history(
    seeded_db: URL, project_copy: Path
) -> None:
    setup = (
        "op.execute('CREATE TABLE busy (id bigint PRIMARY KEY, note text)')\n"
        f"op.execute('INSERT INTO busy SELECT g, NULL FROM generate_series(1, {BIG}) g')\n"
    )
    add_revision(project_copy, "a1000000000a", upgrade=setup, downgrade="op.drop_table('busy')")
    result = run_cli(MIGRATE, url=seeded_db, cwd=project_copy)
    assert result.returncode == 0, result.stderr
    add_revision(
        project_copy,
        "a1000000000b",
        down="a1000000000a",
        upgrade="op.create_index('ix_busy_note', 'busy', ['note'])",
    )
    result = run_cli(MIGRATE, url=seeded_db, cwd=project_copy)
    assert result.returncode == 1
    output = result.stdout + result.stderr  # where the CLI prints errors is issue 11's
    assert "Refused op.create_index('ix_busy_note', 'busy', …) on busy" in output
    assert "Traceback" not in output
    eng = sa.create_engine(seeded_db, poolclass=sa.pool.NullPool)
    try:
        assert sql(eng, "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_busy_note'") == [
            (0,)
        ]
        add_revision(
            project_copy,
            "a1000000000b",
            down="a1000000000a",
            upgrade=(
                "import conventions\n"
                "with conventions.safety_assured('reviewed: index build at night'):\n"
                "    op.create_index('ix_busy_note', 'busy', ['note'])"
            ),
        )
        result = run_cli(MIGRATE, url=seeded_db, cwd=project_copy)
        assert result.returncode == 0, result.stderr
        rows = sql(
            eng,
            "SELECT note FROM migration_meta.history WHERE revision = 'a1000000000b' AND success",
        )
        assert rows and "reviewed: index build at night" in rows[0][0]
        assert "op.create_index('ix_busy_note', 'busy', …)" in rows[0][0]
    finally:
        eng.dispose()


def test_safety_offline_trusts_existing_type_for_in_place_changes() -> None:
    script = offline(
        lambda op: op.alter_column(
            "orders", "code", type_=sa.String(40), existing_type=sa.String(20)
        )
    )
    assert "WARNING" not in script
    script = offline(
        lambda op: op.alter_column(
            "orders", "amount", type_=sa.BigInteger(), existing_type=sa.Integer()
        )
    )
    assert "(conventions safety, change_type)" in script and "from integer" in script


def test_safety_refuses_create_primary_key_on_a_busy_heap(engine: Engine) -> None:
    sql(engine, "CREATE TABLE legacy (code text)")
    sql(engine, f"INSERT INTO legacy SELECT 'c' || g FROM generate_series(1, {BIG}) g")
    sql(engine, "ANALYZE legacy")
    before = snapshot(engine, "legacy")
    with pytest.raises(DangerousOperation) as caught:
        with migration(engine) as op:
            op.create_primary_key("pk_legacy", "legacy", ["code"])
    assert caught.value.check == "create_primary_key"
    assert "op.add_primary_key('pk_legacy', 'legacy', ['code'])" in str(caught.value)
    assert snapshot(engine, "legacy") == before


def test_safety_wraps_the_implementation_in_force_once() -> None:
    """The one private Alembic API used (Operations._to_impl) still dispatches as expected."""
    from alembic.operations import ops

    from conventions.runtime import archive

    safety.install()  # idempotent
    wrapped = safety.current_implementation(ops.DropColumnOp)
    assert wrapped._conventions_safety is archive.drop_column
    for op_cls in (ops.AddColumnOp, ops.AlterColumnOp, ops.CreateIndexOp, ops.ExecuteSQLOp):
        inner = safety.current_implementation(op_cls)._conventions_safety
        assert getattr(inner, "_conventions_safety", None) is None  # never wrapped twice


def test_safety_skips_legacy_revisions_up_to_legacy_until(
    seeded_db: URL, project_copy: Path
) -> None:
    """A history adopted late: its applied revisions must still build a fresh database."""
    add_revision(
        project_copy,
        "a1000000000c",
        upgrade="op.execute('CREATE TABLE old_name (id bigint PRIMARY KEY)')",
    )
    add_revision(
        project_copy,
        "a1000000000d",
        down="a1000000000c",
        upgrade="op.rename_table('old_name', 'new_name')",
    )
    refused = run_cli(MIGRATE, url=seeded_db, cwd=project_copy)
    assert refused.returncode == 1
    assert "Refused op.rename_table" in refused.stdout + refused.stderr
    with (project_copy / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write('\n[tool.conventions.harness]\nlegacy_until = "a1000000000d"\n')
    result = run_cli(MIGRATE, url=seeded_db, cwd=project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the safety check skips the" in result.stderr
    assert "up to legacy_until = a1000000000d ([tool.conventions.harness])" in result.stderr
    eng = sa.create_engine(seeded_db, poolclass=sa.pool.NullPool)
    try:
        assert sql(eng, "SELECT to_regclass('new_name') IS NOT NULL") == [(True,)]
    finally:
        eng.dispose()
