"""``init``: wire an existing Alembic project to the conventions, idempotently.

Steps, each skipped when already done: env.py calls the house runtime (the diff is
shown; asked unless ``--yes``); ``[tool.conventions]`` in pyproject.toml; a
pre-commit entry (local, ``language: system``: it runs in the project's own venv,
where the models import); the harness test module; ``.squawk.toml``; a lint baseline
of today's findings (``lint --baseline``). An env.py it cannot edit safely is left
alone and the lines to add by hand are printed (exit 1).
"""

from __future__ import annotations

import argparse
import difflib
import subprocess
import sys
from importlib import resources
from pathlib import Path

from conventions import logs
from conventions.db.settings import project_root
from conventions.project import env_rewrite
from conventions.project.layout import has_alembic_config, layout


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split("\n\n")[0] if __doc__ else None
    parser.add_argument("--yes", action="store_true", help="apply the env.py change without asking")
    parser.add_argument(
        "--tests-dir", default="tests", help="where the harness test module goes (default: tests)"
    )
    parser.add_argument(
        "--alembic-config",
        metavar="PATH",
        help="the project's alembic.ini when it is not at the root or in migrations/ "
        "(recorded as [tool.conventions] alembic_config)",
    )


def run(args: argparse.Namespace) -> int:
    import os

    if args.alembic_config:
        if not Path(args.alembic_config).is_file():
            logs.error(f"--alembic-config {args.alembic_config}: no such file.")
            return 2
        # Relative to the working directory, which is the project root from here on.
        os.environ["CONVENTIONS_ROOT"] = str(Path.cwd())
        os.environ["CONVENTIONS_ALEMBIC_CONFIG"] = str(Path(args.alembic_config))
    root = project_root()
    if not has_alembic_config(root):
        logs.error(
            f"No Alembic project at {root}: neither alembic.ini nor [tool.alembic] in "
            "pyproject.toml.\n  → Run it from the project root; name an alembic.ini kept "
            "elsewhere with --alembic-config PATH (e.g. myapp/migration/alembic.ini); or start "
            "one: alembic init migrations"
        )
        return 2
    found = layout(root)
    ok = _env_py(found.script_location / "env.py", assume_yes=args.yes)
    _tool_table(root, args.alembic_config)
    _pytest_option(root)
    _harness_table(root)
    _pre_commit(root)
    _template(root / args.tests_dir / "test_migrations_conventions.py", "test_migrations.py")
    _template(root / ".squawk.toml", "squawk.toml")
    _baseline(root)
    if ok:
        logs.finish("Wired. Next: alembic upgrade head (or python -m conventions migrate).")
    return 0 if ok else 1


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(project_root().resolve()))
    except ValueError:
        return str(path)


def _env_py(path: Path, *, assume_yes: bool) -> bool:
    source = path.read_text(encoding="utf-8")
    if env_rewrite.already_wired(source):
        logs.info(f"{_rel(path)}: already calls the house runtime (unchanged).")
        return True
    result = env_rewrite.rewrite(source)
    if isinstance(result, env_rewrite.Refusal):
        logs.error(
            f"{_rel(path)} was not changed: {result.reason}, so it cannot be edited safely.\n"
            "  → Replace its offline/online dispatch (the code that runs the migrations) "
            "with these lines, passing the metadata and the context.configure() keywords "
            "it used:\n\n" + result.by_hand
        )
        return False
    diff = "".join(
        difflib.unified_diff(
            source.splitlines(keepends=True),
            result.splitlines(keepends=True),
            fromfile=f"a/{_rel(path)}",
            tofile=f"b/{_rel(path)}",
        )
    )
    sys.stdout.write(diff)
    if not assume_yes:
        if not sys.stdin.isatty():
            logs.error(f"{_rel(path)} not changed: confirm with --yes when not on a terminal.")
            return False
        if input(f"Apply this change to {_rel(path)}? [y/N] ").strip().lower() not in ("y", "yes"):
            logs.warn(f"{_rel(path)} not changed (declined).")
            return False
    path.write_text(result, encoding="utf-8")
    logs.done(f"{_rel(path)}: now runs through the house runtime.")
    return True


