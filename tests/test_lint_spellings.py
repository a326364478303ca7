"""The lint on project layouts: source roots, names it cannot resolve, newer syntax.

The fixture files under tests/fixtures/lint carry their expectations inline
(tests/test_lint_rules.py); these cases need a project of their own (a
pyproject.toml, a module that exists nowhere, an interpreter-dependent parse), so
each builds one in a temporary directory and runs the lint as a user would.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from conventions.harness.scratch import run_cli
from conventions.lint.roots import SourceRootsInvalid, source_roots
from conventions.lint.source_tree import SourceTree
from conventions.lint.static import lint_paths

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "lint"

MODELS = """\
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from {module} import Status


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[Status]
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def lint_cli(cwd: Path, *args: str, env: dict[str, str] | None = None):
    extra = {"PYTHONPATH": str(ROOT), "CONVENTIONS_ROOT": str(cwd), **(env or {})}
    return run_cli(["-m", "conventions", "lint", *args], url=None, cwd=cwd, env=extra)


def test_configured_source_roots_are_read_from_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.conventions.lint]\nsrc = ["libs", "missing"]\n')
    (tmp_path / "libs").mkdir()
    assert source_roots(tmp_path) == [(tmp_path / "libs").resolve()]


def test_the_environment_overrides_the_configured_roots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "pyproject.toml", '[tool.conventions.lint]\nsrc = ["libs"]\n')
    for name in ("libs", "a", "b"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv("CONVENTIONS_LINT_SRC", "a,b")
    assert source_roots(tmp_path) == [(tmp_path / "a").resolve(), (tmp_path / "b").resolve()]


def test_an_enum_in_a_configured_root_is_resolved(tmp_path: Path) -> None:
    # libs/ is no parent of the model's package: only a configured root (or the
    # repository walk) finds common.enums there.
    write(tmp_path / "libs" / "common" / "__init__.py", "")
    enum_source = "import enum\nclass Status(enum.Enum):\n    A = 'a'\n"
    write(tmp_path / "libs" / "common" / "enums.py", enum_source)
    models = write(tmp_path / "app" / "models.py", MODELS.format(module="common.enums"))
    project = SourceTree([tmp_path, tmp_path / "libs"])
    notices: list[str] = []
    findings = lint_paths([models], project=project, notices=notices)
    assert [(f.line, f.code) for f in findings] == [(14, "HSE005")]
    assert notices == []


def test_a_module_found_nowhere_is_said_once_not_passed_silently(tmp_path: Path) -> None:
    first = write(tmp_path / "app" / "orders.py", MODELS.format(module="vanished.enums"))
    second = write(tmp_path / "app" / "refunds.py", MODELS.format(module="vanished.enums"))
    notices: list[str] = []
    findings = lint_paths([first, second], project=SourceTree([tmp_path]), notices=notices)
    assert findings == []
    assert len(notices) == 1
    assert "module vanished.enums is in no source root" in notices[0]
    assert "orders.py:14 and 1 more" in notices[0]
    assert "[tool.conventions.lint] src" in notices[0]


def test_the_cli_prints_the_notice_on_stderr_and_keeps_stdout_for_findings(
    tmp_path: Path,
) -> None:
    write(tmp_path / "app" / "orders.py", MODELS.format(module="vanished.enums"))
    done = lint_cli(tmp_path, "app")
    assert (done.returncode, done.stdout) == (0, ""), done.stderr
    assert done.stderr.count("notice: cannot tell whether the type at app/orders.py:14") == 1


def test_an_enum_in_an_installed_library_is_followed_to_its_file(tmp_path: Path) -> None:
    # _pytest.config.ExitCode is an enum.IntEnum in an installed package, never imported here.
    models = write(
        tmp_path / "models.py",
        MODELS.replace(
            "from {module} import Status", "from _pytest.config import ExitCode"
        ).replace("Mapped[Status]", "Mapped[ExitCode]"),
    )
    notices: list[str] = []
    findings = lint_paths([models], project=SourceTree([tmp_path]), notices=notices)
    assert [(f.line, f.code) for f in findings] == [(14, "HSE005")]
    assert notices == []


def test_a_bad_src_setting_is_an_error_naming_the_key_with_no_traceback(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.conventions.lint]\nsrc = 5\n")
    write(tmp_path / "app" / "orders.py", "x = 1\n")
    with pytest.raises(SourceRootsInvalid, match=r"lint.src must be a list of directories"):
        source_roots(tmp_path)
    done = lint_cli(tmp_path, "app")
    output = done.stdout + done.stderr  # where the CLI's error lines go is the CLI's business
    assert done.returncode == 1
    assert "pyproject.toml [tool.conventions] lint.src must be a list of directories" in output
    assert "HSE" not in output  # no findings reported from a run that could not start
    assert "Traceback" not in output


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="parses on Python 3.12+")
def test_a_file_with_newer_syntax_names_the_python_it_needs() -> None:
    (finding,) = lint_paths([FIXTURES / "newer" / "pep695.py"])
    assert (finding.line, finding.col, finding.code) == (5, 6, "HSE008")
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert finding.message == (
        "cannot parse this file: invalid syntax: a `type X = ...` alias (PEP 695) needs "
        f"Python 3.12, and the lint runs on Python {running}; run it with Python 3.12 or "
        "newer (the file's Enums cannot be checked until then)"
    )


