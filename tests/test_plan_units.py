"""The parts of ``plan`` that need no database: lock conflicts, the model, the gate's words."""

from __future__ import annotations

import pytest

from conventions.plan import gate, locks, model, sizes
from conventions.plan.probe import Relation
from conventions.plan.tracer import Lock, Traced, catalog_only
from conventions.plan.watch import concurrent


@pytest.mark.parametrize(
    ("mode", "blocked"),
    [
        ("ACCESS SHARE", ()),
        ("ROW SHARE", ()),
        ("ROW EXCLUSIVE", ()),
        ("SHARE UPDATE EXCLUSIVE", ()),
        ("SHARE", ("writes",)),
        ("SHARE ROW EXCLUSIVE", ("writes",)),
        ("EXCLUSIVE", ("writes",)),
        ("ACCESS EXCLUSIVE", ("reads", "writes")),
    ],
)
def test_what_each_mode_blocks(mode: str, blocked: tuple[str, ...]) -> None:
    assert locks.blocks(mode) == blocked


def test_conflict_table_is_symmetric() -> None:
    for mode, others in locks.CONFLICTS.items():
        for other in others:
            assert mode in locks.CONFLICTS[other], (mode, other)


def test_pg_locks_names() -> None:
    assert locks.mode_name("ShareUpdateExclusiveLock") == "SHARE UPDATE EXCLUSIVE"
    assert locks.strength("ACCESS EXCLUSIVE") > locks.strength("SHARE")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["offers=2M"], {"public.offers": 2e6}),
        (["app.users=10_000", "t=1.5k"], {"app.users": 1e4, "public.t": 1500.0}),
        (["offers=1,000"], {"public.offers": 1000.0}),
    ],
)
def test_rows_arguments(given: list[str], expected: dict[str, float]) -> None:
    assert sizes.parse_rows(given) == expected


@pytest.mark.parametrize("bad", ["offers", "=5", "offers=many", "offers=-3"])
def test_bad_rows_arguments(bad: str) -> None:
    with pytest.raises(sizes.BadRowCount, match="is not TABLE=N"):
        sizes.parse_rows([bad])


@pytest.mark.parametrize(
    ("sql", "skipped"),
    [
        ("SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_namespace n ON true", True),
        ("SELECT current_schema()", True),
        ("SAVEPOINT sa_savepoint_1", True),
        ("EXECUTE house_catalog_lookup ('t', 'c', 'k')", True),
        ("UPDATE alembic_version SET version_num='x'", True),
        ("INSERT INTO migration_meta.history (revision) VALUES ('x')", True),
        ("SELECT count(*) FROM offers", False),
        ("SELECT 1 FROM pg_class FOR UPDATE", False),
        ("UPDATE offers SET x = 1", False),
        ("ALTER TABLE offers ADD COLUMN x int", False),
    ],
)
def test_statements_not_probed(sql: str, skipped: bool) -> None:
    assert catalog_only(sql) is skipped


def test_statements_that_cannot_be_wrapped_in_a_transaction() -> None:
    assert concurrent("CREATE INDEX CONCURRENTLY ix ON t (c)")
    assert concurrent("DROP INDEX CONCURRENTLY ix")
    assert concurrent("VACUUM offers")
    assert not concurrent("ALTER TABLE t VALIDATE CONSTRAINT ck")


def _rel(oid: int, kind: str = "r", table: int | None = None, collated: bool = False) -> Relation:
    return Relation(oid, "public", f"r{oid}", kind, table or oid, "public", "offers", collated)


RATES = model.Rates(rewrite=1e-6, scan=1e-7, index=5e-7, text_index=2e-6, row_bytes=100.0)


def _sizes(rows: float, heap: int | None = None) -> sizes.TargetSizes:
    return sizes.TargetSizes({"public.offers": sizes.Size(rows, heap_bytes=heap)}, (), "test")


def test_rewrite_estimate_adds_rows_times_cost_for_the_table_and_each_index() -> None:
    table, pk, text_ix = _rel(1), _rel(2, "i", 1), _rel(3, "i", 1, collated=True)
    traced = Traced(
        "r",
        "ALTER TABLE offers ALTER COLUMN c TYPE bigint",
        0.01,
        "t",
        False,
        locks=[Lock(table, "ACCESS EXCLUSIVE")],
        rewritten=[table, pk, text_ix],
        scanned=[table],
    )
    est = model.estimate(traced, _sizes(1e6), RATES, set())
    assert est.work == "rewrite"
    assert est.seconds == pytest.approx(0.01 + 1e6 * (1e-6 + 5e-7 + 2e-6))
    wider = model.estimate(traced, _sizes(1e6, heap=int(300 * 1e6)), RATES, set())
    assert wider.seconds == pytest.approx(0.01 + 1e6 * (3e-6 + 5e-7 + 2e-6))


def test_catalog_only_change_costs_its_scratch_time_whatever_the_size() -> None:
    traced = Traced(
        "r",
        "ALTER TABLE offers ADD COLUMN c int",
        0.002,
        "t",
        False,
        locks=[Lock(_rel(1), "ACCESS EXCLUSIVE")],
    )
    assert model.estimate(traced, _sizes(5e8), RATES, set()).seconds == 0.002


def test_unknown_size_and_new_tables() -> None:
    traced = Traced(
        "r", "ALTER TABLE offers VALIDATE CONSTRAINT ck", 0.001, "t", True, scanned=[_rel(1)]
    )
    unknown = model.estimate(traced, sizes.TargetSizes({}, (), "test"), RATES, set())
    assert unknown.unknown == ["public.offers"]
    new = model.estimate(traced, sizes.TargetSizes({}, (), "test"), RATES, {1})
    assert new.unknown == [] and new.seconds == 0.001


def test_data_dependent_statements() -> None:
    assert model.data_dependent("UPDATE offers SET x = 1")
    assert model.data_dependent("  DO $$ BEGIN END $$")
    assert not model.data_dependent("ALTER TABLE offers ADD COLUMN x int")


@pytest.mark.parametrize(
    ("sql", "advice"),
    [
        ("CREATE INDEX ix ON offers (title)", "postgresql_concurrently=True"),
        ("CREATE UNIQUE INDEX ix ON offers (title)", "postgresql_concurrently=True"),
        ("ALTER TABLE offers ALTER COLUMN c TYPE BIGINT", "op.backfill"),
        ("ALTER TABLE offers ALTER COLUMN c SET NOT NULL", "op.set_not_null"),
        ("ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES t (id)", "op.add_foreign_key"),
        ("ALTER TABLE o ADD CONSTRAINT ck CHECK (a > 0)", "op.add_check_constraint"),
        ("UPDATE offers SET x = 1", "op.backfill"),
    ],
)
def test_safe_alternatives(sql: str, advice: str) -> None:
    assert advice in gate.alternative(sql)


def test_durations_read_like_the_log() -> None:
    assert gate.seconds_text(0.0004) == "0.40 ms"
    assert gate.seconds_text(0.012) == "12 ms"
    assert gate.seconds_text(1.26) == "1.3 s"
    assert gate.seconds_text(600) == "10.0 min"
