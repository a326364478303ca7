"""``python -m conventions lint``: exact output, sorting, exit codes 0/1/2, --models."""

from __future__ import annotations

from pathlib import Path

from conventions.harness.scratch import run_cli

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "lint"


def lint(*args: str, cwd: Path = ROOT):
    return run_cli(["-m", "conventions", "lint", *args], url=None, cwd=cwd)


def test_findings_are_printed_sorted_in_the_flake8_format_and_exit_1() -> None:
    # b_migration.py is given first and its findings sit on later lines: the output
    # is sorted by path, line and column regardless.
    done = lint("tests/fixtures/lint/cli/b_migration.py", "tests/fixtures/lint/cli")
    assert done.returncode == 1, done.stderr
    assert done.stdout == (
        "tests/fixtures/lint/cli/a_model.py:16:5: HSE005 Mapped[Status] has no column type, "
        "so SQLAlchemy makes Status (an enum.Enum) a native ENUM; write "
        "mapped_column(Choice(Status))\n"
        "tests/fixtures/lint/cli/b_migration.py:6:39: HSE001 sa.Enum (sqlalchemy.Enum) makes "
        "a native ENUM type; use conventions.Choice (VARCHAR + named CHECK)\n"
        "tests/fixtures/lint/cli/b_migration.py:7:17: HSE007 CREATE TYPE mood AS ENUM makes "
        "a native ENUM; use a VARCHAR column with a named CHECK (conventions.Choice / "
        "op.add_choice_column)\n"
    )
    assert done.stderr == ""


def test_a_clean_file_prints_nothing_and_exits_0() -> None:
    done = lint("tests/fixtures/lint/cli/clean.py")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_default_paths_on_the_project_are_clean() -> None:
    done = lint()
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr


def test_a_missing_path_is_a_usage_error() -> None:
    done = lint("tests/fixtures/lint/cli/nope.py")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "no such file or directory: tests/fixtures/lint/cli/nope.py" in done.stderr


def test_an_unknown_option_is_a_usage_error() -> None:
    done = lint("--bogus")
    assert done.returncode == 2
    assert "unrecognized arguments: --bogus" in done.stderr


def test_paths_with_a_mode_option_is_a_usage_error() -> None:
    done = lint("app/models", "--models", "app.models")
    assert done.returncode == 2
    assert "PATH cannot be combined with --models, --manifest or --update-manifest" in (
        done.stdout + done.stderr
    )


def test_an_unknown_models_module_is_a_usage_error() -> None:
    done = lint("--models", "no_such_package.models")
    assert done.returncode == 2
    assert "no module named 'no_such_package.models'" in done.stderr


def test_models_check_finds_enums_built_at_run_time_at_their_source_lines() -> None:
    # The static pass sees nothing here: the type name is assembled at run time.
    static = lint("runtime_models", cwd=FIXTURES)
    assert (static.returncode, static.stdout) == (0, ""), static.stdout
    done = lint("--models", "runtime_models", cwd=FIXTURES)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        "runtime_models/models.py:15:5: HSE009 column subscriptions.status is "
        "Enum('active', 'paused', name='status') (a native ENUM) in the metadata; "
        "use conventions.Choice",
        "runtime_models/models.py:16:5: HSE009 column subscriptions.tier is "
        "ENUM('gold', 'silver', name='tier') (a native ENUM) in the metadata; "
        "use conventions.Choice",
        "runtime_models/models.py:17:5: HSE009 column subscriptions.legacy is "
        "Enum('a', 'b', name='legacy') (a native ENUM) in the metadata; use conventions.Choice",
        "runtime_models/models.py:18:5: HSE009 column subscriptions.labels is "
        "ENUM('x', 'y', name='tier') (a native ENUM) in the metadata; use conventions.Choice",
        "runtime_models/models.py:30:10: HSE007 DDL listener on events runs CREATE TYPE mood "
        "AS ENUM; use a VARCHAR column with a named CHECK",
        "runtime_models/models.py:30:10: HSE009 column events.kind is ENUM('a', name='tier') "
        "(a native ENUM) in the metadata; use conventions.Choice",
        # A noqa marker inside a string on the line is not a comment: it silences nothing.
        "runtime_models/models.py:40:5: HSE009 column louds.level is Enum('l', name='status') "
        "(a native ENUM) in the metadata; use conventions.Choice",
    ]


def test_models_check_on_the_project_is_clean() -> None:
    done = lint("--models", "app.models")
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr


def test_models_that_fail_to_import_exit_1_with_the_reason(tmp_path: Path) -> None:
    package = tmp_path / "broken_models"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('settings missing')\n")
    done = lint("--models", "broken_models", cwd=tmp_path)
    assert done.returncode == 1
    assert (
        "Cannot import broken_models to check its metadata: the project's code raised "
        "RuntimeError: settings missing at broken_models/__init__.py, line 1.\n"
        "    raise RuntimeError('settings missing')\n"
    ) in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
