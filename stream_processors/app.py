"""The Faust app: one landing agent per configured topic.

Each agent takes up to ``batch_size`` events (or what arrived within
``batch_seconds``), decodes them and lands them in one Postgres transaction.
Faust acknowledges the events only after that, so Kafka offsets are committed
only for landed data; anything redelivered is skipped by the raw table's
uniqueness on (topic, partition, offset).
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import faust
from faust.types import TP
import psycopg
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from schemas.registry import SchemaRegistry, load_registry
from stream_processors.control import SIGNAL_INTERVAL, LandedSignal
from stream_processors.dead_letters import dlq_message
from stream_processors.decoding import DeadLetter, LandingTarget, decode_row
from stream_processors.landing import Batch, LandResult, committed_offsets, land_batch
from stream_processors.positions import PartitionCursor, postgres_positioned_consumer
from stream_processors.refetch import FetchedMessage, refetch
from stream_processors.raw_tables import RawTable
from streammart.contract import CONTROL_TOPIC, DEAD_LETTERS_TABLE, LANDING_GROUP, dead_letter_topic, qualified
from streammart.pipeline import PipelineConfig
from streammart.settings import Settings, kafka_client_config

log = logging.getLogger("stream_processors")
APP_ID = LANDING_GROUP


@dataclass
class ProcessorOptions:
    batch_size: int = 2000
    batch_seconds: float = 0.5
    app_id: str = APP_ID


@dataclass
class LandingStats:
    landed: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    batches: int = 0
    started: float = field(default_factory=time.monotonic)

    def add(self, result: LandResult) -> None:
        self.landed += result.landed
        self.duplicates += result.duplicates
        self.dead_letters += result.dead_letters
        self.batches += 1


def worker_client_id(app_id: str) -> str:
    """Kafka client id naming this process, so a readiness check can find its membership."""
    return f"{app_id}-{socket.gethostname()}-{os.getpid()}"


def landing_targets(pipeline: PipelineConfig) -> dict[str, LandingTarget]:
    return {
        topic: LandingTarget(topic, RawTable.for_schema(source.raw_table, source.schema), source.schema.domain,
                             source.schema.entity, source.event_time, ZoneInfo(source.timezone))
        for topic, source in pipeline.topics().items()
    }


class LandingAgent:
    """Consumes one topic; owns one Postgres connection, reopened after failures."""

    def __init__(self, app: faust.App, target: LandingTarget, registry: SchemaRegistry, conninfo: str,
                 client_config: dict[str, str], options: ProcessorOptions, stats: LandingStats,
                 landed: LandedSignal):
        self.app = app
        self.target = target
        self.registry = registry
        self.conninfo = conninfo
        self.client_config = client_config
        self.options = options
        self.stats = stats
        self.landed = landed
        self.dlq = app.topic(dead_letter_topic(target.topic), key_serializer="raw", value_serializer="raw")
        self._conn: psycopg.AsyncConnection | None = None
        self.cursors: dict[TP, PartitionCursor] = {}

    async def _cursor(self, tp: TP) -> PartitionCursor:
        if tp not in self.cursors:
            async for attempt in self._until_postgres_answers("reading landed offsets"):
                with attempt:
                    known = await committed_offsets(await self._connection(), [self.target.topic])
            for (topic, partition), offset in known.items():
                self.cursors.setdefault(TP(topic, partition), PartitionCursor(offset))
        if tp not in self.cursors:  # nothing of it landed yet: it starts at the oldest offset Kafka holds
            self.cursors[tp] = PartitionCursor((await self.app.consumer.earliest_offsets(tp)).get(tp, 0))
        return self.cursors[tp]

    def forget_offsets(self) -> None:
        """Ask Postgres again: after a rebalance (another worker may have landed more) and after a crash."""
        self.cursors.clear()

    async def decode(self, events) -> Batch:
        """The take as a batch, in offset order per partition with no offset missing.

        Messages Postgres has already are dropped; when the consumer is past
        offsets that never landed, they are read again and join this batch.
        """
        batch = Batch()
        for event in events:
            message = event.message
            tp = TP(message.topic, message.partition)
            cursor = await self._cursor(tp)
            if cursor.landed_already(message.offset):
                continue
            gap = cursor.gap_before(message.offset)
            if gap:
                for missing in await self._refetch(tp, gap):
                    self._add(batch, missing)
            self._add(batch, message)
            cursor.advance_past(message.offset)
        return batch

    def _add(self, batch: Batch, message: Any) -> None:
        batch.track(message.topic, message.partition, message.offset)
        row = decode_row(message, self.target, self.registry)
        if isinstance(row, DeadLetter):
            batch.dead_letters.append(row)
        else:
            batch.add_row(self.target.table.name, row, message)

    async def _refetch(self, tp: TP, gap: range) -> list[FetchedMessage]:
        log.warning("%s: offsets %d..%d were consumed but never landed: reading them again", tp, gap.start,
                    gap.stop - 1)
        messages = await asyncio.to_thread(refetch, self.client_config, tp.topic, tp.partition, gap.start,
                                           gap.stop)
        if len(messages) < len(gap):
            log.error("%s: %d of offsets %d..%d are no longer in Kafka (retention, compaction or transaction "
                      "markers): nothing to land for them", tp, len(gap) - len(messages), gap.start, gap.stop - 1)
        return messages

    async def _connection(self) -> psycopg.AsyncConnection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        return self._conn

    async def land(self, batch: Batch) -> LandResult:
        """Land, retrying until Postgres takes the batch.

        Faust acknowledges a take's events even when the agent raises, so giving
        up here would let Kafka offsets move past data that never landed: the
        agent waits out Postgres restarts and outages instead, saying so in the log.
        """
        tables = {self.target.table.name: self.target.table}
        async for attempt in self._until_postgres_answers("landing"):
            with attempt:
                return await land_batch(await self._connection(), tables, batch)
        raise AssertionError("unreachable")

    def _until_postgres_answers(self, what: str) -> AsyncRetrying:
        """Retries forever on Postgres errors, on a fresh connection each time, logging each failure."""
        async def reconnect_later(state: RetryCallState) -> None:
            log.warning("%s: %s failed (%s), attempt %d, retrying in %.1f s", self.target.topic, what,
                        state.outcome.exception(), state.attempt_number, state.next_action.sleep)
            await self.close_connection()

        return AsyncRetrying(retry=retry_if_exception_type(psycopg.Error),
                             wait=wait_exponential(multiplier=0.2, max=10), before_sleep=reconnect_later)

    async def close_connection(self) -> None:
        """Drop the Postgres connection (broken, or no longer needed); the next use opens a new one."""
        if self._conn is not None and not self._conn.closed:
            await self._conn.close()
        self._conn = None

    async def publish_dead_letters(self, letters: list[DeadLetter]) -> None:
        """Copy each letter to the DLQ topic on its own: one that cannot be sent does not stop the others."""
        limit = self.app.conf.producer_max_request_size
        for letter in letters:
            log.warning("dead letter %s[%d]@%d (%s): %s", letter.topic, letter.partition, letter.offset,
                        letter.stage, letter.error)
            key, value, headers = dlq_message(letter, limit)
            try:
                await self.dlq.send(key=key, value=value, headers=headers)
            except Exception as exc:  # noqa: BLE001 - whatever the producer raised, the letter is in Postgres
                log.error("dead letter %s[%d]@%d: could not copy it to %s (%s); it is recorded in %s",
                          letter.topic, letter.partition, letter.offset, self.dlq.get_topic_name(), exc,
                          qualified(DEAD_LETTERS_TABLE))

    async def __call__(self, stream) -> None:
        # A restarted agent's cursors may count a take that crashed before landing.
        self.forget_offsets()
        async for events in stream.take_events(self.options.batch_size, within=self.options.batch_seconds):
            batch = await self.decode(events)
            if not len(batch):
                continue
            result = await self.land(batch)
            await self.publish_dead_letters(result.letters)
            self.stats.add(result)
            self.landed.add(self.target.table.name, result.landed)
            log.debug("%s: landed %d, skipped %d already landed, %d dead letters", self.target.topic,
                      result.landed, result.duplicates, result.dead_letters)


def build_app(pipeline: PipelineConfig, settings: Settings, options: ProcessorOptions | None = None) -> faust.App:
    options = options or ProcessorOptions()
    datadir = settings.home / "processors" / options.app_id
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        options.app_id,
        broker=f"kafka://{settings.bootstrap_servers}",
        store="memory://",
        web_enabled=False,
        topic_partitions=settings.kafka_partitions,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        # A crashed worker's partitions move to the others after this long, not Faust's 60 s.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        broker_client_id=worker_client_id(options.app_id),
        datadir=str(datadir),
    )
    registry = load_registry()
    conninfo = settings.conninfo("ingest")
    client_config = kafka_client_config(settings)
    targets = landing_targets(pipeline)

    async def landed_positions(topics: list[str]):
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            return await committed_offsets(conn, topics)

    app.transport.Consumer = postgres_positioned_consumer(landed_positions, targets)
    stats = LandingStats()
    landed = LandedSignal()
    control = app.topic(CONTROL_TOPIC, key_serializer="raw", value_serializer="raw", partitions=1)
    agents = []
    for topic, target in targets.items():
        channel = app.topic(topic, key_serializer="raw", value_serializer="raw")
        agent = LandingAgent(app, target, registry, conninfo, client_config, options, stats, landed)
        app.agent(channel, name=f"land_{target.table.name}")(agent.__call__)
        agents.append(agent)

    @app.on_partitions_assigned.connect
    async def reload_offsets(app: faust.App, assigned, **_) -> None:
        for agent in agents:
            agent.forget_offsets()

    @app.timer(interval=SIGNAL_INTERVAL)
    async def signal_landed() -> None:
        message = landed.take()
        if message is not None:
            await control.send(key=b"landed", value=message)

    @app.timer(interval=10.0)
    async def report() -> None:
        elapsed = time.monotonic() - stats.started
        log.info("landed %d rows in %d batches (%.0f rows/s since start), %d redelivered skipped, %d dead letters",
                 stats.landed, stats.batches, stats.landed / elapsed if elapsed else 0, stats.duplicates,
                 stats.dead_letters)

    return app
