"""The benchmark machinery on a tiny table: it records, reports and plots; nothing is timed.

Performance figures belong in ``make bench``; these tests only prove that the
writer records statements around an operation, that a failing variant is written
up rather than crashing the run, that the report has its parts, and that README's
generated block matches the published report.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from bench import comparison, db, report
from bench.config import ROOT, from_env
from bench.context import Context
from bench.house import HouseOps
from bench.trial import run_trial
from bench.writer import Writer
from conventions.harness.scratch import DatabaseFactory, run_cli
from tests import catalog

ROWS = 2_000


def test_config_quick_mode_never_overwrites_the_published_report(monkeypatch):
    monkeypatch.setenv("BENCH_QUICK", "1")
    monkeypatch.delenv("BENCH_OUT", raising=False)
    monkeypatch.delenv("BENCH_ROWS", raising=False)
    config = from_env()
    assert config.quick
    assert config.out_dir == ROOT / "docs" / "bench-raw" / "quick"
    assert not config.update_readme
    monkeypatch.setenv("BENCH_ROWS", "2_000")
    assert from_env().rows == 2000


@pytest.mark.parametrize("value", ["lots", "-5", "0"])
def test_config_rejects_a_bad_row_count_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("BENCH_ROWS", value)
    with pytest.raises(ValueError, match="BENCH_ROWS"):
        from_env()


def _bench_databases(factory: DatabaseFactory) -> set[str]:
    conn = db.connect(factory.admin)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench%%'")
            return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("env", "status", "message"),
    [
        ({"BENCH_ONLY": "99"}, 2, "BENCH_ONLY='99' must list measurements 1 to 11, 15"),
        ({"BENCH_ROWS": "many"}, 2, "BENCH_ROWS='many' is not a whole number"),
        (
            {"DATABASE_URL": "postgresql://bench:s3cret@127.0.0.1:1/x"},
            1,
            "Cannot connect to the database at postgresql+psycopg2://bench:***@127.0.0.1:1",
        ),
    ],
)
def test_bad_settings_stop_before_anything_is_created(db_factory, env, status, message):
    before = _bench_databases(db_factory)
    done = run_cli(["-m", "bench"], url=None, env={"BENCH_QUICK": "1", **env}, timeout=60)
    assert done.returncode == status, done.stdout + done.stderr
    assert message in done.stdout
    assert "s3cret" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert _bench_databases(db_factory) == before


@pytest.fixture
def small_table(fresh_db: URL) -> URL:
    db.fill(fresh_db, ROWS)
    return fresh_db


def _config(tmp_path: Path):
    base = from_env()
    return replace(
        base,
        rows=ROWS,
        repeats=1,
        baseline_s=0.2,
        tail_s=0.1,
        out_dir=tmp_path / "out",
        plot_dir=tmp_path / "out" / "bench",
        raw_dir=tmp_path / "raw",
        update_readme=False,
    )


def test_a_trial_records_the_writer_around_the_operation_and_reports_it(
    small_table, tmp_path, db_factory: DatabaseFactory
):
    config = _config(tmp_path)
    ctx = Context(config, db_factory, tmp_path / "work")
    house = HouseOps(db.engine(small_table))
    add = [
        f"ALTER TABLE {db.TABLE} ADD COLUMN channel varchar(20)",
        f"ALTER TABLE {db.TABLE} ADD CONSTRAINT ck_{db.TABLE}_channel CHECK (channel IN ('a'))",
    ]
    try:
        with Writer(small_table, tmp_path / "writer.bin", rows=ROWS, rate=200) as writer:
            ctx.url, ctx.writer = small_table, writer
            trial = run_trial(
                writer, "naive", lambda: house.execute(add), baseline_s=0.2, tail_s=0.1
            )

            def broken() -> None:
                raise RuntimeError("no such helper")

            variants = [
                comparison.Variant("ours", "**ours**: broken helper", broken),
                comparison.Variant("naive", "naive: nothing", lambda: None),
            ]
            results = comparison.interleave(ctx, variants)
    finally:
        house.close()

    assert trial.error is None
    assert trial.baseline, "the writer recorded nothing before the operation"
    assert all(s.end <= trial.start for s in trial.baseline)
    assert all(s.start < trial.end and s.end > trial.start for s in trial.during)
    assert {s.kind for s in trial.baseline + trial.during + trial.after} == {
        "insert",
        "update",
        "select",
    }
    assert all(s.ok for s in trial.baseline)
    engine = db.engine(small_table)
    assert "ck_notification_campaigns_channel" in catalog.constraints(engine, db.TABLE)
    engine.dispose()

    assert results["ours"].errors == ["RuntimeError: no such helper"]
    assert not results["ours"].ok
    section = comparison.section(
        ctx,
        number=1,
        key="1-smoke",
        title="Smoke",
        how="A tiny table.",
        variants=variants,
        results=results,
        headlines=[("smoke: writer's worst statement", "ours", "naive")],
        targets=[("the broken helper", "ours")],
    )
    assert section.targets[0].met is None
    assert "no such helper" in section.targets[0].why
    assert section.rows[0][-1].startswith("0, 1 failed: RuntimeError: no such helper")

    info = report.RunInfo(
        date="today",
        elapsed_s=1.0,
        machine={"cpu": "cpu", "memory": "1 GiB", "os": "os", "python": "3"},
        server=db.server_info(small_table),
        load_start="0",
        load_end="0",
        database="embedded server",
        fill_s=None,
    )
    path = report.write(config, info, [section])
    text = path.read_text()
    for heading in ("# Benchmarks", "## Headline", "## Targets", "## Machine and method"):
        assert f"\n{heading}\n" in f"\n{text}"
    assert "## 1. Smoke" in text
    assert "| 1. writer's worst statement during the broken helper" in text
    assert "![Smoke: writer latency over time](bench/1-smoke.png)" in text
    assert section.plot is not None
    assert section.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (config.raw_dir / "results.json").is_file()


def test_a_house_op_against_the_naive_statement_is_one_section_and_the_table_is_put_back(
    small_table, tmp_path, db_factory: DatabaseFactory
):
    """The shape most DDL measurements share (bench.versus), run once on a small table."""
    from bench.scenarios import not_null

    ctx = Context(_config(tmp_path), db_factory, tmp_path / "work")
    with Writer(small_table, tmp_path / "writer.bin", rows=ROWS, rate=200) as writer:
        ctx.url, ctx.writer = small_table, writer
        section = not_null.run(ctx)

    assert section.key == "9-set-not-null"
    assert [row[0].split(":")[0] for row in section.rows] == ["**ours**", "naive"]
    assert [row[-1] for row in section.rows] == ["1", "1"]  # one run each, none failed
    assert [t.promise.split(" ≤ ")[0] for t in section.targets] == [
        "writer's worst statement during `op.set_not_null`"
    ]
    assert [h.what for h in section.headlines] == ["set NOT NULL: writer's worst statement"]
    engine = db.engine(small_table)
    try:
        with engine.connect() as conn:
            nullable = conn.exec_driver_sql(
                "SELECT is_nullable FROM information_schema.columns"
                f" WHERE table_name = '{db.TABLE}' AND column_name = '{not_null.COLUMN}'"
            ).scalar()
    finally:
        engine.dispose()
    assert nullable == "YES"  # the reset ran after the last trial


def test_readme_block_is_replaced_between_markers_only(tmp_path):
    readme = tmp_path / "README.md"
    before = f"# x\n\n## Benchmarks\n\n{report.README_START}\nold\n{report.README_END}\n\n## y\n"
    readme.write_text(before)
    assert report.update_readme(readme, f"{report.README_START}\nnew\n{report.README_END}")
    assert readme.read_text() == before.replace("old", "new")
    readme.write_text("# no markers\n")
    assert not report.update_readme(readme, "anything")
    assert readme.read_text() == "# no markers\n"


def test_readme_figures_match_the_published_report():
    readme = (ROOT / "README.md").read_text()
    published = ROOT / "docs" / "benchmarks.md"
    match = re.search(
        re.escape(report.README_START) + "(.*?)" + re.escape(report.README_END), readme, re.S
    )
    if match is None or not published.is_file():
        pytest.fail("README.md needs the generated Benchmarks block and docs/benchmarks.md")
    rows = [line for line in match.group(1).splitlines() if line.startswith("| ")]
    assert rows, "the README block has no headline table"
    text = published.read_text()
    for row in rows:
        assert row in text, f"README row not in docs/benchmarks.md: {row}"


def test_every_measurement_module_matches_its_registry_entry():
    from bench.scenarios import ALL

    numbers = [m.number for m in ALL]
    assert numbers == sorted(set(numbers)) and numbers[:11] == list(range(1, 12))
    for measurement in ALL:
        module = measurement.load()
        assert (module.NUMBER, module.TITLE) == (measurement.number, measurement.title)
        assert callable(module.run)
