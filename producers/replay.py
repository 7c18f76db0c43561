"""The produce loop: read → validate → encode → key → publish, one source at a time.

Every record read ends in exactly one of three counts — produced, rejected,
skipped — and every reject or skip is written down with its position, field and
reason. A source fails (and the run exits non-zero) when its input is broken
as a whole, when every record was rejected, when it passes ``--max-rejects``,
or when Kafka did not take its events.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from fastavro.validation import ValidationError as AvroValidationError

from producers import events
from producers.encoding import EventEncoder
from producers.pacing import Pacer, RatePacer
from producers.parsing import FieldError, RecordParser
from producers.publisher import DeliveryError, RecordTooLarge, Sink
from producers.rejects import Reject, RejectLog, RejectThresholdExceeded
from producers.sources import RawRecord, Source, SourceReadError, open_source
from streammart.contract import event_time_value
from streammart.pipeline import SourceConfig

#: ``skip_if(record, event_id)``: why a valid record is not to be published (it is then
#: counted and written as skipped), or None to publish it.
SkipRule = Callable[[dict, str], str | None]
#: ``on_progress(records)`` is told how many more records were read, every this many and at the end.
PROGRESS_EVERY = 1000
#: Clean records (no reader error, nothing skipped) read, checked and encoded together, a column at a time.
RUN_SIZE = 500
#: A run that cannot go by columns is halved down to this size, then taken record by record.
SMALLEST_RUN = 8


@dataclass
class ReplaySummary:
    source: str
    topic: str
    read: int = 0
    produced: int = 0
    rejected: int = 0
    skipped: int = 0
    undelivered: int = 0
    elapsed: float = 0.0
    rejects_file: Path | None = None
    first_rejects: list[Reject] = field(default_factory=list)
    unknown_columns: dict[str, int] = field(default_factory=dict)
    unmatched_renames: list[str] = field(default_factory=list)
    failure: str | None = None

    @property
    def rate(self) -> float:
        return self.produced / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def accounted(self) -> bool:
        """read = produced + rejected + skipped (+ what Kafka did not take): nothing vanished."""
        return self.read == self.produced + self.undelivered + self.rejected + self.skipped


class SourceReplay:
    """Replays one configured source into its topic (or, with a DryRun sink, only validates it)."""

    def __init__(self, config: SourceConfig, sink: Sink, rejects_dir: Path, max_rejects: int | None = None,
                 pacer: Pacer | None = None, skip_if: SkipRule | None = None):
        self.config = config
        self.skip_if = skip_if
        self.sink = sink
        self.parser = RecordParser(config)
        self.encoder = EventEncoder(config.schema)
        self.rejects = RejectLog(rejects_dir, config.name, limit=max_rejects)
        self.pacer = pacer or RatePacer(None)
        self.summary = ReplaySummary(config.name, config.topic, rejects_file=self.rejects.path)
        self._source: Source | None = None
        self._zone = config.zone
        self._handed = 0  # events given to the sink; delivered or not, Kafka's delivery reports tell
        self._topic = config.topic  # a property that formats the name: read once, not per event
        self._headers = events.EventHeaders(config.name)
        self._paced_by_event_time = bool(config.event_time) and self.pacer.uses_event_time
        # by runs only where nothing is decided per record: no pacing, no skip rule, and no network source,
        # whose records a run would hold back while the next page is awaited
        self._by_runs = not self.pacer.waits and skip_if is None and config.format != "http"

    @property
    def source(self) -> Source:
        if self._source is None:
            self._source = open_source(self.config, self.parser.check_header)
        return self._source

    def total_hint(self) -> int | None:
        try:
            return self.source.total_hint()
        except SourceReadError:
            return None  # run() reports it

    def _reject(self, raw: RawRecord, field: str | None, reason: str) -> None:
        self.rejects.add(Reject(raw.position, field, reason, raw.raw))

    def _publish(self, raw: RawRecord) -> dict | None:
        """The record as published, or None when it became a reject."""
        if raw.error:
            self._reject(raw, raw.field, raw.error)
            return None
        try:
            record = self.parser.parse(raw.data)
            value = self.encoder.encode(record)
            key = events.natural_key(record, self.config.key).encode()
            event = events.event_id(self.config.name, key, value)
            reason = self.skip_if(record, event) if self.skip_if else None
            if reason:
                self.rejects.add(Reject(raw.position, None, reason, raw.raw, outcome="skipped"))
                return None
            self.sink.publish(self._topic, key, value, self._headers(str(raw.position), event))
            self._handed += 1
        except FieldError as exc:
            self._reject(raw, exc.field, exc.reason)
            return None
        except RecordTooLarge as exc:
            self._reject(raw, None, str(exc))
            return None
        except (AvroValidationError, ValueError, TypeError, OverflowError) as exc:
            self._reject(raw, None, f"does not fit {self.config.schema.name}: {exc}")
            return None
        return record

    def _consume(self, on_progress: Callable[[int], None]) -> None:
        unreported = 0
        try:
            for clean, records in self._runs():
                if clean:
                    self._publish_clean(records)
                else:
                    self._take(records[0])
                unreported += len(records)
                if unreported >= PROGRESS_EVERY:
                    on_progress(unreported)
                    unreported = 0
        finally:
            on_progress(unreported)

    def _runs(self) -> Iterator[tuple[bool, list[RawRecord]]]:
        """The records in their order: runs of clean ones (True), and every other record alone (False)."""
        if not self._by_runs:
            yield from ((False, [raw]) for raw in self.source.records())
            return
        run: list[RawRecord] = []
        for raw in self.source.records():
            if raw.error is None and raw.skipped is None:
                run.append(raw)
                if len(run) == RUN_SIZE:
                    yield True, run
                    run = []
                continue
            if run:
                yield True, run
                run = []
            yield False, [raw]
        if run:
            yield True, run

    def _publish_clean(self, run: list[RawRecord]) -> None:
        """A run of clean records: by columns, or halved until the records needing the record path are alone."""
        if self._publish_run(run):
            return
        if len(run) <= SMALLEST_RUN:
            for raw in run:
                self._take(raw)
            return
        middle = len(run) // 2
        self._publish_clean(run[:middle])
        self._publish_clean(run[middle:])

    def _publish_run(self, run: list[RawRecord]) -> bool:
        """Publish a run of clean records read a column at a time (``RecordParser.parse_columns``).

        The events are those ``_publish`` gives each record. False, with nothing
        published or counted, when a record is not plain: the run then goes
        record by record, so every reject gets its own field and reason.
        """
        data = [raw.data for raw in run]
        try:
            columns = self.parser.parse_columns(data)
            if columns is None:
                return False
            values = self.encoder.encode_columns(columns)
            keys = events.natural_keys(columns, self.config.key)
        except (FieldError, AvroValidationError, ValueError, TypeError, OverflowError):
            return False
        self.parser.tally(data[0], len(data))
        event_id = partial(events.event_id, self.config.name)
        for raw, key, value in zip(run, keys, values):
            try:
                self.sink.publish(self._topic, key, value, self._headers(str(raw.position), event_id(key, value)))
                self._handed += 1
            except RecordTooLarge as exc:
                self._reject(raw, None, str(exc))
                self.summary.read += 1
                self.rejects.check_limit()
                continue
            self.summary.read += 1
        return True

    def _take(self, raw: RawRecord) -> None:
        """One record read: published, rejected or skipped, and counted."""
        if raw.skipped:
            self.rejects.add(Reject(raw.position, None, raw.skipped, raw.raw, outcome="skipped"))
            record = None
        else:
            record = self._publish(raw)
        self.summary.read += 1  # counted once its outcome is recorded
        if record is None:
            self.rejects.check_limit()
        elif self._paced_by_event_time:
            self.pacer.wait(event_time_value(record[self.config.event_time], self._zone))
        else:
            self.pacer.wait(None)

    def run(self, on_progress: Callable[[int], None] = lambda records: None) -> ReplaySummary:
        """Replay the whole source; ``self.summary`` is complete even when interrupted."""
        summary = self.summary
        delivered_before = self.sink.delivered
        start = time.monotonic()
        try:
            self._consume(on_progress)
        except (SourceReadError, RejectThresholdExceeded) as exc:
            summary.failure = str(exc)
        finally:
            self.rejects.close()
            try:
                self.sink.flush()
            except DeliveryError as exc:
                summary.failure = summary.failure or str(exc)
            summary.elapsed = time.monotonic() - start
            self._tally(delivered_before)
        return summary

    def _tally(self, delivered_before: int) -> None:
        summary = self.summary
        summary.produced = self.sink.delivered - delivered_before
        summary.undelivered = self._handed - summary.produced
        summary.rejected = self.rejects.rejected
        summary.skipped = self.rejects.skipped
        summary.first_rejects = list(self.rejects.first)
        summary.unknown_columns = dict(self.parser.unknown_columns.most_common())
        summary.unmatched_renames = self.parser.unmatched_renames() if summary.read else []
        if summary.failure is None and summary.rejected and not summary.produced:
            summary.failure = f"every record was rejected ({summary.rejected}); see {summary.rejects_file}"
        if summary.failure is None and self.config.strict and summary.unmatched_renames:
            summary.failure = f"columns keys matched nothing (strict): {', '.join(summary.unmatched_renames)}"
