"""The writer's latency over time around each DDL, one panel per variant.

Each panel shows the representative run (the one whose worst statement is the
median of the repeats), every statement as a dot at its start time, on a log scale
so a 0.2 ms baseline and a 5 s stall fit together; a statement that stalled also
gets a bar reaching to when it finished. The shaded band is the DDL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from bench.stats import duration
from bench.trial import Trial

COLOURS = {"insert": "tab:blue", "update": "tab:orange", "select": "tab:green"}
STALL_S = 0.050


def _short(label: str) -> str:
    return label.replace("`", "").replace("**", "")


def writer_latency(
    path: Path,
    title: str,
    panels: Sequence[tuple[str, Trial, float | None]],
    *,
    target_s: float | None = 0.010,
) -> Path:
    """Draw one PNG with a panel per (label, trial, lock_timeout or None); return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(2, len(panels))
    rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(6.2 * columns, 3.4 * rows), sharey=True, squeeze=False
    )
    lowest = min((s[1] for _, t, _ in panels for s in t.timeline() if s[1] > 0), default=1e-4)
    highest = max((s[1] for _, t, _ in panels for s in t.timeline()), default=1e-2)
    highest = max(highest, target_s or 0, *(limit or 0 for _, _, limit in panels))
    for ax, (label, trial, limit_s) in zip(axes.flat, panels, strict=False):
        points = trial.timeline()
        for kind, colour in COLOURS.items():
            xs = [p[0] for p in points if p[2] == kind]
            ys = [max(p[1], lowest) * 1000 for p in points if p[2] == kind]
            ax.scatter(xs, ys, s=4, c=colour, label=kind, alpha=0.6, linewidths=0)
            # A stalled statement also gets a bar from its start to its end: how long it waited.
            for x, y in zip(xs, ys, strict=True):
                if y >= STALL_S * 1000:
                    ax.plot([x, x + y / 1000], [y, y], c=colour, lw=1.2, alpha=0.8)
        ax.axvspan(0, trial.seconds, color="tab:red", alpha=0.12, label="DDL running")
        if target_s is not None:
            ax.axhline(target_s * 1000, color="tab:red", lw=0.8, ls="--", label="10 ms target")
        if limit_s is not None:
            ax.axhline(limit_s * 1000, color="tab:purple", lw=0.8, ls=":", label="lock_timeout")
        ax.set_yscale("log")
        ax.set_ylim(lowest * 1000 * 0.8, highest * 1000 * 1.5)
        ax.set_title(
            f"{_short(label)}\nDDL {duration(trial.seconds)}, writer worst {duration(trial.worst)}",
            fontsize=9,
        )
        ax.set_xlabel("seconds from the start of the DDL")
        ax.grid(True, which="major", alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("statement latency (ms, log)")
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    legend: dict[str, object] = {}
    for ax in axes.flat:
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(name, handle)
    fig.legend(
        list(legend.values()),
        list(legend),
        loc="lower center",
        ncol=len(legend),
        fontsize=8,
        frameon=False,
        markerscale=3,
    )
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
