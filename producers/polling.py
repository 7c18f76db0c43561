"""Incremental polls of an HTTP API: publish only what changed since the last poll.

A source with ``incremental: {param, field}`` is asked for records whose ``field`` is at
or after its cursor (``?updated_since=<cursor>``). The cursor is the newest ``field``
value published so far plus the event ids published at exactly that instant: an API
filtering with "at or after" sends those again, and they are skipped (counted and
written as skipped) instead of published twice, while a new record sharing that
instant is published.

The cursor lives in ``<state_dir>/<source>.cursor.json``, written atomically (temporary
file, fsync, rename) only after Kafka acknowledged every event of the poll. A poll that
fails or is killed leaves the previous cursor, so the next one asks again from there:
nothing is lost, and a restart between polls (of the poller, Airflow or the whole
stack) repeats nothing.

A backfill (``since``/``until``) republishes a window of the API's history and leaves
the cursor alone.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from producers.publisher import Publisher, Sink
from producers.replay import ReplaySummary, SourceReplay
from streammart.pipeline import DEFAULT_CONFIG, PipelineConfig, SourceConfig, load_pipeline
from streammart.settings import Settings, get_settings, kafka_client_config
from streammart.topics import ensure_topics


@dataclass(frozen=True)
class Cursor:
    """The newest ``field`` value published (None before the first poll) and the events published at it."""

    at: datetime | None = None
    event_ids: frozenset[str] = frozenset()

    def as_json(self) -> dict:
        return {"at": self.at.isoformat() if self.at else None, "event_ids": sorted(self.event_ids)}

    @classmethod
    def from_json(cls, data: dict) -> "Cursor":
        at = datetime.fromisoformat(data["at"]) if data.get("at") else None
        return cls(at, frozenset(data.get("event_ids", [])))


def parse_instant(value: str | None) -> datetime | None:
    """A backfill bound as given on a command line or in DAG params: ISO 8601, UTC without an offset."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def cursor_path(state_dir: Path, source: str) -> Path:
    return state_dir / f"{source}.cursor.json"


def load_cursor(state_dir: Path, source: str) -> Cursor:
    path = cursor_path(state_dir, source)
    return Cursor.from_json(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else Cursor()


def save_cursor(state_dir: Path, source: str, cursor: Cursor) -> None:
    """Replace the cursor file atomically: a crash leaves the old cursor or the new one, never half of one."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = cursor_path(state_dir, source)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(cursor.as_json(), handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(state_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@dataclass
class Window:
    """Which records of a poll's answer to publish, and the cursor they lead to.

    Incremental (``until`` None): skip what the cursor says was published. Backfill: publish
    what lies in [since, until), whatever the cursor.
    """

    field: str
    cursor: Cursor
    since: datetime | None = None
    until: datetime | None = None
    newest: datetime | None = None
    newest_ids: set[str] = field(default_factory=set)

    @property
    def backfill(self) -> bool:
        return self.until is not None

    def skip_reason(self, record: dict, event_id: str) -> str | None:
        moment = record[self.field]
        if moment is None:
            return None  # nothing to place it by: published, the cursor does not move for it
        if self.backfill:
            if moment >= self.until:
                return f"{self.field} {moment.isoformat()} is at or after the backfill window's end"
            if self.since is not None and moment < self.since:
                return f"{self.field} {moment.isoformat()} is before the backfill window"
        elif self.cursor.at is not None:
            if moment < self.cursor.at:
                return f"{self.field} {moment.isoformat()} is older than the cursor {self.cursor.at.isoformat()}"
            if moment == self.cursor.at and event_id in self.cursor.event_ids:
                return "published by an earlier poll (same event id)"
        self._published(moment, event_id)
        return None

    def _published(self, moment: datetime, event_id: str) -> None:
        if self.newest is None or moment > self.newest:
            self.newest, self.newest_ids = moment, set()
        if moment == self.newest:
            self.newest_ids.add(event_id)

    def next_cursor(self) -> Cursor:
        """The cursor after this poll published what it chose to."""
        before = self.cursor
        if self.newest is None or (before.at is not None and self.newest < before.at):
            return before
        if before.at is not None and self.newest == before.at:
            return Cursor(before.at, before.event_ids | self.newest_ids)
        return Cursor(self.newest, frozenset(self.newest_ids))


@dataclass
class PollResult:
    schema_name: str
    summary: ReplaySummary
    cursor_before: Cursor
    cursor_after: Cursor
    saved: bool


def poll_source(config: SourceConfig, sink: Sink, rejects_dir: Path, state_dir: Path,
                since: datetime | None = None, until: datetime | None = None) -> PollResult:
    """One poll (or, with ``until``, a backfill of [since, until)) of an incremental HTTP source."""
    if config.incremental is None:
        raise ValueError(f"source {config.name!r} has no `incremental` settings: it cannot be polled")
    if (since is None) != (until is None):
        raise ValueError("a backfill needs both ends of its window (since and until)")
    cursor = load_cursor(state_dir, config.name)
    window = Window(config.incremental.field, cursor, since, until)
    start = since if window.backfill else cursor.at
    asked = config
    if start is not None:
        params = {**config.pagination.params, config.incremental.param: start.isoformat()}
        asked = config.model_copy(update={"pagination": config.pagination.model_copy(update={"params": params})})
    summary = SourceReplay(asked, sink, rejects_dir, skip_if=window.skip_reason).run()
    delivered = summary.failure is None and summary.accounted and not summary.undelivered
    after = window.next_cursor()
    saved = delivered and not window.backfill and after != cursor
    if saved:
        save_cursor(state_dir, config.name, after)
    return PollResult(config.schema_name, summary, cursor, after if saved else cursor, saved)


def state_dir_of(settings: Settings) -> Path:
    """Where the cursors live: under the stack's home, which outlives Airflow and stack restarts."""
    return settings.home / "poll-state"


def incremental_sources(pipeline: PipelineConfig, names: list[str] | None = None) -> list[SourceConfig]:
    """The named sources (default: every source with ``incremental``); a named one without it is an error."""
    chosen = [pipeline.source(n) for n in names] if names else [s for s in pipeline.sources if s.incremental]
    plain = [s.name for s in chosen if s.incremental is None]
    if plain:
        raise ValueError(f"no `incremental` settings, cannot be polled: {', '.join(plain)}")
    return chosen


def poll_configured(names: list[str] | None = None, since: datetime | None = None, until: datetime | None = None,
                    config_path: Path = DEFAULT_CONFIG, rejects_dir: Path | None = None) -> list[PollResult]:
    """Poll the pipeline's incremental sources into Kafka, as `producers poll` and the polling DAG do."""
    settings = get_settings()
    sources = incremental_sources(load_pipeline(config_path), names)
    client_config = kafka_client_config(settings)
    ensure_topics(client_config, [s.topic for s in sources], settings.kafka_partitions)
    sink = Publisher(client_config)
    rejects = rejects_dir or settings.home / "poll-rejects"
    return [poll_source(source, sink, rejects, state_dir_of(settings), since, until) for source in sources]
