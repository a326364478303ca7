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
from bench.processes import BIN, child_env, timed, timed_with_cpu
from bench.results import Headline, Section, Target
from bench.stats import Spread, ratio, ratio_text
from conventions import logs
from conventions.harness.scratch import run_cli
from conventions.project.layout import layout

NUMBER = 5
TITLE = "No-op migrate at head"
TARGET_RATIO = 1.15


def run(ctx: Context) -> Section:
    url = ctx.factory.create(prefix="bench_head")
    try:
        done = run_cli(["alembic", "upgrade", "head"], url=url, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(f"could not migrate the database to head: {done.stderr[-500:]}")
        plain_ini = project.plain_project(ctx.work / "noop-plain", versions=layout(ROOT).versions)
        env = child_env(url)
        commands = {
            "make": ["make", "-s", "migrate"],
            "cli": [str(BIN / "python"), "-m", "conventions", "migrate"],
            "house-alembic": [str(BIN / "alembic"), "upgrade", "head"],
            "plain": [str(BIN / "alembic"), "-c", str(plain_ini), "upgrade", "head"],
        }
        for argv in commands.values():  # warm-up: bytecode and file caches, not measured
            timed(argv, env=env)
        times: dict[str, list[float]] = {key: [] for key in commands}
        cpu: dict[str, list[float]] = {key: [] for key in commands}
        keys = list(commands)
        for round_ in range(ctx.config.process_repeats):
            order = keys[round_ % len(keys) :] + keys[: round_ % len(keys)]
            for key in order:
                wall, used = timed_with_cpu(commands[key], env=env)
                times[key].append(wall)
                cpu[key].append(used)
        logs.info(
            "    " + ", ".join(f"{k} {Spread.of(v).median * 1000:.0f} ms" for k, v in times.items())
        )
    finally:
        ctx.factory.drop(url)
    spreads = {key: Spread.of(values) for key, values in times.items()}
    cpus = {key: Spread.of(values) for key, values in cpu.items()}
    plain = spreads["plain"]
    labels = {
        "make": "**ours**: `make migrate`",
        "cli": "**ours**: `python -m conventions migrate` (what make runs)",
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
        columns=["command", "process wall time", "vs plain", "CPU time (user+sys)", "vs plain"],
        rows=[
            [
                labels[key],
                spread.text(),
                ratio_text(ratio(spread.median, plain.median)),
                cpus[key].text(),
                ratio_text(ratio(cpus[key].median, cpus["plain"].median)),
            ]
            for key, spread in spreads.items()
        ],
        raw={"times": times, "cpu": cpu},
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
                "" if met else _why(key, spreads, cpus),
            )
        )
    return section


def _why(key: str, spreads: dict[str, Spread], cpus: dict[str, Spread]) -> str:
    """Say where the extra time goes, from the commands measured side by side."""
    extra = (spreads[key].median - spreads["plain"].median) * 1000
    parts = ", ".join(
        f"{name} {cpus[k].median * 1000:.0f} ms"
        for k, name in (
            ("make", "`make migrate`"),
            ("cli", "`python -m conventions migrate`"),
            ("house-alembic", "house `alembic upgrade head`"),
            ("plain", "plain Alembic"),
        )
    )
    cpu_factor = ratio(cpus[key].median, cpus["plain"].median)
    verdict = (
        "the house processes use about as much CPU as plain Alembic, so the gap is time "
        "spent waiting: on the server (the extra catalog and history queries run there, "
        "outside these figures) or for a CPU on this loaded machine"
        if cpu_factor <= TARGET_RATIO
        else "the house code does measurably more work per run (imports and checks)"
    )
    return (
        f"{extra:.0f} ms more wall time per run than plain Alembic (median). CPU time of the "
        f"client processes, which other load on the machine barely moves: {parts} "
        f"({ratio_text(cpu_factor)} plain); {verdict}"
    )
