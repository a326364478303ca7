"""``archive``: the data downgrades kept — list it, restore it, purge it.

Listing only reads (:mod:`conventions.history.archives`); restore and purge change the
database and live in :mod:`conventions.commands.archive_change`, loaded only for them.
"""

from __future__ import annotations

import argparse
import json

from conventions.db.connect import connected
from conventions.history.archives import archives
from conventions.result_stream import others_to_stderr


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["list", "restore", "purge"])
    parser.add_argument("names", nargs="*", metavar="NAME", help="archive name(s)")
    parser.add_argument("--all", action="store_true", help="purge every archive")
    parser.add_argument("--json", action="store_true", help="list as JSON")
    parser.add_argument(
        "--force", action="store_true", help="restore an archive that was restored before"
    )


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        with (
            others_to_stderr(args.json),
            connected(application="conventions archive") as (_engine, connection),
        ):
            found = archives(connection)
        if args.json:
            print(json.dumps([a.as_json() for a in found], indent=2))
        elif not found:
            print("No archived data.")
        for a in found if not args.json else []:
            restored = f", restored {a.restored_at:%Y-%m-%d %H:%M}" if a.restored_at else ""
            held = (
                f"{a.row_count} row(s)"
                if a.present
                else f"MISSING (its table was dropped; the {a.row_count} row(s) are gone)"
            )
            print(
                f"{a.name}  {held} of {a.source}, downgrade of {a.revision} "
                f"at {a.archived_at:%Y-%m-%d %H:%M}{restored}"
            )
        return 0
    from conventions.commands.archive_change import change  # the write side

    return change(args)
