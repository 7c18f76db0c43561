"""The "batch landed" signal on the control topic.

After rows land, the worker says so on the control topic — at most
once per interval, whatever the number of batches, so a busy stream does not
turn into a storm of dbt runs. Airflow's event-driven DAG watches this topic.

Airflow's Kafka trigger fires once per signal and then starts over with a new
consumer, about 2 s per signal: the interval leaves it room to keep up. Signals
that waited longer than :data:`STALE_AFTER` (Airflow was down, the DAG paused) are
passed over instead of replayed one by one: the micro-batch schedule, which looks
at every source, builds what they announced.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from streammart.contract import qualified

SIGNAL_INTERVAL = 3.0  # seconds
STALE_AFTER = timedelta(seconds=30)


class LandedSignal:
    """Rows landed since the last signal, per raw table."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}

    def add(self, table: str, rows: int) -> None:
        if rows:
            self.rows[table] = self.rows.get(table, 0) + rows

    def take(self) -> bytes | None:
        """The message to send (and reset), or None when nothing landed."""
        if not self.rows:
            return None
        message = {"tables": sorted(qualified(t) for t in self.rows), "rows": sum(self.rows.values()),
                   "by_table": {qualified(t): n for t, n in sorted(self.rows.items())},
                   "at": datetime.now(timezone.utc).isoformat()}
        self.rows = {}
        return json.dumps(message).encode()


def parse_landed(value: bytes | None) -> dict | None:
    """The signal's content, or None for anything that is not one."""
    try:
        message = json.loads(value) if value else None
    except (ValueError, UnicodeDecodeError):
        return None
    return message if is_landed(message) else None


def is_landed(message: Any) -> bool:
    """True when ``message`` has the signal's shape: tables named, rows counted."""
    return isinstance(message, dict) and isinstance(message.get("tables"), list) and bool(message.get("rows"))


def landed_event(message, now: datetime | None = None) -> dict | None:
    """Airflow's Kafka message-queue trigger calls this for each control message.

    A truthy return fires the trigger (its value becomes the asset event's payload);
    a stale signal returns None, and the trigger reads on without firing.
    """
    signal = parse_landed(message.value())
    if signal is None or is_stale(signal, now or datetime.now(timezone.utc)):
        return None
    return signal


def is_stale(signal: dict, now: datetime) -> bool:
    """True when the signal was sent more than STALE_AFTER before ``now`` (undated: never)."""
    try:
        sent = datetime.fromisoformat(signal["at"])
    except (KeyError, TypeError, ValueError):
        return False
    return now - sent > STALE_AFTER


def tables_in_asset_events(events: Mapping[Any, Iterable[Any]] | None) -> list[str]:
    """The raw tables named by the landed signals behind an asset-triggered run.

    Airflow keeps each trigger's payload (the signal) in its asset event's
    ``extra["payload"]``. An event without one (an asset event posted by hand, say)
    names nothing, and then nothing is named at all: the run must look at every
    source, not only at the ones the other events name.
    """
    tables: set[str] = set()
    for asset_events in (events or {}).values():
        for event in asset_events:
            payload = (getattr(event, "extra", None) or {}).get("payload")
            if not is_landed(payload):
                return []
            tables.update(t for t in payload["tables"] if isinstance(t, str))
    return sorted(tables)
