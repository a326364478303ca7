"""``lint --squawk``: run squawk on the SQL each revision's upgrade emits, offline.

Squawk already knows ~40 PostgreSQL locking hazards; this module only feeds it.
For every revision, ``alembic upgrade PARENT:REVISION --sql`` renders the upgrade
as text (no database: offline mode needs only the dialect), squawk reads all of
them in one run with the committed ``.squawk.toml``, and each violation is
reported against the migration file it came from, in the lint's one-line format
(code HSE012, squawk's rule name first in the message, then the SQL line that
caused it and squawk's help). A migration may carry
``# squawk-ignore-file: rule-a, rule-b  (reason)``; that becomes squawk's own
file-level ignore for its SQL.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from conventions.alembic_config import alembic_config
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


def revision_sql(root: Path) -> list[RevisionSql]:
    """Render each revision's upgrade alone, base first, as Alembic's offline mode does."""
    from alembic import command
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config(root))
    rendered = []
    for script in reversed(list(scripts.walk_revisions("base", "heads"))):
        parents = script._normalized_down_revisions
        buffer = io.StringIO()
        config = alembic_config(root)
        config.output_buffer = buffer
        span = f"{parents[0]}:{script.revision}" if parents else script.revision
        command.upgrade(config, span, sql=True)
        text = buffer.getvalue()
        if len(parents) > 1:
            text = _last_step(text)  # from one parent Alembic also renders the other branch
        rendered.append(RevisionSql(Path(script.path), script.revision, text))
    return rendered


def _last_step(text: str) -> str:
    """Keep only the final revision's transaction of an offline rendering."""
    marker = text.rfind("-- Running upgrade ")
    if marker < 0:
        return text
    begin = text.rfind("BEGIN;", 0, marker)
    return text[begin if begin >= 0 else marker :]


def squawk_binary() -> str:
    beside = Path(sys.executable).with_name("squawk")
    found = str(beside) if beside.is_file() else shutil.which("squawk")
    if not found:
        raise SquawkFailed(
            "squawk is not installed, so the migrations' SQL cannot be checked.",
            hints=["make lint installs it from requirements.lock (pip install squawk-cli)."],
        )
    return found


def run(root: Path) -> list[Violation]:
    """Return squawk's violations for every revision's upgrade SQL under ``root``."""
    revisions = revision_sql(root)
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
    line = int(entry.get("line", 0))  # type: ignore[call-overload]  # 0-based, ignores included
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
