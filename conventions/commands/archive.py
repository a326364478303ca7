"""``archive``: the data downgrades kept — list it, restore it, purge it."""

from __future__ import annotations

import argparse
import json

from conventions import logs
from conventions.archive_store import archives, purge, restore
from conventions.connect import connected
from conventions.errors import ArchiveError
from conventions.history import ARCHIVE_SCHEMA
from conventions.migrator_lock import locked


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["list", "restore", "purge"])
    parser.add_argument("names", nargs="*", metavar="NAME", help="archive name(s)")
    parser.add_argument("--all", action="store_true", help="purge every archive")
    parser.add_argument("--json", action="store_true", help="list as JSON")


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        with connected(application="conventions archive") as (_engine, connection):
            found = archives(connection)
        if args.json:
            print(json.dumps([a.as_json() for a in found], indent=2))
        elif not found:
            print("No archived data.")
        for a in found if not args.json else []:
            restored = f", restored {a.restored_at:%Y-%m-%d %H:%M}" if a.restored_at else ""
            print(
                f"{a.name}  {a.row_count} row(s) of {a.source}, downgrade of {a.revision} "
                f"at {a.archived_at:%Y-%m-%d %H:%M}{restored}"
            )
        return 0
    if not args.names and not (args.action == "purge" and args.all):
        raise ArchiveError(
            f"Name the archive(s) to {args.action}.",
            hints=["List them: python -m conventions archive list"],
        )
    with locked(application=f"conventions archive {args.action}") as (_engine, connection):
        names = args.names or [a.name for a in archives(connection)]
        for name in names:
            if args.action == "restore":
                rows = restore(connection, name)
                logs.done(f"Restored {rows} row(s) from {ARCHIVE_SCHEMA}.{name}.")
            else:
                gone = purge(connection, name)
                logs.done(f"Purged {name} ({gone.row_count} row(s) of {gone.source}).")
        connection.commit()
    return 0
