"""5. ``make migrate`` on an up-to-date database vs plain Alembic on the same revisions.

The house runtime does more than plain Alembic (it resolves the URL, may start the
embedded server, logs, checks history), and a no-op run is when users notice that
overhead: every deploy and every app start runs it. All three commands run against
one database already at head, round-robin so they share the machine's noise.
"""

from __future__ import annotations

from bench import project
from bench.config import ROOT
from bench.context import Context
from bench.processes import BIN, child_env, timed
from bench.results import Headline, Section, Target
from bench.stats import Spread, ratio, ratio_text
from conventions import logs
from conventions.testing import run_cli

NUMBER = 5
TITLE = "No-op migrate at head"
NEEDS_TABLE = False
TARGET_RATIO = 1.15


def run(ctx: Context) -> Section:
    url = ctx.factory.create(prefix="bench_head")
    try:
        done = run_cli(["alembic", "upgrade", "head"], url=url, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(f"could not migrate the database to head: {done.stderr[-500:]}")
        plain_ini = project.plain_project(
            ctx.work / "noop-plain", versions=ROOT / "alembic/versions"
        )
        env = child_env(url)
        commands = {
            "make": ["make", "-s", "migrate"],
            "house-alembic": [str(BIN / "alembic"), "upgrade", "head"],
            "plain": [str(BIN / "alembic"), "-c", str(plain_ini), "upgrade", "head"],
        }
        for argv in commands.values():  # warm-up: bytecode and file caches, not measured
            timed(argv, env=env)
        times: dict[str, list[float]] = {key: [] for key in commands}
        keys = list(commands)
        for round_ in range(ctx.config.process_repeats):
            order = keys[round_ % len(keys) :] + keys[: round_ % len(keys)]
            for key in order:
                times[key].append(timed(commands[key], env=env))
        logs.info(
            "    " + ", ".join(f"{k} {Spread.of(v).median * 1000:.0f} ms" for k, v in times.items())
        )
    finally:
        ctx.factory.drop(url)
    spreads = {key: Spread.of(values) for key, values in times.items()}
    plain = spreads["plain"]
    labels = {
        "make": "**ours**: `make migrate`",
        "house-alembic": "**ours**: `alembic upgrade head` (house env.py)",
        "plain": "plain Alembic: `alembic upgrade head` (standard env.py)",
    }
    section = Section(
        number=NUMBER,
        key="5-noop-migrate",
        title=TITLE,
        how=(
            "A database already at head with the project's sample revisions; each command is a "
            f"fresh process, {ctx.config.process_repeats} runs each, interleaved, after one "
            "untimed warm-up run. The plain project uses the same `alembic/versions/` directory "
            "and the env.py `alembic init` writes (create_engine + configure + run_migrations)."
        ),
        columns=["command", "process wall time", "vs plain Alembic"],
        rows=[
            [labels[key], spread.text(), ratio_text(ratio(spread.median, plain.median))]
            for key, spread in spreads.items()
        ],
        raw={"times": times},
    )
    for key in ("make", "house-alembic"):
        section.headlines.append(
            Headline(
                f"no-op {labels[key].split(': ', 1)[1]}: process wall time",
                spreads[key],
                plain,
                "plain Alembic",
                overhead=True,
            )
        )
        factor = ratio(spreads[key].median, plain.median)
        met = factor <= TARGET_RATIO
        section.targets.append(
            Target(
                f"no-op {labels[key].split(': ', 1)[1]} ≤ {TARGET_RATIO}× plain Alembic",
                f"{ratio_text(factor)} ({spreads[key].text()} vs {plain.text()})",
                met,
                "" if met else _why(spreads[key].median - plain.median),
            )
        )
    return section


def _why(extra_s: float) -> str:
    return (
        f"the house command spends {extra_s * 1000:.0f} ms more per run than plain Alembic; "
        "that is start-up work (imports, URL resolution, history checks) paid on every run"
    )