@pytest.mark.skipif(sys.version_info < (3, 12), reason="needs Python 3.12 to parse")
def test_a_file_with_newer_syntax_is_linted_where_it_parses() -> None:
    findings = lint_paths([FIXTURES / "newer" / "pep695.py"])
    assert [(f.line, f.code) for f in findings] == [(7, "HSE001")]


@pytest.mark.parametrize(
    ("line", "needs"),
    [
        ("class Box[T]:\n    pass\n", "type parameters (PEP 695) needs Python 3.12"),
        ("try:\n    pass\nexcept ValueError, KeyError:\n    pass\n", "(PEP 758) needs Python 3.14"),
    ],
)
def test_other_newer_features_are_named(tmp_path: Path, line: str, needs: str) -> None:
    path = write(tmp_path / "newer.py", line)
    findings = lint_paths([path], project=SourceTree([tmp_path]))
    if sys.version_info >= (3, 12) and "3.12" in needs:
        assert findings == []
    else:
        (finding,) = findings
        assert finding.code == "HSE008" and needs in finding.message


def test_messages_name_the_helper_the_instance_and_the_fix() -> None:
    rendered = {
        (Path(f.path).name, f.line): f.message
        for f in lint_paths([FIXTURES / "shop", FIXTURES / "billing", FIXTURES / "sqlmodel_app"])
    }
    assert rendered[("models.py", 36)] == (
        "EnumColumn (sqlalchemy.Enum, defined as shop.types.EnumColumn) makes a native ENUM "
        "type; use conventions.Choice (VARCHAR + named CHECK)"
    )
    assert rendered[("invoices.py", 16)] == (
        "database.Enum (sqlalchemy.Enum, through shop.db.db) makes a native ENUM type; use "
        "conventions.Choice (VARCHAR + named CHECK)"
    )
    assert rendered[("heroes.py", 14)] == (
        "status: Status in a SQLModel table has no sa_type, so SQLModel makes Status (an "
        "enum.Enum) a native ENUM; write Field(sa_type=Choice(Status))"
    )
    (extend,) = [
        f.message for f in lint_paths([FIXTURES / "migrations" / "extend_enum.py"]) if f.line == 25
    ]
    assert extend == (
        "ALTER TYPE mood (ENUM_NAME) ADD VALUE keeps the native ENUM mood (ENUM_NAME) in use; "
        "convert the column to a Choice (VARCHAR + named CHECK) and change its values with "
        "op.alter_choices"
    )


def test_a_column_type_change_is_judged_against_types_other_files_create(tmp_path: Path) -> None:
    """The enum is created by one migration, a column moved onto it by a later one."""
    write(
        tmp_path / "versions" / "a.py",
        'from alembic import op\nrevision = "a"\n\ndef upgrade():\n'
        "    op.execute(\"CREATE TYPE tier AS ENUM ('a')\")  # noqa: HSE007\n",
    )
    retype = (
        'from alembic import op\nrevision = "b"\n\ndef upgrade():\n'
        '    op.execute("ALTER TABLE t ALTER COLUMN c TYPE tier USING c::tier")\n'
        '    op.execute("ALTER TABLE t ALTER COLUMN d TYPE plain_domain USING d::plain_domain")\n'
    )
    later = write(tmp_path / "versions" / "b.py", retype)
    elsewhere = write(tmp_path / "scripts" / "b.py", retype)
    expected = [("versions/b.py", 5, 31, "HSE014")]

    def found(*paths: Path) -> list[tuple[str, int, int, str]]:
        findings = lint_paths(list(paths), project=SourceTree([tmp_path]))
        return [
            (Path(f.path).relative_to(tmp_path).as_posix(), f.line, f.col, f.code) for f in findings
        ]

    assert found(tmp_path / "versions") == expected
    # Pre-commit passes only the new file: its siblings in versions/ still say tier is an enum.
    assert found(later) == expected
    # Nothing near scripts/b.py declares tier: a type the lint cannot place is not guessed.
    assert found(elsewhere) == []
