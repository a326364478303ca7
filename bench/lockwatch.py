"""Whether the writer was waiting on a lock, sampled from pg_stat_activity.

A slow statement during DDL has two possible causes: it queued behind a lock the
DDL holds or wants (what the house conventions prevent), or the DDL's scan took the
CPU and disk it needed (what no convention can prevent on a 2-core machine). The
writer's backend is sampled every few milliseconds so the report can tell which.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy.engine import URL

from bench import db
from bench.writer import APPLICATION_NAME, clock

INTERVAL_S = 0.005
QUERY = "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE application_name = %s"


class LockWatch:
    """Sample the writer's wait state in a thread; keep the moments it waited on a lock."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.samples = 0
        self.lock_times: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lock-watch", daemon=True)

    def __enter__(self) -> LockWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = db.connect(self.url, name="bench lock watch")
        try:
            with conn.cursor() as cur:
                while not self._stop.is_set():
                    at = clock()
                    cur.execute(QUERY, (APPLICATION_NAME,))
                    row = cur.fetchone()
                    self.samples += 1
                    if row is not None and row[0]:
                        self.lock_times.append(at)
                    time.sleep(INTERVAL_S)
        finally:
            conn.close()

    def longest_wait(self, start: float, end: float) -> float:
        """The longest run of consecutive lock-wait samples within [start, end), in seconds."""
        times = [t for t in self.lock_times if start <= t < end]
        if not times:
            return 0.0
        # Samples further apart than this belong to separate waits. Generous, because the
        # sampling thread itself is delayed on a busy machine; the writer needs at least a
        # statement's time between two waits anyway.
        gap = INTERVAL_S * 20
        longest, run_start, previous = 0.0, times[0], times[0]
        for t in times[1:]:
            if t - previous > gap:
                longest = max(longest, previous - run_start + INTERVAL_S)
                run_start = t
            previous = t
        return max(longest, previous - run_start + INTERVAL_S)
