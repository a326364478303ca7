"""Ours and the alternatives, interleaved repeat by repeat on the same busy table.

Interleaving (ours, naive, ours, naive, …) rather than running each variant's
repeats back to back spreads a noisy neighbour's burst over every variant instead
of charging it to one. A checkpoint before each trial keeps the previous trial's
dirty pages from being flushed inside the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench import db
from bench.context import Context
from bench.lockwatch import INTERVAL_S
from bench.plots import writer_latency
from bench.results import Headline, Section, Target
from bench.stats import Spread, duration
from bench.trial import Trial, VariantResult, baseline_stats, run_trial
from conventions import logs

WRITER_TARGET_S = 0.010


@dataclass(frozen=True)
class Variant:
    key: str  # "ours", "naive", "enum-rewrite", …
    label: str  # Markdown for the table's first column
    run: Callable[[], None]
    reset: Callable[[], None] | None = None  # untimed: puts the table back for the next trial
    repeats: int | None = None  # fewer repeats for very slow variants
    unavailable: str | None = None  # why this variant cannot run in this checkout
    short: str = ""  # its name in the headline table; the key when empty


def interleave(ctx: Context, variants: Sequence[Variant]) -> dict[str, VariantResult]:
    """Run every variant ``repeats`` times (or its own fewer), round by round."""
    url, writer = ctx.big_table()
    repeats = ctx.config.repeats
    trials: dict[str, list[Trial]] = {v.key: [] for v in variants}
    rounds = max((v.repeats or repeats) for v in variants)
    for round_ in range(rounds):
        for variant in variants:
            if variant.unavailable or round_ >= (variant.repeats or repeats):
                continue
            db.checkpoint(url)
            trial = run_trial(
                writer,
                variant.key,
                variant.run,
                baseline_s=ctx.config.baseline_s,
                tail_s=ctx.config.tail_s,
            )
            trials[variant.key].append(trial)
            state = f"failed: {trial.error}" if trial.error else "ok"
            logs.info(
                f"    {variant.key} #{round_ + 1}: {duration(trial.seconds)}, writer worst "
                f"{duration(trial.worst)} ({state})"
            )
            if variant.reset is not None:
                variant.reset()
    return {key: VariantResult(key, tuple(found)) for key, found in trials.items()}


COLUMNS = [
    "variant",
    "operation wall time",
    "writer's worst statement during it",
    "writer's longest lock wait (sampled)",
    "statements during it",
    "runs",
]


def table_rows(variants: Sequence[Variant], results: dict[str, VariantResult]) -> list[list[str]]:
    rows = []
    for variant in variants:
        result = results[variant.key]
        if variant.unavailable:
            rows.append([variant.label, "not run", variant.unavailable, "–", "–", "0"])
            continue
        counts = Spread.of([float(len(t.during)) for t in result.ok])
        failed = f", {len(result.errors)} failed: {result.errors[0]}" if result.errors else ""
        rows.append(
            [
                variant.label,
                result.seconds.text(),
                result.worst.text(),
                _lock_text(result.lock_wait),
                "–" if counts.missing else f"{counts.median:.0f}",
                f"{len(result.ok)}{failed}",
            ]
        )
    return rows


def _lock_text(wait: Spread) -> str:
    if wait.missing:
        return "–"
    if wait.high == 0:
        return "none seen"
    if wait.median == 0:
        return f"none in most runs (up to {duration(wait.high)})"
    return wait.text()


def writer_target(operation: str, result: VariantResult, *, baseline: dict[str, float]) -> Target:
    """The issue's promise: the writer's worst statement within 10 ms during a house op."""
    promise = f"writer's worst statement during {operation} ≤ {duration(WRITER_TARGET_S)}"
    if not result.ok:
        why = result.errors[0] if result.errors else "the house operation is not available yet"
        return Target(promise, "–", None, why)
    worst = result.worst
    measured = f"median {duration(worst.median)}, slowest run {duration(worst.high)}"
    met = worst.median <= WRITER_TARGET_S
    why = ""
    if not met:
        why = _why_slow(result, baseline)
    elif worst.high > WRITER_TARGET_S:
        why = (
            f"the median run is within target but the slowest of {worst.n} runs took "
            f"{duration(worst.high)}"
        )
    return Target(promise, measured, met, why)


def _why_slow(result: VariantResult, baseline: dict[str, float]) -> str:
    """Say why the writer was slow, from the lock samples and which statements suffered."""
    worst, lock_wait = result.worst, result.lock_wait
    if lock_wait.median >= worst.median * 0.5:
        return (
            f"the writer waited on a lock for {duration(lock_wait.median)} (median run): the "
            "operation holds or queues for a lock that blocks the writer"
        )
    every = f"sampled every {INTERVAL_S * 1000:g} ms"
    if lock_wait.high == 0:
        waits = f"no lock wait of the writer was seen ({every})"
    else:
        waits = f"the writer's lock waits were at most {duration(lock_wait.high)} ({every})"
    reads = result.worst_of(("select",)).median
    writes = result.worst_of(("insert", "update")).median
    if reads <= WRITER_TARGET_S < writes:
        cause = (
            f"reads stayed fast (point SELECT worst {duration(reads)}, median run); the slow "
            f"statements were INSERT/UPDATE (worst {duration(writes)}), whose commits wait "
            "for a WAL flush to disk, a disk and a WAL this operation shares with every other "
            "database on the server"
        )
    else:
        cause = (
            f"reads and writes alike were slowed (SELECT worst {duration(reads)}, "
            f"INSERT/UPDATE worst {duration(writes)}): CPU contention on this shared "
            "2-core machine"
        )
    return (
        f"{waits}; {cause}. With no DDL running, the writer's worst statement in a "
        f"{baseline.get('seconds', 0):g} s quiet window was typically "
        f"{duration(baseline['window_worst'])} (worst of all quiet windows: "
        f"{duration(baseline['max'])}): the machine's own noise floor, near or above the target"
    )


def section(
    ctx: Context,
    *,
    number: int,
    key: str,
    title: str,
    how: str,
    variants: Sequence[Variant],
    results: dict[str, VariantResult],
    headlines: Sequence[tuple[str, str, str]] = (),
    targets: Sequence[tuple[str, str]] = (),
    limits: dict[str, float | None] | None = None,
) -> Section:
    """Write up a DDL comparison: table, headlines (what, ours, theirs), targets, plot.

    ``targets`` pairs an operation's name with the variant that must keep the
    writer within 10 ms.
    """
    base = baseline_stats(list(results.values())) | {"seconds": ctx.config.baseline_s}
    result = Section(
        number=number,
        key=key,
        title=title,
        how=how,
        columns=COLUMNS,
        rows=table_rows(variants, results),
        raw={k: [t.summary() for t in r.trials] for k, r in results.items()} | {"baseline": base},
    )
    result.notes.append(
        f"Writer with no DDL running (the quiet {ctx.config.baseline_s:g} s before each trial, "
        f"{base['count']:.0f} statements): median {duration(base['p50'])}, p99 "
        f"{duration(base['p99'])}; worst statement per quiet window typically "
        f"{duration(base['window_worst'])}, worst overall {duration(base['max'])}."
    )
    names = {v.key: v.short or v.key for v in variants}
    for what, ours_key, theirs_key in headlines:
        ours, theirs = results[ours_key], results[theirs_key]
        if ours.ok and theirs.ok:
            result.headlines.append(Headline(what, ours.worst, theirs.worst, names[theirs_key]))
    for operation, variant_key in targets:
        result.targets.append(writer_target(operation, results[variant_key], baseline=base))
    panels = [
        (v.label, t, (limits or {}).get(v.key))
        for v in variants
        if (t := results[v.key].representative())
    ]
    if panels:
        result.plot = writer_latency(
            ctx.config.plot_dir / f"{key}.png",
            f"{number}. {title}",
            panels,
            target_s=None if limits else WRITER_TARGET_S,
        )
    return result
