"""The lint baseline: legacy findings a project accepted once, so only new ones fail.

A five-year-old history has Enum columns in applied migrations that policy forbids
editing. ``python -m conventions lint --baseline`` records today's findings in a
committed JSON file (``.conventions-lint-baseline.json`` at the project root by
default, ``[tool.conventions.lint] baseline``); later runs report only findings
the file does not hold.

A finding is keyed by the check that made it (``files``, ``models``, ``squawk``),
its file (relative to the project root), its code and the offending source text —
never its line number, so code added above a legacy line does not resurrect it:

- files: the source line, whitespace collapsed;
- models: the column and type the message names (the metadata is the source);
- squawk: the rule and the SQL statement (not the SQL line number).

Identical keys are counted: two identical legacy lines in one file are two
entries' worth, and a third one is new (the last ones in file order are reported).

When the file is rewritten:

- ``lint --baseline`` (with ``--models``/``--squawk`` for those checks) rewrites the
  entries of the check it ran — all of them, or with PATHs only those files' — from
  what it finds now. That is the only way entries are added.
- Any other run drops the entries it can judge that are gone: a finding fixed, a
  file deleted. It judges only files it read (a pre-commit run on two staged files
  never drops entries for the others) and only its own check. It never adds. The
  rewrite is announced on stderr; under pre-commit it shows as "files were modified
  by this hook", so the smaller baseline is committed with the fix.

Manifest findings (HSE010 edited, HSE011 deleted applied migration) are never
baselined: the fix is restoring the file, not accepting the edit.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from conventions.errors import LintError
from conventions.lint.report import Finding, display_path

VERSION = 1
NEVER_BASELINED = frozenset({"HSE010", "HSE011"})
ABOUT = (
    "Lint findings accepted when the conventions were adopted (python -m conventions lint "
    "--baseline). Only findings not listed here fail; fixed ones are dropped automatically. "
    "Do not add entries by hand: fix new findings, or noqa them with a reason."
)
_SQUAWK = re.compile(r"^squawk (?P<rule>\S+): .*?\[upgrade SQL line \d+: (?P<sql>.*)\]", re.S)


class BaselineMalformed(LintError):
    """The baseline file exists but is not the JSON this module writes."""

    def __init__(self, *, path: Path, detail: str) -> None:
        self.path = path
        super().__init__(
            f"{display_path(path)} is not a lint baseline: {detail}.",
            hints=[
                "Restore it from git, or record it again: python -m conventions lint --baseline"
            ],
        )


@dataclass(frozen=True, order=True)
class Key:
    check: str
    path: str
    code: str
    source: str


@dataclass
class Baseline:
    path: Path
    entries: Counter[Key] = field(default_factory=Counter)
    exists: bool = False

    def count(self, check: str) -> int:
        return sum(n for key, n in self.entries.items() if key.check == check)


@dataclass
class Outcome:
    """What a run reports after the baseline, and what it did to the file."""

    new: list[Finding]
    baselined: int = 0
    dropped: int = 0


def load(path: Path) -> Baseline:
    baseline = Baseline(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return baseline
    try:
        data = json.loads(text)
        rows = data["findings"]
        if data.get("version") != VERSION or not isinstance(rows, list):
            raise ValueError(f"expected version {VERSION} with a list of findings")
        for row in rows:
            key = Key(str(row["check"]), str(row["path"]), str(row["code"]), str(row["source"]))
            baseline.entries[key] += int(row.get("count", 1))
    except (ValueError, KeyError, TypeError) as err:
        raise BaselineMalformed(path=path, detail=str(err)) from None
    baseline.exists = True
    return baseline


def write(baseline: Baseline) -> None:
    rows = [
        {"check": k.check, "path": k.path, "code": k.code, "source": k.source, "count": n}
        for k, n in sorted(baseline.entries.items())
        if n > 0
    ]
    body = json.dumps({"about": ABOUT, "version": VERSION, "findings": rows}, indent=2)
    temporary = baseline.path.with_name(baseline.path.name + ".tmp")
    temporary.write_text(body + "\n", encoding="utf-8")
    temporary.replace(baseline.path)
    baseline.exists = True


class Keys:
    """Turn findings into keys, reading each file's lines once."""

    def __init__(self, check: str, relative: Callable[[str], str]) -> None:
        self.check = check
        self.relative = relative
        self._lines: dict[str, list[str]] = {}

    def __call__(self, finding: Finding) -> Key:
        if self.check == "squawk":
            source = _squawk_source(finding.message)
        elif self.check == "models":
            source = finding.message
        else:
            source = " ".join(self._line(finding.path, finding.line).split())
        return Key(self.check, self.relative(finding.path), finding.code, source)

    def _line(self, path: str, number: int) -> str:
        if path not in self._lines:
            try:
                with open(path, encoding="utf-8", errors="replace") as file:
                    self._lines[path] = file.read().splitlines()
            except OSError:
                self._lines[path] = []
        lines = self._lines[path]
        return lines[number - 1] if 0 < number <= len(lines) else ""


def _squawk_source(message: str) -> str:
    """``rule [statement]`` out of an HSE012 message: squawk's prose and help are per rule."""
    head, _, _help = message.partition("] help: ")
    match = _SQUAWK.match(head + "]" if _help else message)
    if match is None:
        return message
    return f"{match['rule']} [{match['sql'].rstrip(']')}]"


def apply(
    baseline: Baseline,
    findings: Iterable[Finding],
    keys: Keys,
    *,
    judged: Callable[[str], bool],
    root: Path,
) -> Outcome:
    """Hold ``findings`` against the baseline; drop the judged entries that are gone.

    ``judged(relative_path)`` says whether this run read that file for its check.
    """
    grouped: dict[Key, list[Finding]] = {}
    outcome = Outcome(new=[])
    for finding in sorted(findings):
        if finding.code in NEVER_BASELINED:
            outcome.new.append(finding)
            continue
        grouped.setdefault(keys(finding), []).append(finding)
    for key, found in grouped.items():
        allowed = baseline.entries.get(key, 0)
        outcome.baselined += min(allowed, len(found))
        outcome.new.extend(found[allowed:])  # beyond the recorded count: the last ones
    for key, recorded in list(baseline.entries.items()):
        if key.check != keys.check:
            continue
        seen = len(grouped.get(key, ()))
        missing = not (root / key.path).exists()
        if (missing or judged(key.path)) and seen < recorded:
            outcome.dropped += recorded - seen
            baseline.entries[key] = seen
    if outcome.dropped:
        baseline.entries = +baseline.entries  # drop zero counts
        write(baseline)
    outcome.new.sort()
    return outcome


def record(
    baseline: Baseline,
    findings: Iterable[Finding],
    keys: Keys,
    *,
    judged: Callable[[str], bool],
) -> tuple[int, list[Finding]]:
    """Replace the judged entries of this check with ``findings``; return (recorded, refused)."""
    refused: list[Finding] = []
    for key in list(baseline.entries):
        if key.check == keys.check and judged(key.path):
            del baseline.entries[key]
    recorded = 0
    for finding in findings:
        if finding.code in NEVER_BASELINED:
            refused.append(finding)
            continue
        baseline.entries[keys(finding)] += 1
        recorded += 1
    write(baseline)
    return recorded, sorted(refused)
