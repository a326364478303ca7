"""7. The enum lint on 1,000 generated model files vs a bare ``ast.parse`` of them.

The lint runs on every commit (pre-commit), so its cost is felt at each ``git
commit``; parsing is the floor any AST-based check pays. Both sides read every file
from disk. A few files plant an ``sa.Enum`` so the run also proves the lint looked.
Both sides are timed in CPU seconds (``time.process_time``): the machine is shared,
and a wall clock would time the neighbours.

The second half runs the command a user runs, ``python -m conventions lint``, on a
generated 500-file repository whose models reach their enums and column helpers
through imports across source roots (:mod:`bench.lint_repository`): its CPU
(``wait4`` rusage of the child) minus a bare interpreter's start.
"""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import lint_repository
from bench.context import Context
from bench.results import Headline, Section, Target
from bench.stats import Spread, duration, ratio, ratio_text
from conventions import logs

NUMBER = 7
TITLE = "The enum lint on 1,000 model files"
TARGET_RATIO = 1.5
TARGET_REPOSITORY_CPU = 1.0  # seconds of CPU after interpreter start, 500 files
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
            "Both sides run in-process, read each file from disk, and are timed in CPU "
            f"seconds {ctx.config.lint_repeats} times, interleaved, after an untimed warm-up. "
            f"Then `python -m conventions lint src packages migrations` runs "
            f"{ctx.config.lint_repeats} times on a generated {lint_repository.FILES}-file "
            "repository (shared enums and column helpers under `packages/common/src`, SQLAlchemy "
            "and Flask-SQLAlchemy models under `src/`, an Alembic history; roots from "
            "`[tool.conventions.lint] src`), timed by the child's CPU (user + system) minus a "
            "bare `python -c pass`."
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
            started = time.process_time()
            (linter if key == "lint" else _parse_all)(paths)
            times[key].append(time.process_time() - started)
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
    _repository(ctx, section)
    return section


def _cpu(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    """CPU seconds of one child process (wait4 rusage), and its stdout."""
    child = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert child.stdout is not None
    out = child.stdout.read().decode("utf-8", "replace")
    _pid, _status, usage = os.wait4(child.pid, 0)
    child.returncode = 0  # reaped here; keep Popen from waiting again
    return usage.ru_utime + usage.ru_stime, out


def _repository(ctx: Context, section: Section) -> None:
    """The command on a 500-file repository: CPU after interpreter start."""
    root = ctx.work / "lint-repository"
    planted = lint_repository.generate(root) + lint_repository.HELPER_FINDINGS
    project = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(project), "CONVENTIONS_ROOT": str(root)}
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "conventions", "lint", "src", "packages", "migrations"]
    bare_cmd = [sys.executable, "-c", "pass"]
    imports_cmd = [sys.executable, "-c", "import conventions.cli, conventions.commands.lint"]
    runs = max(1, ctx.config.lint_repeats)
    bare, imports, full = [], [], []
    found = 0
    for _ in range(runs):
        bare.append(_cpu(bare_cmd, root, env)[0])
        imports.append(_cpu(imports_cmd, root, env)[0])
        seconds, out = _cpu(command, root, env)
        full.append(seconds)
        found = len(out.splitlines())
    start = Spread.of(bare).median
    after = Spread.of([value - start for value in full])
    package = Spread.of([value - start for value in imports])
    logs.info(f"    500-file repository: {duration(after.median)} CPU after interpreter start")
    count = lint_repository.FILES
    section.rows += [
        [
            f"`python -m conventions lint`, {count}-file repository, CPU after interpreter start",
            after.text(),
            duration(after.median / count),
        ],
        ["… of which `import conventions` (every command pays it)", package.text(), "–"],
    ]
    section.notes.append(
        f"The {count}-file repository run reported {found} finding(s) for {planted} planted "
        "(db.Enum through a Flask instance, Mapped[...] of an enum in another source root, "
        "ALTER TYPE ... ADD VALUE in migrations, the shared helpers' own definitions)."
    )
    section.raw["repository"] = {"cpu_after_start": full, "interpreter": bare, "imports": imports}
    met = after.median < TARGET_REPOSITORY_CPU
    section.targets.append(
        Target(
            f"{count}-file repository < {TARGET_REPOSITORY_CPU:g} s of CPU after interpreter start",
            duration(after.median),
            met,
            ""
            if met
            else "most of it is importing the package (SQLAlchemy, Alembic), see the row below",
        )
    )
