"""``lint --squawk``: run squawk on the SQL each revision's upgrade emits, offline.

Squawk already knows ~40 PostgreSQL locking hazards; this module only feeds it.
Every revision file in the directories alembic.ini names (``script_location``,
``version_locations``; ``conventions.project.layout``) has its ``upgrade()``
rendered offline as ``alembic upgrade PARENT:REVISION --sql`` would (no database:
offline mode needs only the dialect) but without the project's env.py, which may
need a running app. Squawk reads all of them in one run with the committed
``.squawk.toml``, and each violation is reported against the migration file it
came from, in the lint's one-line format (code HSE012, squawk's rule name first in
the message, then the SQL line that caused it and squawk's help). A revision that
cannot render offline (it reads query results, or fails to import) is skipped and
named; the rest are checked. A migration may carry
``# squawk-ignore-file: rule-a, rule-b  (reason)``; that becomes squawk's own
file-level ignore for its SQL.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from conventions.errors import SquawkFailed
from conventions.lint.report import Finding, display_path

CONFIG_NAME = ".squawk.toml"
_IGNORE = re.compile(
    r"^\s*#\s*squawk-ignore-file\s*:?\s*(?P<rules>[a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)", re.M
)
_UPGRADE = re.compile(r"^def upgrade\(", re.M)
CODE = "HSE012"


@dataclass(frozen=True, order=True)
class Violation:
    path: str
    line: int
    sql_line: int
    rule: str
    message: str
    statement: str
    help: str

    def finding(self) -> Finding:
        """One line, as every lint finding: squawk's rule, its message, where, its help."""
        message = f"squawk {self.rule}: {self.message} "
        message += f"[upgrade SQL line {self.sql_line}: {self.statement}]"
        message += f" help: {self.help}" if self.help else ""
        return Finding(self.path, self.line, 1, CODE, " ".join(message.split()))

    def render(self) -> str:
        return self.finding().render()


@dataclass(frozen=True)
class RevisionSql:
    path: Path
    revision: str
    sql: str


@dataclass(frozen=True, order=True)
class Skipped:
    """A revision that cannot render offline (or load), so squawk never saw it."""

    path: str
    reason: str

    def render(self) -> str:
        return f"{self.path} ({self.reason})"


def revision_files(root: Path) -> list[Path]:
    """Every revision file in the project's version directories (alembic.ini's)."""
    from conventions.project.layout import migration_locations

    files: list[Path] = []
    for directory in migration_locations(root).version_dirs:
        if directory.is_dir():
            files.extend(
                p for p in sorted(directory.glob("*.py")) if not p.name.startswith(("_", "."))
            )
    return files


def revision_sql(
    root: Path, *, only: set[Path] | None = None, skipped: list[Skipped] | None = None
) -> list[RevisionSql]:
    """Render each revision's upgrade alone, offline, without the project's env.py.

    Their env.py may need a running app (Flask-Migrate's reads ``current_app``), and
    the SQL of one revision needs only the PostgreSQL dialect: each file is loaded
    and its ``upgrade()`` run against an offline MigrationContext, framed as
    ``alembic upgrade PARENT:REV --sql`` frames it (BEGIN, ``-- Running upgrade``,
    COMMIT; the version-table lines left out). A file that does not load, or whose
    upgrade cannot run offline (``op.execute(...).fetchall()``), is added to
    ``skipped`` with the reason and the rest are rendered.
    """
    rendered = []
    text = str(root)
    if text not in sys.path:
        sys.path.insert(0, text)  # revisions import the project, as under alembic/flask db
    for path in revision_files(root):
        if only is not None and path.resolve() not in only:
            continue
        try:
            with contextlib.redirect_stdout(sys.stderr):  # a revision's print is no finding
                rendered.append(_render(path))
        except Exception as err:
            if skipped is not None:
                skipped.append(Skipped(display_path(path), _reason(err, path)))
    return rendered


