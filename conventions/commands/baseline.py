"""``baseline``: adopt a database built outside migrations (or record missing checksums)."""

from __future__ import annotations

import argparse

from alembic.script import ScriptDirectory

from conventions import logs
from conventions.project.alembic_config import alembic_config
from conventions.reports.status import load_metadata
from conventions.runtime.migrator_lock import locked
from conventions.runtime.repair import baseline


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "revision", nargs="?", default="head", help="revision the schema matches (default head)"
    )
    parser.add_argument(
        "--force", action="store_true", help="baseline at head even if the schema has drifted"
    )
    parser.add_argument("--models", default="app.models", help="module that defines the models")


def run(args: argparse.Namespace) -> int:
    script = ScriptDirectory.from_config(alembic_config())
    metadata = load_metadata(args.models)
    with locked(application="conventions baseline") as (_engine, connection):
        stamped, recorded = baseline(
            connection, script, target=args.revision, metadata=metadata, force=args.force
        )
    if stamped is None:
        if recorded:
            logs.done(f"Recorded checksums for {len(recorded)} applied migration(s).")
        else:
            logs.done("Nothing to baseline: every applied migration has a recorded checksum.")
        return 0
    if stamped not in script.get_heads():
        logs.warn(f"Baselined at {stamped}, not at head: the schema was not compared.")
    logs.done(
        f"Baselined the database at {stamped} ({len(recorded)} revision(s) recorded). "
        "Later migrations apply normally: python -m conventions migrate"
    )
    return 0
