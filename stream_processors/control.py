"""The "batch landed" signal on the control topic.

After rows land, the worker says so on the control topic — at most
once per interval, whatever the number of batches, so a busy stream does not
turn into a storm of dbt runs. Airflow's event-driven DAG watches this topic.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from streammart.contract import qualified

SIGNAL_INTERVAL = 2.0  # seconds


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
    if not isinstance(message, dict) or not isinstance(message.get("tables"), list) or not message.get("rows"):
        return None
    return message


def landed_event(message) -> dict | None:
    """Airflow's Kafka message-queue trigger calls this for each control message.

    A truthy return fires the trigger (its value becomes the asset event's payload).
    """
    return parse_landed(message.value())
