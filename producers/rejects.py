"""Per-record rejects: where, which field, why — written to a file and counted."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class RejectThresholdExceeded(RuntimeError):
    """More rejects than the run allows: the input is probably not what the config says."""


@dataclass(frozen=True)
class Reject:
    position: str
    field: str | None
    reason: str
    raw: str | None = None

    def __str__(self) -> str:
        where = f"{self.position}: {self.field}" if self.field else self.position
        return f"{where}: {self.reason}"


class RejectLog:
    """Collects one source's rejects into ``<dir>/<source>.rejects.txt`` (one per line)."""

    def __init__(self, directory: Path, source_name: str, limit: int | None = None):
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{source_name}.rejects.txt"
        self.limit = limit
        self.rejects: list[Reject] = []
        self._handle = self.path.open("w", encoding="utf-8")

    def add(self, reject: Reject) -> None:
        self.rejects.append(reject)
        raw = f"\t| {reject.raw.strip()[:500]}" if reject.raw else ""
        self._handle.write(f"{reject}{raw}\n")
        if self.limit is not None and len(self.rejects) > self.limit:
            self.close()
            raise RejectThresholdExceeded(
                f"more than {self.limit} rejects ({len(self.rejects)}); see {self.path}"
            )

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()

    def __len__(self) -> int:
        return len(self.rejects)
