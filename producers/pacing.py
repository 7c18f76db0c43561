"""Replay pacing: hold the publish loop to a steady number of events per second."""
from __future__ import annotations

import time


class Pacer:
    """Sleeps just enough to keep ``rate`` events/s on average (0 or None: no limit).

    It paces against the run's start, not per event, so a slow moment is caught up
    and the long-run rate is exact.
    """

    def __init__(self, rate: float | None):
        self.rate = rate or 0
        self._start = time.monotonic()
        self._count = 0

    def wait(self) -> None:
        if not self.rate:
            return
        self._count += 1
        ahead = self._count / self.rate - (time.monotonic() - self._start)
        if ahead > 0:
            time.sleep(ahead)
