"""15. ``plan`` over the sample project's six revisions, against migrating them.

``python -m conventions plan`` builds a scratch database at the target's revision
(here: empty), runs every pending revision on it through the house runtime with
the statement tracer, calibrates per-row costs and models the holds. Its natural
floor is what the scratch run alone costs: ``alembic upgrade head`` on an empty
database, the same revisions through the same runtime without tracing. Both are
whole processes (interpreter start included), interleaved.
"""

from __future__ import annotations

from bench.config import ROOT
from bench.context import Context
from bench.processes import BIN, child_env, timed
from bench.results import Headline, Section, Target
from bench.stats import Spread, duration
from conventions import logs
from conventions.harness.scratch import ScratchServer, url_text

NUMBER = 15
TITLE = "plan over the six sample revisions"
TARGET_SECONDS = 3.0


def run(ctx: Context) -> Section:
    server = ScratchServer(ctx.factory.base, prefix="bench_plan")
    plan_times: list[float] = []
    migrate_times: list[float] = []
    plan = [str(BIN / "python"), "-m", "conventions", "plan", "--json"]
    migrate = [str(BIN / "alembic"), "upgrade", "head"]
    scratch = {"CONVENTIONS_PLAN_SCRATCH_URL": url_text(ctx.factory.base)}
    try:
        target = server.create(label="target")  # empty: every revision is pending
        for _ in range(ctx.config.process_repeats):
            plan_times.append(timed(plan, env=child_env(target, scratch), cwd=ROOT))
            fresh = server.create(label="fresh")
            migrate_times.append(timed(migrate, env=child_env(fresh), cwd=ROOT))
            server.drop(fresh)
    finally:
        server.close()
    ours, floor = Spread.of(plan_times), Spread.of(migrate_times)
    logs.info(f"    plan {duration(ours.median)}, migrate from empty {duration(floor.median)}")
    section = Section(
        number=NUMBER,
        key="15-plan",
        title=TITLE,
        how=(
            f"{ctx.config.process_repeats} times, interleaved: `python -m conventions plan "
            "--json` against an empty target (all six sample revisions pending: scratch "
            "database, traced run, calibration, model), versus `alembic upgrade head` on a "
            "new empty database (the same revisions through the same runtime, untraced: "
            "the part of a plan that is the scratch run). Wall time of the whole process."
        ),
        columns=["command", "wall time"],
        rows=[
            ["**ours**: `python -m conventions plan` (6 revisions)", ours.text()],
            ["`alembic upgrade head` from empty", floor.text()],
        ],
        raw={"plan": plan_times, "migrate": migrate_times},
    )
    section.headlines.append(
        Headline("plan six revisions", ours, floor, "migrate from empty", overhead=True)
    )
    met = ours.median < TARGET_SECONDS
    section.targets.append(
        Target(
            f"plan over the six sample revisions < {TARGET_SECONDS:g} s",
            duration(ours.median),
            met,
            "" if met else "see the table: the scratch run and tracing dominate",
        )
    )
    return section