_SKIP_DIRS = {".venv", "venv", "node_modules", ".git", "site-packages", ".tox", "build", "dist"}


def _model_paths(root: Path) -> list[str]:
    """Return up to five ``models`` packages or ``models.py`` files under ``root``.

    The walk never enters a virtualenv, ``.git`` or ``node_modules``: in a real
    repository those hold most of the files, and git's background gc removes
    directories under ``.git`` while it runs.
    """
    import os

    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        here = Path(directory)
        found += [here / d for d in dirs if d == "models"]
        found += [here / f for f in files if f == "models.py"]
    return sorted(path.relative_to(root).as_posix() for path in found)[:5]


def _tool_table(root: Path, alembic_config: str | None) -> None:
    path = root / "pyproject.toml"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    where = f'alembic_config = "{Path(alembic_config).as_posix()}"\n' if alembic_config else ""
    if "[tool.conventions]" in text:
        logs.info("pyproject.toml: [tool.conventions] already present (unchanged).")
        if where and "alembic_config" not in text:
            logs.warn(f"Add to [tool.conventions] in pyproject.toml: {where.strip()}")
        return
    found = _model_paths(root)
    if not found:
        logs.warn(
            "No models/ or models.py found: the lint reads only the migrations. Name your "
            'model files in pyproject.toml: [tool.conventions] lint.paths = ["myapp/model"]'
        )
    paths = ", ".join(f'"{p}"' for p in found)
    block = (
        "\n[tool.conventions]\n"
        "# house-migrations settings; `python -m conventions config` shows each value and\n"
        "# where it came from (CONVENTIONS_* environment variables override these).\n"
        f"{where}"
        '# metadata = "yourapp.models:Base"  # else: what env.py hands run()\n'
        f"lint.paths = [{paths}]\n"
    )
    path.write_text(text + ("\n" if text and not text.endswith("\n") else "") + block, "utf-8")
    logs.done("pyproject.toml: wrote [tool.conventions].")


def _harness_table(root: Path) -> None:
    """Mark today's history as legacy for the harness: ``legacy_until`` = the current head.

    Revisions written before the conventions use plain ops and native ENUMs; the harness
    reports those parts of them as expected failures instead of failing the suite.
    """
    path = root / "pyproject.toml"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if "[tool.conventions.harness]" in text:
        return
    line = 'legacy_until = "<the head revision today>"'
    try:
        from alembic.script import ScriptDirectory

        from conventions.project.alembic_config import alembic_config

        heads = ScriptDirectory.from_config(alembic_config(root)).get_heads()
    except Exception as err:  # revisions that need the app to import: say what to add
        logs.warn(
            f"Could not read the head revision ({type(err).__name__}: {err}); add to "
            f"pyproject.toml: [tool.conventions.harness] {line}"
        )
        return
    if len(heads) != 1:
        logs.warn(f"{len(heads)} heads: add [tool.conventions.harness] {line} by hand.")
        return
    block = (
        "\n[tool.conventions.harness]\n"
        "# Revisions up to this one predate the conventions (plain ops, native ENUMs):\n"
        "# the harness reports those parts as expected failures.\n"
        f'legacy_until = "{heads[0]}"\n'
    )
    path.write_text(text + ("\n" if text and not text.endswith("\n") else "") + block, "utf-8")
    logs.done(f"pyproject.toml: wrote [tool.conventions.harness] legacy_until = {heads[0]}.")


# pytest-alembic binds its built-in tests to tests/conftest.py with its own collector,
# which fails on pytest 9 (0.13.1: 'TestCollector' has no attribute '_nodeid'); the
# harness module calls the built-ins itself, so that collector is pointed nowhere.
_PYTEST_LINE = 'pytest_alembic_tests_path = "<built-ins run from the harness module>"'


