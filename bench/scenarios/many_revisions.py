"""6. 200 generated revisions: house helpers vs plain ``op.add_column`` + CHECK.

What idempotency costs: each house helper looks in the catalog before it acts (is
the column there? is it identical?). Both sides run through the same house env.py
and produce the same schema, so the difference between them is the helpers' own
work. A second figure isolates the check itself: re-running every helper on a
database where all of it already exists, which does nothing but check and skip.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import URL

from bench import db, project
from bench.context import Context
from bench.house import HouseOps
from bench.processes import BIN, child_env, timed
from bench.results import Headline, Section, Target
from bench.stats import Spread, duration, ratio, ratio_text
from conventions import logs
from conventions.project.layout import layout

NUMBER = 6
TITLE = "Applying 200 generated revisions"
TABLE = "bench_items"
VALUES = ("bronze", "silver", "gold", "platinum")
TARGET_CHECK_S = 0.0002
RECHECK_PASSES = 3


def _column(i: int) -> str:
    return f"tier_{i}"


def _helper_lines(i: int) -> list[str]:
    return [f"op.add_choice_column({TABLE!r}, {_column(i)!r}, {list(VALUES)!r}, length=20)"]


def _plain_lines(i: int) -> list[str]:
    column = _column(i)
    allowed = ", ".join(f"'{v}'" for v in VALUES)
    return [
        f"op.add_column({TABLE!r}, sa.Column({column!r}, sa.String(20)))",
        f"op.create_check_constraint({f'ck_{TABLE}_{column}'!r}, {TABLE!r}, "
        f'"{column} IN ({allowed})")',
    ]


def _generate(ctx: Context, side: str, count: int) -> Path:
    ini = project.house_project(ctx.work / f"revisions-{side}")
    versions = layout(ini.parent).versions
    lines = _helper_lines if side == "helpers" else _plain_lines
    previous = None
    for i in range(count + 1):
        revision = f"{'c' if side == 'helpers' else 'd'}{i:011x}"
        upgrade = (
            [f"op.create_table({TABLE!r}, sa.Column('id', sa.BigInteger(), primary_key=True))"]
            if i == 0
            else lines(i)
        )
        project.write_revision(
            versions, revision=revision, down_revision=previous, upgrade=upgrade, name=f"r{i:04d}"
        )
        previous = revision
    return ini


def run(ctx: Context) -> Section:
    count = ctx.config.revision_count
    if not _helper_available():
        return Section(
            number=NUMBER,
            key="6-many-revisions",
            title=TITLE,
            how="Not run: `op.add_choice_column` is not in this checkout.",
            columns=[],
            rows=[],
            targets=[
                Target(
                    f"helpers ≤ {duration(TARGET_CHECK_S)} per idempotency check",
                    "–",
                    None,
                    "op.add_choice_column is not in this checkout",
                )
            ],
        )
    inis = {side: _generate(ctx, side, count) for side in ("helpers", "plain")}
    times: dict[str, list[float]] = {"helpers": [], "plain": []}
    check_times: list[float] = []  # seconds per check, one figure per re-check pass
    queries_per_check: list[float] = []
    round_trips: list[float] = []
    in_sql: list[float] = []  # seconds per check spent in its catalog queries
    for round_ in range(ctx.config.revision_repeats):
        for side in ("helpers", "plain") if round_ % 2 == 0 else ("plain", "helpers"):
            url = ctx.factory.create(prefix="bench_revs")
            try:
                argv = [str(BIN / "alembic"), "-c", str(inis[side]), "upgrade", "head"]
                times[side].append(timed(argv, env=child_env(url), cwd=inis[side].parent))
                if side == "helpers":
                    recheck = _recheck(url, count)
                    check_times += recheck.per_check
                    queries_per_check.append(recheck.queries)
                    round_trips.append(recheck.round_trip)
                    in_sql.append(recheck.in_sql)
            finally:
                ctx.factory.drop(url)
        logs.info(
            f"    round {round_ + 1}: helpers {duration(times['helpers'][-1])}, "
            f"plain {duration(times['plain'][-1])}"
        )
    helpers, plain = Spread.of(times["helpers"]), Spread.of(times["plain"])
    per_helper = (helpers.median - plain.median) / count
    check = Spread.of(check_times)
    queries = Spread.of(queries_per_check).median
    round_trip = Spread.of(round_trips).median
    sql_part = Spread.of(in_sql).median
    section = Section(
        number=NUMBER,
        key="6-many-revisions",
        title=TITLE,
        how=(
            f"{count} revisions after one that creates `{TABLE}`, each adding a choice column "
            f"(4 values). Helpers: `{_helper_lines(1)[0]}`. Plain: `op.add_column` + "
            "`op.create_check_constraint` (same schema). Both are `alembic upgrade head` "
            "processes through the house env.py on a fresh database. The extra time per "
            "revision is not only the checks: the helper also validates its CHECK in a "
            "transaction of its own (what keeps a big table writable; on an empty table it "
            "is pure overhead). The re-check isolates the checks: it calls every helper again, "
            f"{RECHECK_PASSES} passes in one transaction, on the migrated database, where all "
            f"{count} columns already exist, so each call only checks and skips (its warning is "
            "formatted but written to memory, not the terminal). For scale, the bare round "
            "trip of `SELECT 1` through the same connection is measured alongside."
        ),
        columns=["what", "wall time", "per revision"],
        rows=[
            [
                f"**ours**: {count} revisions with house helpers",
                helpers.text(),
                duration(helpers.median / count),
            ],
            [
                f"plain: {count} revisions with op.add_column + CHECK",
                plain.text(),
                duration(plain.median / count),
            ],
            ["helpers' extra cost per revision", duration(per_helper), ""],
            [
                f"re-check: one helper call on an up-to-date schema "
                f"({queries:.0f} catalog queries)",
                check.text(),
                "",
            ],
            ["… of which executing its catalog queries", duration(sql_part), ""],
            ["bare round trip: `SELECT 1` on the same connection", duration(round_trip), ""],
        ],
        raw={
            "times": times,
            "check_times": check_times,
            "queries_per_check": queries_per_check,
            "round_trips": round_trips,
            "in_sql": in_sql,
        },
    )
    section.headlines.append(
        Headline(f"{count} revisions: wall time", helpers, plain, "plain", overhead=True)
    )
    per_check = check.median
    met = per_check <= TARGET_CHECK_S
    section.targets.append(
        Target(
            f"helpers ≤ {duration(TARGET_CHECK_S)} per idempotency check",
            f"{duration(per_check)} per check (re-check); {duration(per_helper)} extra per "
            f"revision applied ({ratio_text(ratio(helpers.median, plain.median))} plain)",
            met,
            "" if met else _why(per_check, queries, sql_part, round_trip),
        )
    )
    return section


def _helper_available() -> bool:
    from alembic.operations import Operations

    import conventions  # noqa: F401  (registers the house operations)

    return hasattr(Operations, "add_choice_column")


@dataclass(frozen=True)
class Recheck:
    per_check: list[float]  # seconds per helper call, one figure per pass
    queries: float  # catalog queries per call
    in_sql: float  # seconds per call spent executing those queries (round trips included)
    round_trip: float  # seconds of one bare SELECT 1 on the same connection


def _recheck(url: URL, count: int) -> Recheck:
    """Time helpers re-run where everything exists (they only check and skip)."""
    engine = db.engine(url)
    house = HouseOps(engine)
    statements = 0
    sql_seconds = 0.0
    began = 0.0

    def before(*_args: object) -> None:
        nonlocal statements, began
        statements += 1
        began = time.perf_counter()

    def after(*_args: object) -> None:
        nonlocal sql_seconds
        sql_seconds += time.perf_counter() - began

    # The skip warnings are formatted as usual but written to memory, not the terminal.
    streams = [
        (h, h.setStream(io.StringIO())) for h in logs.logger.handlers if hasattr(h, "setStream")
    ]
    passes: list[float] = []
    try:
        with house.migration() as op:
            connection = op.get_bind()
            started = time.perf_counter()
            for _ in range(count):
                connection.exec_driver_sql("SELECT 1").scalar()
            round_trip = (time.perf_counter() - started) / count
            event.listen(engine, "before_cursor_execute", before)
            event.listen(engine, "after_cursor_execute", after)
            for _ in range(RECHECK_PASSES):
                started = time.perf_counter()
                for i in range(1, count + 1):
                    op.add_choice_column(TABLE, _column(i), list(VALUES), length=20)
                passes.append((time.perf_counter() - started) / count)
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
    finally:
        for handler, stream in streams:
            handler.setStream(stream)
        house.close()
        engine.dispose()
    calls = count * RECHECK_PASSES
    return Recheck(passes, statements / calls, sql_seconds / calls, round_trip)


def _why(per_check: float, queries: float, in_sql: float, round_trip: float) -> str:
    text = (
        f"of {duration(per_check)} per helper call, {duration(in_sql)} is its {queries:.0f} "
        f"catalog queries (table, column, constraint; a bare round trip is "
        f"{duration(round_trip)} here, so the rest is the server parsing, planning and "
        f"running them) and {duration(per_check - in_sql)} the Python around them (reading "
        "the CHECK back into its values, comparing, the skip warning)"
    )
    if in_sql > TARGET_CHECK_S:
        text += "; the queries alone exceed the target: it needs fewer, cheaper catalog queries"
    return text
