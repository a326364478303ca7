"""``repair``: accept an intended edit to an applied migration by recording its new checksum."""

from __future__ import annotations

import argparse

from alembic.script import ScriptDirectory

from conventions import logs
from conventions.project.alembic_config import alembic_config
from conventions.runtime.migrator_lock import locked
from conventions.runtime.repair import repair


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "revisions",
        nargs="*",
        metavar="REVISION",
        help="revision ids or file names to repair (default: every edited applied file)",
    )


def run(args: argparse.Namespace) -> int:
    script = ScriptDirectory.from_config(alembic_config())
    with locked(application="conventions repair") as (_engine, connection):
        repaired = repair(connection, script, only=args.revisions)
    if not repaired:
        logs.done("Nothing to repair: every applied migration matches its recorded checksum.")
        return 0
    for revision, name in repaired:
        logs.warn(f"Accepted the edit of {name} ({revision}): new checksum recorded.")
    logs.done(f"Repaired {len(repaired)} file(s); the history records who and when.")
    return 0