def _render(path: Path) -> RevisionSql:
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext
    from alembic.util import load_python_file
    from sqlalchemy import MetaData

    from conventions.naming import NAMING_CONVENTION

    module = load_python_file(str(path.parent), path.name)
    revision = str(getattr(module, "revision", path.stem))
    down = getattr(module, "down_revision", None)
    parents = ", ".join(down) if isinstance(down, (tuple, list)) else (down or "")
    buffer = io.StringIO()
    context = MigrationContext.configure(
        dialect_name="postgresql",
        dialect_opts={"paramstyle": "named"},
        opts={
            "as_sql": True,
            "output_buffer": buffer,
            "literal_binds": True,
            # Constraint names only: the house convention stands in for the models'.
            "target_metadata": MetaData(naming_convention=NAMING_CONVENTION),
        },
    )
    context.impl.emit_begin()
    context.impl.static_output(f"-- Running upgrade {parents} -> {revision}")
    with Operations.context(context):
        module.upgrade()
    context.impl.emit_commit()
    return RevisionSql(path, revision, buffer.getvalue())


def _reason(err: BaseException, path: Path) -> str:
    import traceback

    line = next(
        (
            frame.lineno
            for frame in reversed(traceback.extract_tb(err.__traceback__))
            if Path(frame.filename).resolve() == path.resolve()
        ),
        getattr(err, "lineno", None),
    )
    where = f"line {line}: " if line else ""
    detail = " ".join(str(err).split())
    if len(detail) > 160:
        detail = detail[:157] + "..."
    return f"{where}{type(err).__name__}: {detail}" if detail else f"{where}{type(err).__name__}"


def squawk_binary() -> str:
    beside = Path(sys.executable).with_name("squawk")
    found = str(beside) if beside.is_file() else shutil.which("squawk")
    if not found:
        raise SquawkFailed(
            "squawk is not installed, so the migrations' SQL cannot be checked.",
            hints=["make lint installs it from requirements.lock (pip install squawk-cli)."],
        )
    return found


def run(
    root: Path, *, only: set[Path] | None = None, skipped: list[Skipped] | None = None
) -> list[Violation]:
    """Return squawk's violations for every revision's upgrade SQL under ``root``.

    ``only``: resolved paths of the revision files to check (default all).
    """
    revisions = revision_sql(root, only=only, skipped=skipped)
    if not revisions:
        return []
    config = root / CONFIG_NAME
    with tempfile.TemporaryDirectory(prefix="squawk-") as tmp:
        files: dict[str, tuple[RevisionSql, int]] = {}
        for index, item in enumerate(revisions):
            ignores = _ignores(item.path)
            sql_file = Path(tmp) / f"{index:04d}-{item.path.stem}.sql"
            sql_file.write_text(ignores + item.sql, encoding="utf-8")
            files[str(sql_file)] = (item, ignores.count("\n"))
        argv = [squawk_binary(), "--reporter", "json"]
        if config.is_file():
            argv += ["--config", str(config)]
        done = subprocess.run([*argv, *files], capture_output=True, text=True, check=False)
    try:
        report = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        report = None
    if done.returncode not in (0, 1) or not isinstance(report, list):
        raise SquawkFailed(
            f"squawk exited {done.returncode} without a report: "
            f"{(done.stderr or done.stdout).strip()[:500]}",
            hints=[
                f"Check {display_path(config)} and run squawk by hand on the SQL of "
                "'alembic upgrade REV --sql'."
            ],
        )
    return sorted(_violation(entry, files) for entry in report)


def _ignores(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return "".join(f"-- squawk-ignore-file {m['rules']}\n" for m in _IGNORE.finditer(text))


def _violation(entry: dict[str, object], files: dict[str, tuple[RevisionSql, int]]) -> Violation:
    item, shift = files[str(entry["file"])]
    raw_line = entry.get("line", 0)  # 0-based, ignores included
    line = int(raw_line) if isinstance(raw_line, int | float | str) else 0
    sql_lines = item.sql.splitlines()
    at_sql = line - shift
    statement = sql_lines[at_sql].strip() if 0 <= at_sql < len(sql_lines) else ""
    if len(statement) > 120:
        statement = statement[:117] + "..."
    source = item.path.read_text(encoding="utf-8")
    upgrade = _UPGRADE.search(source)
    return Violation(
        path=display_path(item.path),
        line=source.count("\n", 0, upgrade.start()) + 1 if upgrade else 1,
        sql_line=at_sql + 1,
        rule=str(entry.get("rule_name", "?")),
        message=str(entry.get("message", "")),
        statement=statement,
        help=str(entry.get("help") or ""),
    )
