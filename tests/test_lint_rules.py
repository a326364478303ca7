"""The static lint against fixture files that carry their own expectations.

Each fixture under tests/fixtures/lint writes the expected finding beside the
offending line (flake8-bugbear style): ``# expect: HSE001:17`` means code HSE001
at column 17 of this line; ``# expect[-2]: ...`` points N lines up or down, for
findings inside a multi-line string where no comment can go. Lines without an
expectation must produce nothing: that is how the clean cases are proven.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conventions.lint.codes import BY_CODE
from conventions.lint.report import display_path
from conventions.lint.sql_comments import strip_comments
from conventions.lint.static import lint_paths

FIXTURES = Path(__file__).parent / "fixtures" / "lint"
# Folders whose files are linted one by one.
STATIC_DIRS = ("models", "migrations", "pkg", "broken")
# Project packages whose files name each other (re-exports, a Flask db, a SQLModel base
# inherited by a table class in another file): linted together, as a project is, and
# each file's findings compared with its own expectations.
PROJECT_DIRS = (
    "shop",
    "billing",
    "flask_flat",
    "sqlmodel_app",
    "lookalikes",
    "monorepo/services/api/orders",
)
CASES = sorted(
    path
    for folder in (*STATIC_DIRS, *PROJECT_DIRS)
    for path in (FIXTURES / folder).iterdir()
    if path.suffix in (".py", ".sql")
)
_EXPECT = re.compile(r"(?:#|--) expect(?:\[(?P<shift>[+-]\d+)\])?: (?P<items>[A-Z0-9:, ]+)$")


def expectations(path: Path) -> set[tuple[int, int, str]]:
    """Return {(line, col, code)} written in the fixture's expectation comments."""
    expected = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.search(line)
        if match is None:
            continue
        target = number + int(match["shift"] or 0)
        for item in match["items"].split(","):
            code, _, col = item.strip().partition(":")
            expected.add((target, int(col), code))
    return expected


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_fixture_findings_match_inline_expectations(path: Path) -> None:
    folder = path.parent.relative_to(FIXTURES).as_posix()
    if folder in PROJECT_DIRS:
        findings = [f for f in lint_paths([path.parent]) if f.path == display_path(path)]
    else:
        findings = lint_paths([path])
    got = {(f.line, f.col, f.code) for f in findings}
    assert got == expectations(path)
    assert {f.path for f in findings} <= {display_path(path)}
    assert all(f.code in BY_CODE and f.message for f in findings)


def test_every_fixture_expectation_has_a_column() -> None:
    """An expectation without a column would let a finding drift to the wrong token."""
    for path in CASES:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = _EXPECT.search(line)
            if match:
                assert all(":" in item for item in match["items"].split(",")), (path, line)


def test_fixtures_exercise_every_static_code() -> None:
    written = {code for path in CASES for (_line, _col, code) in expectations(path)}
    assert written == {
        "HSE001",
        "HSE002",
        "HSE003",
        "HSE004",
        "HSE005",
        "HSE006",
        "HSE007",
        "HSE008",
        "HSE013",
        "HSE014",
    }


@pytest.mark.parametrize(
    "folder",
    [
        "models/clean.py",
        "models/star_python_enum.py",
        "models/not_a_migration.py",
        "pkg/enums.py",
        "pkg/base.py",
        "shop/db.py",
        "lookalikes/compat.py",
        "sqlmodel_app/enums.py",
        "monorepo/packages/shared/src/shared/enums.py",
    ],
)
def test_clean_cases_produce_nothing(folder: str) -> None:
    assert lint_paths([FIXTURES / folder]) == []


def test_the_sample_models_and_migrations_are_clean() -> None:
    root = Path(__file__).resolve().parents[1]
    assert lint_paths([root / "app" / "models", root / "alembic" / "versions"]) == []


def test_stripping_sql_comments_keeps_offsets_lines_literals_and_dollar_bodies() -> None:
    text = "a -- x\n/* y /* n */\n z */ b 'c -- d' \"e/*\" $$ -- f\n $$ g"
    stripped = strip_comments(text)
    assert len(stripped) == len(text) and stripped.count("\n") == text.count("\n")
    assert stripped.split() == ["a", "b", "'c", "--", "d'", '"e/*"', "$$", "$$", "g"]
