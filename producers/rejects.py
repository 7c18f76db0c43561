"""Per-record rejects and skips: where, which field, why, and the record as read.

One JSON object a line in ``<dir>/<source>.rejects.jsonl``, so a person can grep
it and a program can load it: ``file`` + ``line`` (or ``url`` + ``page`` +
``index``), ``field``, ``reason``, ``outcome`` (``rejected`` or ``skipped``)
and ``raw``, the record's text exactly as read (quoting kept; a byte not valid
in the file's encoding shows as ``\\xff``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from producers.sources.base import Position

RAW_LIMIT = 1024 * 1024  # characters of a huge record kept in the file; its full length is noted


class RejectThresholdExceeded(RuntimeError):
    """More rejects than the run allows: the input is probably not what the config says."""


@dataclass(frozen=True)
class Reject:
    position: Position
    field: str | None
    reason: str
    raw: str | None = None
    outcome: Literal["rejected", "skipped"] = "rejected"

    def __str__(self) -> str:
        where = f"{self.position}: {self.field}" if self.field else str(self.position)
        return f"{where}: {self.reason}"

    def as_json(self) -> dict:
        entry = {**self.position.as_dict(), "field": self.field, "reason": self.reason, "outcome": self.outcome,
                 "raw": self.raw}
        if self.raw is not None and len(self.raw) > RAW_LIMIT:
            entry["raw"] = self.raw[:RAW_LIMIT]
            entry["raw_length"] = len(self.raw)
        return entry


class RejectLog:
    """Writes one source's rejects and skips, counts them, and enforces ``--max-rejects``."""

    def __init__(self, directory: Path, source_name: str, limit: int | None = None, keep: int = 5):
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{source_name}.rejects.jsonl"
        self.limit = limit
        self.rejected = 0
        self.skipped = 0
        self.first: list[Reject] = []
        self._keep = keep
        self._handle = self.path.open("w", encoding="utf-8")

    def add(self, entry: Reject) -> None:
        self._handle.write(json.dumps(entry.as_json(), ensure_ascii=False) + "\n")
        if entry.outcome == "skipped":
            self.skipped += 1
            return
        self.rejected += 1
        if len(self.first) < self._keep:
            self.first.append(entry)

    def check_limit(self) -> None:
        """Raises RejectThresholdExceeded once there are more rejects than ``--max-rejects`` allows."""
        if self.limit is not None and self.rejected > self.limit:
            self.close()
            raise RejectThresholdExceeded(f"more than {self.limit} rejects ({self.rejected}); see {self.path}")

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()


def load_rejects(path: Path) -> list[dict]:
    """A rejects file's entries, in the order they were written."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]
