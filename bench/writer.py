"""The application traffic: a separate process doing single-row statements in autocommit.

It cycles INSERT, UPDATE (of a random existing row) and a point SELECT at a steady
rate, and appends every statement's start time and latency to a binary file as soon
as it finishes. A statement stuck behind a lock is therefore recorded with its full
wait when the lock is released, which is exactly what a user of the application
feels. Start times come from CLOCK_MONOTONIC, which is system-wide on Linux, so the
parent can line them up with the DDL it timed itself.

Run as ``python -m bench.writer FILE ROWS RATE`` with the database URL in
``BENCH_WRITER_URL`` (not on the command line, where ``ps`` would show a password);
stop it with SIGTERM.
"""

from __future__ import annotations

import bisect
import os
import random
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

APPLICATION_NAME = "bench writer"
RECORD = struct.Struct("<ddBB")  # start (s, monotonic), latency (s), kind, ok
KINDS = ("insert", "update", "select")
STATEMENTS = (
    "INSERT INTO notification_campaigns (name, segment_id, status, campaign_type) "
    "VALUES (%s, %s, 'draft', 'lifecycle')",
    "UPDATE notification_campaigns SET status = %s WHERE id = %s",
    "SELECT status FROM notification_campaigns WHERE id = %s",
)


def clock() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


@dataclass(frozen=True, slots=True)
class Sample:
    start: float
    latency: float
    kind: str
    ok: bool

    @property
    def end(self) -> float:
        return self.start + self.latency


def _params(kind: int, i: int, rows: int) -> tuple[object, ...]:
    if kind == 0:
        return (f"bench writer {i}", 1 + i % 1000)
    if kind == 1:
        return (("scheduled", "sending", "sent")[i % 3], random.randint(1, rows))
    return (random.randint(1, rows),)


def _loop(url: URL, path: Path, rows: int, rate: int) -> None:
    from bench.db import connect

    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    conn = connect(url, name=APPLICATION_NAME)
    cur = conn.cursor()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    period = 1.0 / rate
    next_start = clock()
    i = 0
    while not stopping:
        kind = i % len(STATEMENTS)
        params = _params(kind, i, rows)
        started = clock()
        ok = 1
        try:
            cur.execute(STATEMENTS[kind], params)
            if kind == 2:
                cur.fetchall()
        except Exception:
            ok = 0  # recorded, never fatal: the traffic keeps going like an app would
            if conn.closed:
                conn = connect(url, name=APPLICATION_NAME)
                cur = conn.cursor()
        os.write(fd, RECORD.pack(started, clock() - started, kind, ok))
        i += 1
        next_start = max(next_start + period, clock())
        pause = next_start - clock()
        if pause > 0:
            time.sleep(pause)
    os.close(fd)
    conn.close()


class Writer:
    """Start, read and stop the writer process."""

    def __init__(self, url: URL, path: Path, *, rows: int, rate: int) -> None:
        self.url = url
        self.path = path
        self.rows = rows
        self.rate = rate
        self.samples: list[Sample] = []
        self._starts: list[float] = []
        self._offset = 0
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Writer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        self.path.touch()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.writer", str(self.path), str(self.rows), str(self.rate)],
            cwd=Path(__file__).resolve().parents[1],
            env={**os.environ, "BENCH_WRITER_URL": self.url.render_as_string(hide_password=False)},
        )
        self.wait_until(clock(), timeout=30)

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None
        self.read()

    def read(self) -> None:
        """Load the records written since the last read."""
        with self.path.open("rb") as f:
            f.seek(self._offset)
            data = f.read()
        whole = len(data) - len(data) % RECORD.size
        self._offset += whole
        for start, latency, kind, ok in RECORD.iter_unpack(data[:whole]):
            self.samples.append(Sample(start, latency, KINDS[kind], bool(ok)))
            self._starts.append(start)

    def wait_until(self, moment: float, *, timeout: float) -> None:
        """Block until a statement that started after ``moment`` has finished.

        Statements are sequential, so then every statement that was in flight at
        ``moment`` (possibly stuck behind a lock) has been recorded.
        """
        deadline = clock() + timeout
        while True:
            self.read()
            if self._starts and self._starts[-1] > moment:
                return
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"the writer process exited with {self._proc.returncode}")
            if clock() > deadline:
                raise TimeoutError(f"the writer recorded nothing for {timeout:.0f}s")
            time.sleep(0.005)

    def between(self, start: float, end: float) -> list[Sample]:
        """Return the samples that started in [start, end)."""
        lo = bisect.bisect_left(self._starts, start)
        hi = bisect.bisect_left(self._starts, end)
        return self.samples[lo:hi]


def main(argv: list[str]) -> int:
    path, rows, rate = argv
    _loop(make_url(os.environ["BENCH_WRITER_URL"]), Path(path), int(rows), int(rate))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
