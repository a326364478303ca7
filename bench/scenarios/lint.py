"""7. The enum lint on 1,000 generated model files vs a bare ``ast.parse`` of them.

The lint runs on every commit (pre-commit), so its cost is felt at each ``git
commit``; parsing is the floor any AST-based check pays. Both sides read every file
from disk. A few files plant an ``sa.Enum`` so the run also proves the lint looked.
"""

from __future__ import annotations

import ast
import importlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.context import Context
from bench.results import Headline, Section, Target
from bench.stats import Spread, duration, ratio, ratio_text
from conventions import logs

NUMBER = 7
TITLE = "The enum lint on 1,000 model files"
TARGET_RATIO = 1.5
PLANT_EVERY = 50  # one file in 50 declares a native Enum the lint must report

MODEL = '''\
"""Generated model {i}."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

STATUSES_{i} = ("draft", "active", "paused", "archived")


class Thing{i}(Base):
    """Something the business tracks, number {i}."""

    __tablename__ = "thing_{i}"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'active', 'paused', 'archived')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    segment_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("customer_segments.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), server_default="draft")
    kind: Mapped[str | None] = mapped_column({kind_type})
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def describe(self) -> str:
        if self.status == "archived":
            return f"{{self.name}} (archived)"
        return f"{{self.name}}: {{self.status}} since {{self.created_at:%Y-%m-%d}}"
'''


def _generate(folder: Path, count: int) -> tuple[list[Path], int]:
    folder.mkdir(parents=True, exist_ok=True)
    paths, planted = [], 0
    for i in range(count):
        plant = i % PLANT_EVERY == PLANT_EVERY - 1
        planted += plant
        kind = 'sa.Enum("a", "b", name="kind_enum")' if plant else "String(30)"
        path = folder / f"thing_{i:04d}.py"
        path.write_text(MODEL.format(i=i, kind_type=kind))
        paths.append(path)
    return paths, planted


def find_linter() -> Callable[[Sequence[Path]], Any] | None:
    """The lint's public many-files function, if this checkout has it."""
    for module_name, attribute in (
        ("conventions.lint", "lint_paths"),
        ("conventions.lint.static", "lint_paths"),
    ):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        found = getattr(module, attribute, None)
        if callable(found):
            return found
    return None


def _parse_all(paths: Sequence[Path]) -> int:
    for path in paths:
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return 0


def run(ctx: Context) -> Section:
    count = ctx.config.lint_files
    paths, planted = _generate(ctx.work / "lint-models", count)
    linter = find_linter()
    section = Section(
        number=NUMBER,
        key="7-lint",
        title=TITLE,
        how=(
            f"{count} generated model files of ~40 lines (a mapped class with a CHECK, a "
            f"foreign key, eight columns), one in {PLANT_EVERY} declaring an `sa.Enum`. "
            "Both sides run in-process, read each file from disk, and are timed "
            f"{ctx.config.lint_repeats} times, interleaved, after an untimed warm-up."
        ),
        columns=["what", f"time for {count} files", "per file"],
        rows=[],
    )
    promise = f"lint ≤ {TARGET_RATIO}× `ast.parse` of the same files"
    if linter is None:
        section.rows.append(["the enum lint", "not run", "no lint_paths in this checkout"])
        section.targets.append(Target(promise, "–", None, "the lint is not in this checkout"))
        return section
    findings = linter(paths)  # warm-up, and proof the lint looked
    _parse_all(paths)
    found = len(list(findings or []))
    times: dict[str, list[float]] = {"lint": [], "parse": []}
    for round_ in range(ctx.config.lint_repeats):
        for key in ("lint", "parse") if round_ % 2 == 0 else ("parse", "lint"):
            started = time.perf_counter()
            (linter if key == "lint" else _parse_all)(paths)
            times[key].append(time.perf_counter() - started)
    lint, parse = Spread.of(times["lint"]), Spread.of(times["parse"])
    factor = ratio(lint.median, parse.median)
    logs.info(f"    lint {duration(lint.median)}, ast.parse {duration(parse.median)}")
    section.rows = [
        ["**ours**: the enum lint", lint.text(), duration(lint.median / count)],
        ["bare `ast.parse` (read + parse)", parse.text(), duration(parse.median / count)],
    ]
    section.notes.append(
        f"The lint reported {found} finding(s) for {planted} planted `sa.Enum` declarations."
    )
    section.raw = {"times": times, "findings": found, "planted": planted}
    section.headlines.append(Headline("lint 1,000 files", lint, parse, "ast.parse", overhead=True))
    met = factor <= TARGET_RATIO
    section.targets.append(
        Target(
            promise,
            f"{ratio_text(factor)}",
            met,
            "" if met else "the lint's own walk of the tree costs more than the parse; see table",
        )
    )
    return section
