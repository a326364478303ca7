"""``lint``: no Enum types in models or migrations; applied migrations unchanged.

``python -m conventions lint [PATH ...]`` reads files (default: app/models and the
migration directory) and prints ``path:line:col: CODE message`` per finding,
sorted; ``--models MODULE`` imports the models and checks their metadata;
``--squawk`` runs squawk on each revision's upgrade SQL; ``--update-manifest``
records new migration files in the checksum manifest. Exit 1 on findings.
Read-only except ``--update-manifest``; never touches a database.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from conventions import logs
from conventions.settings import project_root

# With no PATH: these, plus the migration directory alembic.ini names.
DEFAULT_PATHS = ("app/models",)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split("\n\n")[1] if __doc__ else None
    parser.add_argument(
        "paths",
        nargs="*",
        type=_existing_path,
        metavar="PATH",
        help="files or directories to check (default: app/models and alembic/versions)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--models",
        metavar="MODULE",
        action="append",
        type=_importable,
        help="import MODULE and check every table of the SQLAlchemy metadata it registers",
    )
    mode.add_argument(
        "--squawk", action="store_true", help="run squawk on each revision's upgrade SQL"
    )
    mode.add_argument(
        "--update-manifest",
        action="store_true",
        help="record new migration files in alembic/versions/SHA256SUMS (never rewrites)",
    )


def run(args: argparse.Namespace) -> int:
    if args.paths and (args.models or args.squawk or args.update_manifest):
        # argparse cannot say "PATH only without these"; answer as its usage errors do.
        logs.error("lint: PATH cannot be combined with --models, --squawk or --update-manifest")
        return 2
    if args.models:
        return _models(args.models)
    if args.squawk:
        return _squawk()
    if args.update_manifest:
        return _update_manifest()
    return _files(args.paths)


def _files(paths: list[Path]) -> int:
    from conventions.lint import manifest
    from conventions.lint.static import lint_paths

    root = project_root()
    version_dirs = manifest.version_dirs(root)
    if not paths:
        paths = [root / p for p in _default_paths(root) if (root / p).exists()]
        paths += [v for v in version_dirs if v.is_dir()]
    findings = set(lint_paths(paths))
    expanded = _expand(paths)
    for versions in version_dirs:  # each version location keeps its own SHA256SUMS
        listed = manifest.load(versions)
        files = [p for p in expanded if manifest.is_migration(p, versions)]
        # Deleted migrations are checked on every run: pre-commit never passes a deleted file.
        verdict = manifest.check(files, listed, whole_directory=True)
        findings |= set(verdict.findings)
        _notice_new(verdict.new, listed.path)
    _print(f.render() for f in sorted(findings))
    return 1 if findings else 0


def _default_paths(root: Path) -> list[str]:
    """``[tool.conventions] lint.paths`` (written by ``conventions init``), else app/models."""
    from conventions.project_config import lookup

    value = lookup("lint.paths", root=root, default=list(DEFAULT_PATHS)).value
    return [value] if isinstance(value, str) else [str(p) for p in value]


def _expand(paths: list[Path]) -> list[Path]:
    from conventions.lint.static import iter_files

    return [Path(p) for p in iter_files(paths)]


def _notice_new(new: Sequence[Path], manifest_path: Path) -> None:
    if not new:
        return
    from conventions.lint.report import display_path

    names = ", ".join(p.name for p in new)
    # stderr: stdout carries only findings, for editors and CI annotators to parse.
    sys.stderr.write(
        f"notice: {len(new)} migration file(s) not yet in "
        f"{display_path(manifest_path)}: {names}. Record them once applied (merged): "
        "python -m conventions lint --update-manifest\n"
    )


def _models(modules: list[str]) -> int:
    from conventions.lint.metadata import lint_models

    findings = []
    for module in modules:
        findings.extend(lint_models(module, roots=_roots()))
    findings = sorted(set(findings))
    _print(f.render() for f in findings)
    return 1 if findings else 0


def _squawk() -> int:
    from conventions.lint import squawk

    violations = squawk.run(project_root())
    _print(v.render() for v in violations)
    return 1 if violations else 0


def _update_manifest() -> int:
    from conventions.lint import manifest
    from conventions.lint.report import display_path

    listed = manifest.load(manifest.versions_dir(project_root()))
    added, verdict = manifest.update(listed)
    _print(f.render() for f in sorted(verdict.findings))
    shown = display_path(listed.path)
    if added:
        logs.done(
            f"Recorded {len(added)} migration file(s) in {shown}: "
            + ", ".join(p.name for p in added)
        )
    else:
        logs.info(f"{shown}: no new migration files to record.")
    if verdict.findings:
        logs.error(
            f"{len(verdict.findings)} applied migration(s) changed or missing; "
            f"{shown} was not rewritten for them."
        )
        return 1
    return 0


def _print(lines: Iterable[str]) -> None:
    for line in lines:
        sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def _roots() -> list[Path]:
    return [Path.cwd(), project_root()]


def _existing_path(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such file or directory: {text}")
    return path


def _importable(text: str) -> str:
    from conventions.lint.metadata import importable

    if not importable(text, roots=_roots()):
        raise argparse.ArgumentTypeError(f"no module named {text!r} (run from the project root?)")
    return text


# Console scripts for pre-commit (.pre-commit-hooks.yaml: id = script = entry).


def hook_lint() -> None:
    """``conventions-lint [FILE ...]``: the static check plus the migration manifest."""
    from conventions.cli import main

    raise SystemExit(main(["lint", *sys.argv[1:]]))


def hook_models() -> None:
    """``conventions-lint-models [MODULE ...]`` (default app.models): the metadata check."""
    from conventions.cli import main

    modules = sys.argv[1:] or ["app.models"]
    raise SystemExit(main(["lint", *(arg for m in modules for arg in ("--models", m))]))


def hook_squawk() -> None:
    """``conventions-squawk``: squawk over every revision's upgrade SQL."""
    from conventions.cli import main

    raise SystemExit(main(["lint", "--squawk", *sys.argv[1:]]))
