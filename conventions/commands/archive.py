"""``archive``: the data downgrades kept — list it, restore it, purge it.

A restore writes to application tables that may be busy, so it runs like a
migration step: one transaction with the runtime's ``lock_timeout`` and
``statement_timeout``, rolled back and retried with back-off when it cannot get a
lock, never queueing application traffic behind it for longer than the lock timeout.
"""

from __future__ import annotations

import argparse
import json
import time

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from conventions import logs
from conventions.db.connect import connected
from conventions.errors import ArchiveError
from conventions.result_stream import others_to_stderr
from conventions.runtime.archive_store import Restored, archives, purge, restore, restore_order
from conventions.runtime.explain import DEADLOCK, RETRYABLE, sqlstate
from conventions.runtime.limits import (
    LOCK_RETRIES,
    LOCK_TIMEOUT,
    STATEMENT_TIMEOUT,
    Limits,
    pg_duration,
)
from conventions.runtime.migrator_lock import locked


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
    if not args.names and not (args.action == "purge" and args.all):
        raise ArchiveError(
            f"Name the archive(s) to {args.action}.",
            hints=["List them: python -m conventions archive list"],
        )
    with locked(application=f"conventions archive {args.action}") as (_engine, connection):
        names = args.names or [a.name for a in archives(connection)]
        if args.action == "restore":
            for done in _restore(connection, names, force=args.force):
                logs.done(done.describe())
            return 0
        for name in names:
            gone = purge(connection, name)
            logs.done(f"Purged {name} ({gone.row_count} row(s) of {gone.source}).")
        connection.commit()
    return 0


def _restore(connection: Connection, names: list[str], *, force: bool) -> list[Restored]:
    """Restore ``names`` in one transaction under the runtime's limits, retrying on locks."""
    limits = Limits.from_env()
    attempt = 0
    while True:
        attempt += 1
        try:
            connection.execute(
                text(
                    "SELECT set_config('lock_timeout', :lt, true),"
                    " set_config('statement_timeout', :st, true)"
                ),
                {
                    "lt": pg_duration(limits.lock_timeout),
                    "st": pg_duration(limits.statement_timeout),
                },
            )
            done = [
                restore(connection, name, force=force) for name in restore_order(connection, names)
            ]
            connection.commit()
            return done
        except ArchiveError:
            connection.rollback()
            raise
        except DBAPIError as err:
            connection.rollback()
            code = sqlstate(err)
            if code == "23503":
                raise _parent_first(err, names) from err
            if code == "57014" and "statement timeout" not in str(err):
                raise  # cancelled by someone, not by our limit
            if code not in RETRYABLE and code != "57014":
                raise
            if code in RETRYABLE and attempt <= limits.lock_retries:
                delay = limits.backoff(attempt)
                why = (
                    "deadlocked with another session"
                    if code == DEADLOCK
                    else f"could not get a lock within {limits.lock_timeout:g}s"
                )
                logs.warn(
                    f"Restore {why}; rolled back, retrying in {delay:g}s "
                    f"(attempt {attempt + 1} of {limits.lock_retries + 1})."
                )
                time.sleep(delay)
                continue
            raise _busy(code, attempt, limits, names) from err


def _parent_first(err: DBAPIError, names: list[str]) -> ArchiveError:
    """A restored row references a row that is not there (yet): name the table it needs."""
    detail = getattr(getattr(err.orig, "diag", None), "message_detail", None) or ""
    primary = str(getattr(getattr(err.orig, "diag", None), "message_primary", "") or err.orig)
    return ArchiveError(
        f"Restoring {', '.join(names)} would break a foreign key: {primary} ({detail}) "
        "It was rolled back; nothing was restored or marked restored.",
        name=names[0] if len(names) == 1 else None,
        hints=[
            "Restore the archive of the referenced table first, or name both in one command "
            "(they are restored parents first): python -m conventions archive restore A B …",
        ],
    )


def _busy(code: str | None, attempts: int, limits: Limits, names: list[str]) -> ArchiveError:
    if code == "57014":
        what = f"ran longer than statement_timeout ({limits.statement_timeout:g}s)"
        hints = [f"Raise {STATEMENT_TIMEOUT} for this run (e.g. 4h)."]
    else:
        failed = (
            "deadlocked with another session"
            if code == DEADLOCK
            else f"could not get its locks within lock_timeout ({limits.lock_timeout:g}s)"
        )
        what = f"{failed} in {attempts} attempt(s)"
        hints = [
            "A long or 'idle in transaction' session holds the table: let it finish, or run "
            f"at a quieter time, or allow longer waits: {LOCK_TIMEOUT} "
            f"(now {limits.lock_timeout:g}s) and {LOCK_RETRIES} (now {limits.lock_retries}).",
        ]
    return ArchiveError(
        f"Restoring {', '.join(names)} {what} and was rolled back; nothing was restored.",
        name=names[0] if len(names) == 1 else None,
        hints=hints,
    )
