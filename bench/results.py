"""What a measurement hands the report: a table, headline ratios and target verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.stats import Spread, ratio, ratio_text


@dataclass(frozen=True)
class Headline:
    """One "ours vs theirs" figure; the ratio is what survives a noisy machine."""

    what: str
    ours: Spread
    theirs: Spread
    theirs_label: str
    overhead: bool = False  # True: "ours ÷ theirs" (a cost we add); else "theirs ÷ ours"

    @property
    def ratio(self) -> float:
        if self.overhead:
            return ratio(self.ours.median, self.theirs.median)
        return ratio(self.theirs.median, self.ours.median)

    @property
    def ratio_text(self) -> str:
        if self.overhead:
            return f"ours ÷ {self.theirs_label} = {ratio_text(self.ratio)}"
        return f"{self.theirs_label} ÷ ours = {ratio_text(self.ratio)}"


@dataclass(frozen=True)
class Target:
    """A promise from the issue and whether this run kept it."""

    promise: str
    measured: str
    met: bool | None  # None: could not be measured in this run
    why: str = ""  # the reason, whenever the target is missed or unmeasured

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**", None: "not measured"}[self.met]


@dataclass
class Section:
    """One measurement, ready to be written up."""

    number: int
    key: str  # file-name friendly, e.g. "1-add-choice-column"
    title: str
    how: str  # Markdown: what exactly runs on each side
    columns: list[str]
    rows: list[list[str]]
    headlines: list[Headline] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plot: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)
