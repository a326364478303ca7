"""The checksum manifest of applied migrations, on a scratch copy of the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from conventions.harness.scratch import run_cli
from conventions.history.checksums import file_checksum
from conventions.lint.manifest import HEADER, MANIFEST_NAME


def lint(project: Path, *args: str):
    return run_cli(["-m", "conventions", "lint", *args], url=None, cwd=project)


@pytest.fixture
def project(project_copy: Path) -> Path:
    """A project copy whose manifest records its current migrations."""
    (project_copy / "alembic" / "versions" / MANIFEST_NAME).unlink(missing_ok=True)
    done = lint(project_copy, "--update-manifest")
    assert done.returncode == 0, done.stdout + done.stderr
    return project_copy


def versions(project: Path) -> Path:
    return project / "alembic" / "versions"


def migrations(project: Path) -> list[Path]:
    return sorted(versions(project).glob("2*.py"))


def test_update_records_every_migration_in_sha256sum_format(project: Path) -> None:
    manifest = versions(project) / MANIFEST_NAME
    text = manifest.read_text()
    assert text.startswith(HEADER)
    body = text[len(HEADER) :].splitlines()
    assert body == [f"{file_checksum(p)}  {p.name}" for p in migrations(project)]
    assert len(body) == len(migrations(project)) > 0
    clean = lint(project)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")


def test_editing_an_applied_migration_fails_naming_it_and_the_fix(project: Path) -> None:
    edited = migrations(project)[1]
    edited.write_text(edited.read_text() + "\n# a harmless-looking edit\n")
    manifest = versions(project) / MANIFEST_NAME
    before = manifest.read_bytes()

    done = lint(project)
    shown = f"alembic/versions/{edited.name}"
    assert done.returncode == 1
    assert done.stdout == (
        f"{shown}:1:1: HSE010 applied migration {edited.name} changed since "
        f"alembic/versions/{MANIFEST_NAME} recorded it; never edit an applied migration: "
        f"restore it (git restore {shown}) and write a new migration for the change\n"
    )

    # The pre-commit hook passes just the edited file: same finding.
    hook = lint(project, shown)
    assert (hook.returncode, hook.stdout) == (1, done.stdout)

    # --update-manifest refuses to bless the edit and leaves the manifest as it was.
    update = lint(project, "--update-manifest")
    assert update.returncode == 1
    assert f"HSE010 applied migration {edited.name} changed" in update.stdout
    assert "was not rewritten" in update.stderr
    assert manifest.read_bytes() == before


def test_a_new_migration_is_a_notice_until_recorded(project: Path) -> None:
    manifest = versions(project) / MANIFEST_NAME
    before = manifest.read_text()
    new = versions(project) / "20991231-add-something.py"
    new.write_text('"""add something"""\n')

    done = lint(project)
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == (
        f"notice: 1 migration file(s) not yet in alembic/versions/{MANIFEST_NAME} "
        f"({new.name}); once applied (merged), record them: "
        "python -m conventions lint --update-manifest\n"
    )

    update = lint(project, "--update-manifest")
    assert update.returncode == 0
    assert f"Recorded 1 migration file(s) in alembic/versions/{MANIFEST_NAME}: {new.name}" in (
        update.stderr
    )
    after = manifest.read_text()
    assert set(before.splitlines()) < set(after.splitlines())
    assert f"{file_checksum(new)}  {new.name}" in after.splitlines()
    assert lint(project).stderr == ""


def test_a_deleted_migration_is_reported_at_its_manifest_line(project: Path) -> None:
    gone = migrations(project)[-1]
    gone.unlink()
    done = lint(project)
    assert done.returncode == 1
    lines = (versions(project) / MANIFEST_NAME).read_text().splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.endswith(gone.name))
    assert done.stdout == (
        f"alembic/versions/{MANIFEST_NAME}:{number}:1: HSE011 applied migration {gone.name} "
        "is listed here but missing from the directory; restore it (databases that ran it "
        "still point at its revision)\n"
    )
    # Any run reports it, even one that lints a single model file (a pre-commit commit
    # that only deletes the migration passes no file at all).
    single = lint(project, "app/models/offers.py")
    assert (single.returncode, single.stdout) == (1, done.stdout)


def test_a_windows_checkout_is_not_an_edit(project: Path) -> None:
    path = migrations(project)[0]
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    done = lint(project)
    assert (done.returncode, done.stdout) == (0, "")


def test_a_malformed_manifest_line_is_an_error_naming_the_line(project: Path) -> None:
    manifest = versions(project) / MANIFEST_NAME
    manifest.write_text(manifest.read_text() + "not a checksum\n")
    number = len(manifest.read_text().splitlines())
    done = lint(project)
    assert done.returncode == 1
    assert f"alembic/versions/{MANIFEST_NAME}:{number}: not a checksum line: " in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