def _pytest_option(root: Path) -> None:
    path = root / "pyproject.toml"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if "pytest_alembic_tests_path" in text:
        return
    if "[tool.pytest.ini_options]" in text or (root / "pytest.ini").is_file():
        logs.warn(f"Add to your pytest configuration (pytest 9 needs it): {_PYTEST_LINE}")
        return
    block = f"\n[tool.pytest.ini_options]\n{_PYTEST_LINE}\n"
    path.write_text(text + ("\n" if text and not text.endswith("\n") else "") + block, "utf-8")
    logs.done("pyproject.toml: wrote [tool.pytest.ini_options] pytest_alembic_tests_path.")


def _pre_commit(root: Path) -> None:
    """Add the local hooks: content checks on staged files, the manifest guard always.

    No ``files:`` pattern: the lint keeps only the staged files under the configured
    paths and migration directories (``--configured-only``), so a later change to
    ``[tool.conventions.lint] paths`` needs no edit here.
    """
    path = root / ".pre-commit-config.yaml"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if "conventions-lint" in text or "python -m conventions lint" in text:
        logs.info(".pre-commit-config.yaml: the conventions hooks are already there (unchanged).")
        return
    hooks = (
        "  - repo: local\n"
        "    hooks:\n"
        "      # house-migrations: run from the project's venv (language: system), where\n"
        "      # the models import. The lint keeps the staged files under its configured\n"
        "      # paths ([tool.conventions.lint] paths and the migration directories).\n"
        "      - id: conventions-lint\n"
        "        name: no Enum types in models and migrations\n"
        "        entry: python -m conventions lint --configured-only\n"
        "        language: system\n"
        "        types_or: [python, sql]\n"
        "        require_serial: true\n"
        "      - id: conventions-lint-manifest\n"
        "        name: applied migrations unchanged\n"
        "        entry: python -m conventions lint --manifest\n"
        "        language: system\n"
        "        pass_filenames: false\n"
        "        always_run: true\n"
    )
    if not text.strip():
        path.write_text("repos:\n" + hooks, encoding="utf-8")
    elif text.rstrip().splitlines()[0:1] and _repos_is_last(text):
        path.write_text(text.rstrip("\n") + "\n" + hooks, encoding="utf-8")
    else:
        logs.warn(
            ".pre-commit-config.yaml not changed (repos: is not its last key); add under "
            "repos:\n" + hooks
        )
        return
    logs.done(".pre-commit-config.yaml: added the conventions-lint and -manifest hooks.")


def _repos_is_last(text: str) -> bool:
    top = [line for line in text.splitlines() if line and not line[0].isspace() and line[0] != "#"]
    return bool(top) and top[-1].startswith("repos:")


def _template(target: Path, name: str) -> None:
    if target.exists():
        logs.info(f"{_rel(target)}: exists (unchanged).")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    text = resources.files("conventions").joinpath("templates", name).read_text("utf-8")
    target.write_text(text, encoding="utf-8")
    logs.done(f"{_rel(target)}: written.")


def _baseline(root: Path) -> None:
    """Record today's lint findings, so only new ones fail (``lint --baseline``).

    Only once: run again, init would accept into the baseline every finding made since
    adoption, the very findings the baseline exists to fail.
    """
    from conventions.lint.config import load

    existing = load(root).baseline
    if existing.is_file():
        logs.info(f"{_rel(existing)}: exists (unchanged; new findings fail against it).")
        return
    done = subprocess.run(
        [sys.executable, "-m", "conventions", "lint", "--baseline"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        logs.done("Lint baseline recorded (python -m conventions lint --baseline).")
        return
    # The lint's own first line says what went wrong; its last is often a hint's tail.
    detail = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
    logs.warn(
        f"Lint baseline not recorded: `python -m conventions lint --baseline` exited "
        f"{done.returncode}" + (f": {detail[0].strip()}" if detail else "") + "\n  → Fix "
        "that, then run `python -m conventions lint --baseline` and commit its file."
    )
