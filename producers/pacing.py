"""Replay pacing: a steady number of events per second, or the source's own rhythm.

Both pace against the run's start rather than event by event, so a slow moment
is caught up and the long-run pace is exact.
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Protocol


class Pacer(Protocol):
    #: Whether ``wait`` reads the event time (the replay leaves finding it out otherwise).
    uses_event_time: bool
    #: Whether ``wait`` ever waits (a replay that is not paced publishes runs of records at once).
    waits: bool

    def wait(self, event_time: datetime | None) -> None: ...


class RatePacer:
    """At most ``rate`` events/s on average (0 or None: as fast as possible)."""

    uses_event_time = False

    def __init__(self, rate: float | None):
        self.rate = rate or 0
        self.waits = bool(self.rate)
        self._start = time.monotonic()
        self._count = 0

    def wait(self, event_time: datetime | None = None) -> None:
        if not self.rate:
            return
        self._count += 1
        ahead = self._count / self.rate - (time.monotonic() - self._start)
        if ahead > 0:
            time.sleep(ahead)


class EventTimePacer:
    """Events as far apart as their event times, divided by ``speed``.

    ``speed=60`` replays an hour of history in a minute. Events without an event
    time, or older than one already sent (files are rarely sorted), go at once.
    """

    uses_event_time = True
    waits = True

    def __init__(self, speed: float):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin: tuple[datetime, float] | None = None

    def wait(self, event_time: datetime | None) -> None:
        if event_time is None:
            return
        if self._origin is None:
            self._origin = (event_time, time.monotonic())
            return
        first_event, first_wall = self._origin
        ahead = (event_time - first_event).total_seconds() / self.speed - (time.monotonic() - first_wall)
        if ahead > 0:
            time.sleep(ahead)


def make_pacer(rate: float | None = None, speed: float | None = None) -> Pacer:
    if rate and speed:
        raise ValueError("pace by --rate or by --speed, not both")
    return EventTimePacer(speed) if speed else RatePacer(rate)
