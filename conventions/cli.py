"""``python -m conventions``: the only place that prints errors and picks exit codes.

Exit codes: 0 ok, 1 failure or findings, 2 usage error. Each subcommand lives in
its own module under ``conventions.commands`` and is imported only when chosen, so
read-only commands (status, inspect, lint) never load the code that changes the
database.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any

from alembic.util import CommandError

from conventions import logs
from conventions.db.redact import redact, redacted_streams
from conventions.errors import ConventionsError, MigrationInterrupted
from conventions.tracebacks import traceback_requested

# name -> (module, one-line help). Keep in step with README's command list.
COMMANDS: dict[str, tuple[str, str]] = {
    "migrate": ("conventions.commands.migrate", "apply every pending migration"),
    "rollback": ("conventions.commands.rollback", "roll back migrations (default: one step)"),
    "db": ("conventions.commands.db", "the embedded server: url, stop, psql"),
    "status": ("conventions.commands.status", "applied/pending revisions, drift, checks, history"),
    "inspect": ("conventions.commands.inspect", "a table's columns, indexes and constraints"),
    "repair": ("conventions.commands.repair", "accept edited applied migrations (new checksums)"),
    "baseline": ("conventions.commands.baseline", "adopt a database built outside migrations"),
    "archive": ("conventions.commands.archive", "list, restore or purge data kept by downgrades"),
    "lint": ("conventions.commands.lint", "no Enum types in models/migrations; applied unchanged"),
    "plan": ("conventions.commands.plan", "what pending migrations will lock and block, per table"),
    "config": ("conventions.commands.config", "effective settings and where each came from"),
    "init": ("conventions.commands.init", "wire an existing Alembic project to the conventions"),
}


# What Ctrl-C leaves, by command, when the command cannot say it better itself (a
# migration run raises MigrationInterrupted, naming the step). The rest only read, or
# write in one transaction that the interrupt rolls back.
NOTHING_CHANGED = "Interrupted; nothing was changed."
INTERRUPTED: dict[str, str] = {
    "migrate": "Interrupted before any migration ran; nothing was changed.",
    "rollback": "Interrupted before any migration ran; nothing was changed.",
    "repair": "Interrupted; its transaction was rolled back: no checksum was recorded.",
    "baseline": "Interrupted; its transaction was rolled back: nothing was recorded.",
    "archive": "Interrupted; its transaction was rolled back: nothing was restored or purged.",
    "init": "Interrupted; files it had already written stay (init run again skips them).",
    "db": "Interrupted; no data was changed (the embedded server may still be starting or "
    "stopping).",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m conventions", description=__doc__)
    parser.add_argument(
        "--traceback", action="store_true", help="show the Python traceback on errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    try:
        known, rest = parser.parse_known_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) and 2
    module = importlib.import_module(COMMANDS[known.command][0])
    sub = argparse.ArgumentParser(prog=f"python -m conventions {known.command}")
    module.configure(sub)
    try:
        args = sub.parse_args(rest)
    except SystemExit as exit_:
        return int(exit_.code or 0) and 2
    with redacted_streams():
        logs.install(sys.stderr)  # stdout carries only the command's result
        as_json = bool(getattr(args, "json", False))
        try:
            return int(module.run(args))
        except (CommandError, OSError) as err:
            if known.traceback or traceback_requested():
                raise
            return _failed(err, str(err), as_json=as_json)
        except KeyboardInterrupt as interrupt:
            return _interrupted(interrupt, known.command, as_json=as_json)
        except Exception as err:
            # Anything not in the house error family is our bug, not the user's input:
            # still one paragraph, still no traceback unless asked for.
            if known.traceback or traceback_requested():
                raise
            broken = _broken_script(err) or _project_code(err)
            if broken is not None:
                return _failed(broken, str(broken), as_json=as_json)
            message = (
                f"Unexpected error in `{known.command}`: {type(err).__name__}: {err}\n"
                "  → This is a bug in the tooling. Rerun with `python -m conventions "
                "--traceback …` (or CONVENTIONS_TRACEBACK=1) and report the traceback."
            )
            return _failed(err, message, as_json=as_json)


def _failed(err: BaseException, message: str, *, as_json: bool) -> int:
    """Report a failure: the message on stderr; with --json also one JSON document on stdout."""
    logs.error(message)
    if as_json:
        print(json.dumps({"error": error_document(err, message)}, indent=2))
    return 1


def _interrupted(interrupt: KeyboardInterrupt, command: str, *, as_json: bool) -> int:
    """Say what Ctrl-C left behind; exit 130 (128 + SIGINT), as shells do."""
    if isinstance(interrupt, MigrationInterrupted):
        message = str(interrupt)
        hints = list(interrupt.hints)
        headline = interrupt.render()
    else:
        message = headline = INTERRUPTED.get(command, NOTHING_CHANGED)
        hints = []
    logs.error(message)
    if as_json:
        document = {"type": "Interrupted", "message": redact(headline), "hints": hints}
        print(json.dumps({"error": document}, indent=2))
    return 130


def error_document(err: BaseException, message: str) -> dict[str, Any]:
    """Describe an error for ``--json`` callers: its kind, message and hints (masked)."""
    hints = list(getattr(err, "hints", ()))
    headline = err.headline() if isinstance(err, ConventionsError) else message.split("\n  → ")[0]
    return {
        "type": type(err).__name__,
        "message": redact(headline),
        "hints": [redact(hint) for hint in hints],
    }


def _broken_script(err: Exception) -> CommandError | None:
    """A SyntaxError/ImportError in the user's env.py or a module it imports: their input.

    env.py fails to load before the house runtime runs, so it is explained here.
    """
    if not isinstance(err, (SyntaxError, ImportError)):
        return None
    from conventions.db.settings import project_root
    from conventions.project.script_errors import broken_script

    return broken_script(err, roots=[project_root()])


def _project_code(err: Exception) -> CommandError | None:
    """An error raised inside the project's own code (app factory, models): theirs.

    A ForeignKey to a table missing from their metadata surfaces from SQLAlchemy, with
    no project line in the traceback, yet is theirs as well.
    """
    from sqlalchemy.exc import NoReferenceError

    from conventions.db.settings import project_root
    from conventions.project.script_errors import project_code_error

    if isinstance(err, NoReferenceError):
        from conventions.project.metadata import unresolved_foreign_keys

        return unresolved_foreign_keys(err)
    return project_code_error(err, project_root())


def entry() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
