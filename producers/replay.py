"""The produce loop: read → validate → encode → key → publish, one source at a time."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastavro.validation import ValidationError as AvroValidationError

from producers import events
from producers.parsing import FieldError, RecordParser
from producers.publisher import Publisher
from producers.pacing import make_pacer
from producers.rejects import Reject, RejectLog
from producers.sources import RawRecord, open_source
from schemas.wire import encode
from streammart.pipeline import SourceConfig


@dataclass
class ReplaySummary:
    source: str
    topic: str
    read: int = 0
    produced: int = 0
    rejected: int = 0
    elapsed: float = 0.0
    rejects_file: Path | None = None
    first_rejects: list[Reject] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.produced / self.elapsed if self.elapsed > 0 else 0.0


class SourceReplay:
    """Replays one configured source into its topic."""

    def __init__(self, config: SourceConfig, publisher: Publisher, rejects_dir: Path,
                 max_rejects: int | None = None, rate: float | None = None, speed: float | None = None):
        self.config = config
        self.publisher = publisher
        self.parser = RecordParser(config.schema, config.date_formats, config.columns)
        self.rejects = RejectLog(rejects_dir, config.name, limit=max_rejects)
        self.pacer = make_pacer(rate, speed)
        self.source = open_source(config)
        self.summary = ReplaySummary(config.name, config.topic, rejects_file=self.rejects.path)

    def total_hint(self) -> int | None:
        return self.source.total_hint()

    def _reject(self, raw: RawRecord, field: str | None, reason: str) -> None:
        self.rejects.add(Reject(raw.position, field, reason, raw.raw))

    def _publish(self, raw: RawRecord) -> dict | None:
        """The record as published, or None when it became a reject."""
        if raw.error:
            self._reject(raw, None, raw.error)
            return None
        try:
            record = self.parser.parse(raw.data)
            value = encode(self.config.schema, record)
        except FieldError as exc:
            self._reject(raw, exc.field, exc.reason)
            return None
        except (AvroValidationError, ValueError, TypeError, OverflowError) as exc:
            self._reject(raw, None, f"does not fit {self.config.schema.name}: {exc}")
            return None
        key = events.natural_key(record, self.config.key)
        event = events.event_id(self.config.name, key, record)
        self.publisher.publish(self.config.topic, key.encode(), value,
                               events.headers(self.config.name, raw.position, event))
        return record

    def run(self, on_record: Callable[[], None] = lambda: None) -> ReplaySummary:
        """Replay the whole source; ``self.summary`` is complete even when this raises."""
        summary = self.summary
        delivered_before = self.publisher.delivered
        start = time.monotonic()
        try:
            for raw in self.source.records():
                summary.read += 1
                record = self._publish(raw)
                if record is not None:
                    self.pacer.wait(record.get(self.config.event_time) if self.config.event_time else None)
                on_record()
        finally:
            self.rejects.close()
            self.publisher.flush()
            summary.elapsed = time.monotonic() - start
            summary.produced = self.publisher.delivered - delivered_before
            summary.rejected = len(self.rejects)
            summary.first_rejects = self.rejects.rejects[:5]
        return summary
