"""The one retry loop: its policy on its own, then against a session that really holds a lock."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from conventions import logs
from conventions.harness.scratch import connect
from conventions.runtime.limits import Limits, pg_duration
from conventions.runtime.retry import (
    DEADLOCK,
    DEADLOCKED,
    LOCK_NOT_AVAILABLE,
    RetryLoop,
    gave_up,
    sqlstate,
    why_failed,
)

LIMITS = Limits(lock_timeout=0.2, lock_retries=2, retry_backoff=0.5)


class _Failed(Exception):
    """A failure carrying a SQLSTATE, as psycopg2's errors do (``pgcode``)."""

    def __init__(self, pgcode: str | None) -> None:
        super().__init__(f"failed with {pgcode}")
        self.pgcode = pgcode


class _Quiet:
    """Collect the loop's warnings and back-offs instead of logging and sleeping."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.sleeps: list[float] = []

    def loop(self, limits: Limits = LIMITS) -> RetryLoop:
        return RetryLoop(limits, sleep=self.sleeps.append, warn=self.warnings.append)


def _give_up(err: Exception, attempts: int, code: str | None) -> Exception:
    return RuntimeError(f"gave up after {attempts} attempt(s) on {code}")


# -- the policy, without a database ---------------------------------------------------


@pytest.mark.parametrize("code", [LOCK_NOT_AVAILABLE, DEADLOCK])
def test_lock_failures_are_retried_with_doubling_back_off(code: str) -> None:
    loop = RetryLoop(LIMITS)
    assert [loop.delay(attempt, code) for attempt in (1, 2, 3)] == [0.5, 1.0, None]


@pytest.mark.parametrize("code", [None, "23505", "57014", "42P01"])
def test_other_failures_are_final_at_once(code: str | None) -> None:
    assert RetryLoop(LIMITS).delay(1, code) is None


def test_back_off_is_capped() -> None:
    loop = RetryLoop(Limits(lock_retries=10, retry_backoff=10.0))
    assert loop.delay(5, LOCK_NOT_AVAILABLE) == 30.0


def test_no_retries_means_one_attempt() -> None:
    assert RetryLoop(Limits(lock_retries=0)).delay(1, LOCK_NOT_AVAILABLE) is None


def test_deadlock_is_worded_one_way_everywhere() -> None:
    assert why_failed(DEADLOCK, LIMITS) == DEADLOCKED
    assert gave_up(DEADLOCK, 2, LIMITS).startswith(DEADLOCKED + " in 2 attempt(s)")
    assert (
        RetryLoop(LIMITS)
        .notice("Restore", 1, DEADLOCK, 0.5)
        .startswith(f"Restore {DEADLOCKED}; rolled back")
    )


def test_lock_failure_names_the_timeout_and_what_it_waited_for() -> None:
    assert why_failed(LOCK_NOT_AVAILABLE, LIMITS, target="a lock on offers") == (
        "could not get a lock on offers within lock_timeout (0.2s)"
    )
    assert gave_up(LOCK_NOT_AVAILABLE, 3, LIMITS) == (
        "could not get a lock within lock_timeout (0.2s) in 3 attempt(s) with back-off, "
        "and gave up."
    )


def test_loop_retries_until_an_attempt_succeeds() -> None:
    quiet = _Quiet()
    outcomes: list[Exception | None] = [_Failed(LOCK_NOT_AVAILABLE), _Failed(DEADLOCK), None]

    def attempt(number: int) -> int:
        failure = outcomes[number - 1]
        if failure is not None:
            raise failure
        return number

    assert quiet.loop().run(attempt, what="Step", give_up=_give_up) == 3
    assert quiet.sleeps == [0.5, 1.0]
    assert quiet.warnings == [
        "Step could not get a lock within lock_timeout (0.2s); rolled back, retrying in "
        "0.5s (attempt 2 of 3).",
        f"Step {DEADLOCKED}; rolled back, retrying in 1s (attempt 3 of 3).",
    ]


def test_loop_hands_the_last_failure_to_give_up() -> None:
    quiet = _Quiet()
    seen: list[tuple[str, int, str | None]] = []

    def attempt(number: int) -> None:
        raise _Failed(LOCK_NOT_AVAILABLE)

    def give_up(err: Exception, attempts: int, code: str | None) -> Exception:
        seen.append((str(err), attempts, code))
        return RuntimeError("busy")

    with pytest.raises(RuntimeError, match="busy") as raised:
        quiet.loop().run(attempt, what="Step", give_up=give_up)
    assert seen == [("failed with 55P03", 3, LOCK_NOT_AVAILABLE)]
    assert isinstance(raised.value.__cause__, _Failed)
    assert len(quiet.sleeps) == 2


def test_give_up_may_re_raise_the_failure_itself() -> None:
    failure = _Failed("23505")

    def attempt(number: int) -> None:
        raise failure

    with pytest.raises(_Failed) as raised:
        _Quiet().loop().run(attempt, what="Step", give_up=lambda err, n, code: err)
    assert raised.value is failure
    assert raised.value.__cause__ is None


def test_final_errors_and_interrupts_pass_through_untried() -> None:
    quiet = _Quiet()

    class Final(Exception):
        pgcode = LOCK_NOT_AVAILABLE

    def final(number: int) -> None:
        raise Final

    def interrupted(number: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(Final):
        quiet.loop().run(final, what="Step", give_up=_give_up, final=(Final,))
    with pytest.raises(KeyboardInterrupt):
        quiet.loop().run(interrupted, what="Step", give_up=_give_up)
    assert quiet.sleeps == [] and quiet.warnings == []


def test_kept_work_is_named_in_the_notice() -> None:
    quiet = _Quiet()
    outcomes = [_Failed(LOCK_NOT_AVAILABLE), None]

    def attempt(number: int) -> None:
        if outcomes[number - 1] is not None:
            raise outcomes[number - 1]  # type: ignore[misc]

    quiet.loop().run(
        attempt, what="Step", give_up=_give_up, kept=lambda: " (work before VALIDATE stays)"
    )
    assert "rolled back (work before VALIDATE stays), retrying" in quiet.warnings[0]


# -- against PostgreSQL: another session holds the table ------------------------------


def _insert_under_lock_timeout(engine: Engine, limits: Limits) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("SELECT set_config('lock_timeout', :lt, true)"),
            {"lt": pg_duration(limits.lock_timeout)},
        )
        connection.execute(text("INSERT INTO offers (id) VALUES (1)"))


@pytest.fixture
def offers(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE offers (id integer PRIMARY KEY)"))
    return engine


def test_loop_waits_out_a_session_holding_the_table(offers: Engine) -> None:
    limits = Limits(lock_timeout=0.1, lock_retries=3, retry_backoff=0.01)
    blocker = connect(offers.url, autocommit=False, application="nightly-report")
    attempts: list[int] = []
    warnings: list[str] = []

    def back_off(seconds: float) -> None:
        if len(warnings) == 2:
            blocker.commit()  # the long transaction ends after the second failure

    loop = RetryLoop(limits, sleep=back_off, warn=warnings.append)

    def attempt(number: int) -> None:
        attempts.append(number)
        _insert_under_lock_timeout(offers, limits)

    try:
        with blocker.cursor() as cur:
            cur.execute("LOCK TABLE offers IN ACCESS EXCLUSIVE MODE")
        loop.run(attempt, what="Insert", give_up=_give_up)
    finally:
        blocker.close()
    assert attempts == [1, 2, 3]
    assert warnings == [
        "Insert could not get a lock within lock_timeout (0.1s); rolled back, retrying in "
        f"{delay:g}s (attempt {n + 1} of 4)."
        for n, delay in ((1, 0.01), (2, 0.02))
    ]
    with offers.connect() as connection:
        assert connection.execute(text("SELECT id FROM offers")).scalars().all() == [1]


def test_loop_gives_up_on_a_lock_that_is_never_released(offers: Engine) -> None:
    limits = Limits(lock_timeout=0.1, lock_retries=1, retry_backoff=0.01)
    blocker = connect(offers.url, autocommit=False, application="nightly-report")
    seen: list[tuple[int, str | None]] = []

    def give_up(err: Exception, attempts: int, code: str | None) -> Exception:
        seen.append((attempts, code))
        return RuntimeError(f"Insert {gave_up(code, attempts, limits)}")

    try:
        with blocker.cursor() as cur:
            cur.execute("LOCK TABLE offers IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(RuntimeError) as raised:
            RetryLoop(limits, sleep=lambda s: None, warn=lambda m: None).run(
                lambda n: _insert_under_lock_timeout(offers, limits),
                what="Insert",
                give_up=give_up,
            )
    finally:
        blocker.close()
    assert seen == [(2, LOCK_NOT_AVAILABLE)]
    assert str(raised.value) == (
        "Insert could not get a lock within lock_timeout (0.1s) in 2 attempt(s) with "
        "back-off, and gave up."
    )
    assert isinstance(raised.value.__cause__, DBAPIError)
    assert sqlstate(raised.value.__cause__) == LOCK_NOT_AVAILABLE
    with offers.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM offers")).scalar() == 0


def test_a_backfill_batch_waits_out_a_locked_row(offers: Engine) -> None:
    from conventions.runtime.backfill import Backfiller, BackfillPlan, KeyColumn

    # A handler of our own on the house logger: it sees the warning whether or not an
    # earlier test installed the house handler (which stops propagation to caplog).
    warned: list[str] = []

    class Listener(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warned.append(record.getMessage())

    listener = Listener()
    logs.logger.addHandler(listener)

    with offers.begin() as connection:
        connection.execute(text("ALTER TABLE offers ADD COLUMN featured boolean"))
        connection.execute(text("INSERT INTO offers (id) SELECT generate_series(1, 3)"))
    blocker = connect(offers.url, autocommit=False, application="checkout")
    sleeps: list[float] = []

    def back_off(seconds: float) -> None:
        sleeps.append(seconds)
        blocker.commit()  # the application's transaction ends after the first failure

    limits = Limits(lock_timeout=0.1, lock_retries=2, retry_backoff=0.01)
    plan = BackfillPlan(
        "offers", None, [KeyColumn("id", "integer")], ["featured = false"], {}, None, 10
    )
    try:
        with blocker.cursor() as cur:
            cur.execute("SELECT id FROM offers WHERE id = 2 FOR UPDATE")
        with offers.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(text("SET lock_timeout = '100ms'"))
            done = Backfiller(connection, plan, limits, 0, sleep=back_off).run()
    finally:
        blocker.close()
        logs.logger.removeHandler(listener)
    assert done == 3
    assert sleeps == [0.01]
    assert (
        "backfill offers: a batch could not get a lock within lock_timeout (0.1s); rolled "
        "back, retrying in 0.01s (attempt 2 of 3)."
    ) in warned
    with offers.connect() as connection:
        assert (
            connection.execute(text("SELECT count(*) FROM offers WHERE featured = false")).scalar()
            == 3
        )
