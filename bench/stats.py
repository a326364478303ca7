"""Medians with their spread, and durations written the way people read them."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def duration(seconds: float) -> str:
    """Write a duration with a unit that keeps two or three significant digits."""
    if math.isnan(seconds):
        return "–"
    ms = seconds * 1000
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    if ms >= 1:
        return f"{ms:.2f} ms"
    return f"{ms:.3f} ms"


def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-quantile (0..1) by nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[rank]


@dataclass(frozen=True)
class Spread:
    """The median of repeated runs, with the fastest and slowest run."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        clean = [v for v in values if not math.isnan(v)]
        if not clean:
            return cls(math.nan, math.nan, math.nan, 0)
        return cls(statistics.median(clean), min(clean), max(clean), len(clean))

    @property
    def missing(self) -> bool:
        return self.n == 0

    def text(self) -> str:
        """``451 ms (430 ms – 470 ms)``: durations, in seconds."""
        if self.missing:
            return "–"
        if self.n == 1:
            return duration(self.median)
        return f"{duration(self.median)} ({duration(self.low)} – {duration(self.high)})"


def ratio(numerator: float, denominator: float) -> float:
    if denominator <= 0 or math.isnan(numerator) or math.isnan(denominator):
        return math.nan
    return numerator / denominator


def ratio_text(value: float) -> str:
    if math.isnan(value):
        return "–"
    if value >= 100:
        return f"{value:.0f}×"
    if value >= 10:
        return f"{value:.1f}×"
    return f"{value:.2f}×"
