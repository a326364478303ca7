"""Retry work that could not get its locks: one loop for steps, restores and backfills.

A migration step, an archive restore and a backfill batch all write to tables the
application may be using. Each runs in one transaction under ``lock_timeout``, so it
never queues the application's traffic behind it for longer than that; when PostgreSQL
cancels it for a lock it could not get (or to break a deadlock) the transaction is
rolled back and the work is tried again after a back-off, a bounded number of times
(``Limits``). Every
other failure is final at once: retrying a constraint violation only repeats it.

The loop knows nothing about what it retries. The caller hands it one attempt (a
callable that either returns or raises after rolling back) and a ``give_up`` callable
that turns the last failure into the error users see; the sentences that say why an
attempt failed are written here once, so both callers word them the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from conventions import logs
from conventions.runtime.limits import LOCK_RETRIES, LOCK_TIMEOUT, Limits

LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout expired
DEADLOCK = "40P01"  # deadlock_detected: PostgreSQL cancelled one side of a cycle
QUERY_CANCELED = "57014"  # statement_timeout (or pg_cancel_backend): not retried
RETRYABLE = frozenset({LOCK_NOT_AVAILABLE, DEADLOCK})

DEADLOCKED = "deadlocked with another session (PostgreSQL cancelled it to break the cycle)"

T = TypeVar("T")
GiveUp = Callable[[Exception, int, str | None], BaseException]


def sqlstate(err: BaseException) -> str | None:
    """Return the PostgreSQL SQLSTATE behind ``err`` or anything it was raised from."""
    seen: BaseException | None = err
    while seen is not None:
        orig = seen.orig if isinstance(seen, DBAPIError) else seen
        code = getattr(orig, "pgcode", None)
        if code:
            return str(code)
        seen = seen.__cause__ or seen.__context__
    return None


def retryable(code: str | None) -> bool:
    """Whether a failure with SQLSTATE ``code`` may succeed when simply tried again."""
    return code in RETRYABLE


def why_failed(code: str | None, limits: Limits, *, target: str = "a lock") -> str:
    """Say why an attempt failed, as a verb phrase: the fixes differ (wait vs. lock order)."""
    if code == DEADLOCK:
        return DEADLOCKED
    return f"could not get {target} within lock_timeout ({limits.lock_timeout:g}s)"


def gave_up(code: str | None, attempts: int, limits: Limits, *, target: str = "a lock") -> str:
    """The end of every give-up sentence: "<why> in N attempt(s) with back-off, and gave up."."""
    why = why_failed(code, limits, target=target)
    return f"{why} in {attempts} attempt(s) with back-off, and gave up."


def longer_waits_hint(limits: Limits) -> str:
    """The settings that let a retried change wait longer, with their values now."""
    return (
        f"Or run at a quieter time, or allow longer waits: {LOCK_TIMEOUT} "
        f"(now {limits.lock_timeout:g}s) and {LOCK_RETRIES} (now {limits.lock_retries})."
    )


class RetryLoop:
    """Run one attempt at a time until it succeeds, fails for good, or retries run out.

    ``sleep`` and ``warn`` come in through the constructor so a test can count the
    back-offs without waiting for them, and a command can route the notices.
    """

    def __init__(
        self,
        limits: Limits,
        *,
        sleep: Callable[[float], object] = time.sleep,
        warn: Callable[[str], object] = logs.warn,
    ) -> None:
        self.limits = limits
        self.sleep = sleep
        self.warn = warn

    def delay(self, attempt: int, code: str | None) -> float | None:
        """Seconds to wait before trying again after ``attempt`` failed with ``code``.

        None means give up: the failure is not a lock failure, or the attempt was the
        last one allowed (``lock_retries`` retries after the first attempt).
        """
        if not retryable(code) or attempt > self.limits.lock_retries:
            return None
        return self.limits.backoff(attempt)

    def notice(
        self, what: str, attempt: int, code: str | None, delay: float, kept: str = ""
    ) -> str:
        """The warning logged before a retry (``kept``: what stays committed, if anything)."""
        return (
            f"{what} {why_failed(code, self.limits)}; rolled back{kept}, retrying in "
            f"{delay:g}s (attempt {attempt + 1} of {self.limits.lock_retries + 1})."
        )

    def run(
        self,
        attempt: Callable[[int], T],
        *,
        what: str,
        give_up: GiveUp,
        kept: Callable[[], str] = lambda: "",
        final: tuple[type[Exception], ...] = (),
    ) -> T:
        """Return what ``attempt(number)`` returns, retrying it on lock failures.

        ``attempt`` must leave the database as it found it when it raises (roll back).
        ``give_up(error, attempts, sqlstate)`` returns the exception to raise instead of
        the last failure (it may return the failure itself). Exceptions of the ``final``
        types pass through untouched, never retried; neither are interrupts.
        """
        number = 0
        while True:
            number += 1
            try:
                return attempt(number)
            except final:
                raise
            except Exception as err:
                code = sqlstate(err)
                delay = self.delay(number, code)
                if delay is None:
                    error = give_up(err, number, code)
                    if error is err:
                        raise
                    raise error from err
                self.warn(self.notice(what, number, code, delay, kept()))
                self.sleep(delay)
