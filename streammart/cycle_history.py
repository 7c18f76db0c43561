"""What the last dbt cycles did, and how fresh each mart is because of them.

Every cycle, wherever it ran (Airflow task, command line), appends its result
as one JSON line to ``<home>/dbt/cycles.jsonl``; the file keeps the latest
:data:`KEPT` cycles. The stack's status, its ``/metrics`` and the dashboard's
pipeline page read it, so they agree on what "the last cycle" was.

A mart's freshness is the time since the end of the last cycle that left it
current: a cycle that looked at every source and succeeded (it built the mart,
or nothing upstream had new rows), or any cycle that built the mart. A partial
cycle (an explicit selection, or the event-driven build of the tables that just
landed) vouches only for the marts it built.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

KEPT = 500
FAILED = "failed"
PARTIAL_MODES = frozenset({"select", "landed"})


@dataclass(frozen=True)
class CycleRecord:
    """One cycle as the pipeline page and the metrics show it."""

    started_at: datetime
    seconds: float
    status: str
    mode: str
    models_built: list[str]
    models_failed: list[str]
    tests_passed: int
    tests_failed: int
    errors: list[str]

    @property
    def ended_at(self) -> datetime:
        return self.started_at + timedelta(seconds=self.seconds)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CycleRecord":
        return cls(datetime.fromisoformat(data["started_at"]), float(data.get("seconds", 0)), data["status"],
                   data.get("mode", ""), list(data.get("models_built", [])), list(data.get("models_failed", [])),
                   int(data.get("tests_passed", 0)), int(data.get("tests_failed", 0)), list(data.get("errors", [])))


def append_cycle(history: Path, result: dict[str, Any]) -> None:
    """Add one cycle (the caller holds the cycle lock, so writers never interleave); keep the latest KEPT."""
    history.parent.mkdir(parents=True, exist_ok=True)
    lines = history.read_text().splitlines()[-(KEPT - 1):] if history.is_file() else []
    lines.append(json.dumps(result, default=str))
    partial = history.with_name(f".{history.name}.partial")
    partial.write_text("\n".join(lines) + "\n")
    os.replace(partial, history)


def recent_cycles(history: Path, limit: int = KEPT) -> list[CycleRecord]:
    """The latest ``limit`` cycles, newest first; lines that do not parse are passed over."""
    if not history.is_file():
        return []
    records = []
    for line in reversed(history.read_text().splitlines()):
        try:
            records.append(CycleRecord.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            continue
        if len(records) == limit:
            break
    return records


def mart_freshness(cycles: list[CycleRecord], marts: list[str], now: datetime | None = None) -> dict[str, float | None]:
    """Seconds since each mart was last left current (None: no cycle ever did)."""
    now = now or datetime.now(timezone.utc)
    freshness: dict[str, float | None] = {}
    for mart in marts:
        current = [c.ended_at for c in cycles
                   if mart in c.models_built or (c.status != FAILED and c.mode not in PARTIAL_MODES)]
        freshness[mart] = (now - max(current)).total_seconds() if current else None
    return freshness


def marts_of(manifest: Path) -> list[str]:
    """The models under ``models/marts/`` in a dbt manifest, by name."""
    if not manifest.is_file():
        return []
    nodes = json.loads(manifest.read_text()).get("nodes", {})
    return sorted(n["name"] for n in nodes.values()
                  if n.get("resource_type") == "model" and n.get("path", "").startswith("marts/"))
