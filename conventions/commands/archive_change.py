"""``archive restore`` / ``archive purge``: the archive command's write side.

A restore writes to application tables that may be busy, so it runs like a
migration step: one transaction with the runtime's ``lock_timeout`` and
``statement_timeout``, rolled back and retried with back-off when it cannot get a
lock, never queueing application traffic behind it for longer than the lock timeout.
Kept apart from :mod:`conventions.commands.archive` so ``archive list`` loads no runtime.
"""

from __future__ import annotations

import argparse

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from conventions import logs
from conventions.errors import ArchiveError
from conventions.history.archives import archives
from conventions.runtime.archive_store import Restored, purge, restore, restore_order
from conventions.runtime.limits import STATEMENT_TIMEOUT, Limits, pg_duration
from conventions.runtime.migrator_lock import locked
from conventions.runtime.retry import (
    QUERY_CANCELED,
    RetryLoop,
    gave_up,
    longer_waits_hint,
    retryable,
)

FOREIGN_KEY_VIOLATION = "23503"


def change(args: argparse.Namespace) -> int:
    """Restore or purge the archives ``args`` names, under the migrator lock."""
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


def _restore(
    connection: Connection, names: list[str], *, force: bool, retry: RetryLoop | None = None
) -> list[Restored]:
    """Restore ``names`` in one transaction under the runtime's limits, retrying on locks."""
    loop = retry or RetryLoop(Limits.from_env())
    limits = loop.limits

    def attempt(number: int) -> list[Restored]:
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
        except BaseException:
            connection.rollback()
            raise

    def give_up(err: Exception, attempts: int, code: str | None) -> BaseException:
        if not isinstance(err, DBAPIError):
            return err
        if code == FOREIGN_KEY_VIOLATION:
            return _parent_first(err, names)
        if retryable(code) or (code == QUERY_CANCELED and "statement timeout" in str(err)):
            return _busy(code, attempts, limits, names)
        return err  # cancelled by someone else, or not ours to explain

    return loop.run(attempt, what="Restore", give_up=give_up, final=(ArchiveError,))


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
    if code == QUERY_CANCELED:
        what = (
            f"ran longer than statement_timeout ({limits.statement_timeout:g}s) in "
            f"{attempts} attempt(s) and was rolled back;"
        )
        hints = [f"Raise {STATEMENT_TIMEOUT} for this run (e.g. 4h)."]
    else:
        what = f"{gave_up(code, attempts, limits)} It was rolled back;"
        hints = [
            "A long or 'idle in transaction' session holds the table: let it finish. "
            + longer_waits_hint(limits),
        ]
    return ArchiveError(
        f"Restoring {', '.join(names)} {what} nothing was restored.",
        name=names[0] if len(names) == 1 else None,
        hints=hints,
    )
