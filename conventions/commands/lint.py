"""``lint``: no Enum types in models or migrations; applied migrations unchanged.

``python -m conventions lint [PATH ...]`` reads files (default: ``[tool.conventions.lint]
paths``, else app/models and the migration directories alembic.ini names) and prints
``path:line:col: CODE message`` per finding, sorted; ``--models MODULE`` imports the
models and checks their metadata; ``--squawk`` runs squawk on each revision's upgrade
SQL; ``--manifest`` checks only the checksums of applied migrations;
``--update-manifest`` records new migration files; ``--baseline`` records today's
findings so that only new ones fail. Exit 1 on findings, 2 on usage errors (also
when there is nothing to check). Never touches a database.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from conventions.db.settings import project_root
from conventions.lint.config import LintConfig, LintConfigError

DEFAULT_MODELS = "app.models"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split("\n\n")[1] if __doc__ else None
    parser.add_argument(
        "paths",
        nargs="*",
        type=_existing_path,
        metavar="PATH",
        help="files or directories to check (default: [tool.conventions.lint] paths, else "
        "app/models and the migration directories); with --squawk, revision files",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--models",
        metavar="MODULE",
        action="append",
        nargs="?",
        const="",
        help="import MODULE (or MODULE:ATTR) and check every table of the SQLAlchemy "
        "metadata it registers (default: [tool.conventions] metadata, else app.models)",
    )
    mode.add_argument(
        "--squawk", action="store_true", help="run squawk on each revision's upgrade SQL"
    )
    mode.add_argument(
        "--manifest",
        action="store_true",
        help="check only that applied migrations are unchanged (SHA256SUMS)",
    )
    mode.add_argument(
        "--update-manifest",
        action="store_true",
        help="record new migration files in each version directory's SHA256SUMS (never rewrites)",
    )
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="record today's findings in the baseline file; later runs fail only on new ones",
    )
    parser.add_argument(
        "--configured-only",
        action="store_true",
        help="check only the given files that lie under the configured paths "
        "(pre-commit passes every staged file)",
    )


def run(args: argparse.Namespace) -> int:
    if args.paths and (args.models or args.manifest or args.update_manifest):
        # argparse cannot say "PATH only without these"; answer as its usage errors do.
        return usage_error(
            "lint: PATH cannot be combined with --models, --manifest or --update-manifest"
        )
    if args.baseline and (args.manifest or args.update_manifest):
        return usage_error("lint: --baseline records findings; the manifest is never baselined")
    from conventions.lint import config as lint_config

    root = project_root()
    try:
        config = lint_config.load(root)
    except LintConfigError as err:
        return usage_error(f"lint: {err}")
    if args.models:
        from conventions.commands.lint_checks import models

        return models(args, config)
    if args.squawk:
        from conventions.commands.lint_checks import squawk

        return squawk(args, config)
    if args.manifest or args.update_manifest:
        from conventions.commands.lint_checks import manifest

        return manifest(config, update=args.update_manifest)
    from conventions.commands.lint_checks import files

    return files(args, config)


def print_findings(lines: Iterable[str]) -> None:
    for line in lines:
        sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def notice(text: str) -> None:
    """One line on stderr: stdout carries only findings, for editors and CI annotators."""
    sys.stderr.write(f"notice: {text}\n")


def usage_error(text: str) -> int:
    """A usage error (exit 2) on stderr, as argparse reports its own."""
    sys.stderr.write(f"python -m conventions {text}\n")
    return 2


def roots() -> list[Path]:
    return [Path.cwd(), project_root()]


def _existing_path(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such file or directory: {text}")
    return path


# Console scripts for pre-commit (.pre-commit-hooks.yaml: id = script = entry).


def _main(argv: Sequence[str]) -> int:
    from conventions.cli import main

    return main(list(argv))


def _hook(build: Callable[[list[str]], list[str]]) -> None:
    raise SystemExit(_main(build(sys.argv[1:])))


def hook_lint() -> None:
    """``conventions-lint [FILE ...]``: the static check of the staged files in the lint paths.

    With files (pre-commit) only those under the configured paths are read; with none,
    the whole configured tree, as ``python -m conventions lint``.
    """
    _hook(lambda argv: ["lint", "--configured-only", *argv] if argv else ["lint"])


def hook_manifest() -> None:
    """``conventions-lint-manifest``: applied migrations unchanged, none deleted (always run)."""
    _hook(lambda argv: ["lint", "--manifest", *argv])


def hook_models() -> None:
    """``conventions-lint-models [MODULE ...]`` (default: configured, else app.models)."""
    _hook(lambda argv: ["lint", *(a for m in argv or [""] for a in ("--models", m))])


def hook_squawk() -> None:
    """``conventions-squawk [FILE ...]``: squawk over the given revisions' (or all) upgrade SQL."""
    _hook(lambda argv: ["lint", "--squawk", *argv])


__all__ = ["DEFAULT_MODELS", "LintConfig", "configure", "run"]
