"""Who is blocking the migration: watched while a step runs, named when it gives up.

Once ``lock_timeout`` cancels the waiting statement, ``pg_blocking_pids`` has
nothing left to report, so the blockers are sampled *while* the step runs: a
background thread polls them over the (otherwise idle) migrator-lock connection,
a few times per lock timeout. Steps that finish quickly never cause a query.

The blocker's query text is shown and stored in the history (``error``), and it is
another session's: it may carry passwords, tokens or personal data in its literals.
Only its shape is kept (:func:`redact`): literals become ``?``, comments go.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.engine import Connection

_BLOCKERS = text(
    "SELECT a.pid, a.state, a.application_name, a.usename, a.xact_start, a.query_start,"
    " a.query"
    " FROM pg_stat_activity a WHERE a.pid = ANY (pg_blocking_pids(:pid)) ORDER BY a.pid"
)
_WAITING_FOR = text(
    "SELECT string_agg(DISTINCT relation::regclass::text, ', ') FROM pg_locks"
    " WHERE pid = :pid AND NOT granted AND relation IS NOT NULL"
)


SNIPPET = 120
# One alternative per token kind, tried in this order at each position, so a quote
# inside an identifier or a comment never starts a literal. Unterminated literals
# (pg_stat_activity truncates long queries) run to the end and are redacted whole.
_TOKEN = re.compile(
    r"""
      (?P<ident>"(?:[^"]|"")*"?)
    | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
    | (?P<dollar>\$\$.*?(?:\$\$|\Z)|\$(?P<tag>[A-Za-z_][A-Za-z_0-9]*)\$.*?(?:\$(?P=tag)\$|\Z))
    | (?P<escaped>[Ee]'(?:[^'\\]|''|\\.)*'?)
    | (?P<string>(?:[BbXxNn]|[Uu]&)?'(?:[^']|'')*'?)
    | (?P<word>[A-Za-z_][A-Za-z_0-9$]*)
    | (?P<param>\$\d+)
    | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[Ee][+-]?\d+)?)
    """,
    re.VERBOSE | re.DOTALL,
)
_REDACTED = {"dollar": "?", "escaped": "?", "string": "?", "number": "?", "comment": " "}


def redact(query: str | None, *, limit: int = SNIPPET) -> str | None:
    """Return ``query``'s shape: literals as ``?``, no comments, one line, ``limit`` chars."""
    if query is None:
        return None

    def replace(match: re.Match[str]) -> str:
        return _REDACTED.get(match.lastgroup or "", match.group(0))

    shape = " ".join(_TOKEN.sub(replace, query).split())
    return shape if len(shape) <= limit else shape[: limit - 1] + "…"


@dataclass(frozen=True)
class Blocker:
    pid: int
    state: str | None
    application_name: str | None
    user: str | None
    transaction_start: dt.datetime | None
    query_start: dt.datetime | None
    query: str | None

    def describe(self) -> str:
        app = f", application {self.application_name!r}" if self.application_name else ""
        started = (
            f", query started {self.query_start:%Y-%m-%d %H:%M:%S %Z}" if self.query_start else ""
        )
        since = (
            f", transaction open since {self.transaction_start:%H:%M:%S}"
            if self.transaction_start
            else ""
        )
        snippet = f", query: {self.query!r}" if self.query else ""
        details = f"state {self.state}{app}, user {self.user}{started}{since}{snippet}"
        return f"pid {self.pid} ({details})"


class BlockerWatch:
    """Sample the sessions blocking ``pid`` every ``interval`` seconds while active."""

    def __init__(self, connection: Connection | None, pid: int | None, interval: float) -> None:
        self.connection = connection
        self.pid = pid
        self.interval = max(interval, 0.05)
        self.seen: list[Blocker] = []
        self.waiting_for = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> BlockerWatch:
        if self.connection is not None and self.pid is not None:
            self._thread = threading.Thread(target=self._run, name="blocker-watch", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        assert self.connection is not None
        while not self._stop.wait(self.interval):
            try:
                rows = self.connection.execute(_BLOCKERS, {"pid": self.pid}).all()
                waiting = self.connection.execute(_WAITING_FOR, {"pid": self.pid}).scalar()
            except Exception:
                return  # diagnostics only; the migration itself reports its own failure
            if rows:
                self.seen = [
                    Blocker(pid, state, app, user, started, query_start, redact(query))
                    for pid, state, app, user, started, query_start, query in rows
                ]
                self.waiting_for = waiting or self.waiting_for

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
