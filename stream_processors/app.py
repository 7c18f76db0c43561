"""The Faust app: whole Kafka batches decoded and landed, one Postgres transaction each.

Faust runs the worker (lifecycle, CLI, timers, the producer for dead letters and
the control topic); events reach landing through :class:`LandingService`, a
Faust service around a confluent-kafka consumer (see ``batches``) that hands
over up to ``batch_size`` messages at a time, with no per-event machinery in
between. Each batch lands with the next offset of its partitions in one
transaction, so Postgres alone says how far landing got; anything read again
is skipped by the raw table's uniqueness on (topic, partition, offset).
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from dataclasses import dataclass, field

import faust
import psycopg
from confluent_kafka import Message
from faust.app.base import BootStrategy
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from schemas.registry import SchemaRegistry, load_registry
from stream_processors.batches import KafkaBatches
from stream_processors.broker_login import faust_credentials
from stream_processors.control import SIGNAL_INTERVAL, LandedSignal
from stream_processors.dead_letters import dlq_message
from stream_processors.metrics import WorkerMetrics
from stream_processors.decoding import DeadLetter, LandingTarget, RowDecoder
from stream_processors.landing import Batch, LandResult, land_batch
from stream_processors.raw_tables import RawTable
from streammart.contract import CONTROL_TOPIC, DEAD_LETTERS_TABLE, LANDING_GROUP, dead_letter_topic, qualified
from streammart.pipeline import PipelineConfig
from streammart.settings import Settings, kafka_client_config

log = logging.getLogger("stream_processors")
APP_ID = LANDING_GROUP
#: Seconds between two readings of the consumer lag for the metrics.
LAG_INTERVAL = 5.0

#: Seconds after which a crashed worker's partitions move to the others.
SESSION_TIMEOUT = 10.0


@dataclass
class ProcessorOptions:
    batch_size: int = 2000
    batch_seconds: float = 0.5
    app_id: str = APP_ID
    metrics: WorkerMetrics | None = None


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
        topic: LandingTarget(topic, RawTable.for_schema(source.raw_table, source.schema, source.key),
                             source.schema.domain, source.schema.entity, source.event_time,
                             source.zone)
        for topic, source in pipeline.topics().items()
    }


class Lander:
    """Decodes a batch of any landing topics and lands it; owns one Postgres connection, reopened after failures."""

    def __init__(self, app: faust.App, targets: dict[str, LandingTarget], registry: SchemaRegistry, conninfo: str,
                 stats: LandingStats, landed: LandedSignal):
        self.app = app
        self.targets = targets
        self.tables = {t.table.name: t.table for t in targets.values()}
        self.decoders = {topic: RowDecoder(target, registry) for topic, target in targets.items()}
        self.conninfo = conninfo
        self.stats = stats
        self.landed = landed
        self.dead_letter_topics = {topic: app.topic(dead_letter_topic(topic), key_serializer="raw",
                                                    value_serializer="raw") for topic in targets}
        self._conn: psycopg.AsyncConnection | None = None

    def decode(self, messages: list[Message], owned: frozenset[tuple[str, int]]) -> Batch:
        """The messages of ``owned`` partitions as rows (or dead letters) by raw table, with each partition's next offset.

        One pass, each message's accessors called once: on two cores busy with two
        workers, Kafka and Postgres, every microsecond per event is throughput.
        A partition revoked since the batch was read resumes elsewhere, from
        Postgres: nothing of it is kept here.
        """
        batch = Batch()
        dropped = 0
        for message in messages:
            topic, partition, offset = message.topic(), message.partition(), message.offset()
            if (topic, partition) not in owned:
                dropped += 1
                continue
            batch.track(topic, partition, offset)
            row = self.decoders[topic].decode_at(message, topic, partition, offset)
            if isinstance(row, DeadLetter):
                batch.dead_letters.append(row)
            else:
                batch.add_row(self.targets[topic].table.name, row, message)
        if dropped:
            log.info("dropped %d message(s) of partitions revoked since they were read", dropped)
        return batch

    async def _connection(self) -> psycopg.AsyncConnection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        return self._conn

    async def land(self, batch: Batch) -> LandResult:
        """Land, retrying until Postgres takes the batch: the consumer waits meanwhile, so nothing is passed over.

        Postgres restarts and outages are waited out (said in the log) rather than
        answered by dropping the batch.
        """
        async for attempt in self._until_postgres_answers("landing"):
            with attempt:
                result = await land_batch(await self._connection(), self.tables, batch)
        await self.publish_dead_letters(result.letters)
        self.stats.add(result)
        for name, rows in result.by_table.items():
            self.landed.add(name, rows)
        return result

    def _until_postgres_answers(self, what: str) -> AsyncRetrying:
        """Retries forever on Postgres errors, on a fresh connection each time, logging each failure."""
        async def reconnect_later(state: RetryCallState) -> None:
            log.warning("%s failed (%s), attempt %d, retrying in %.1f s", what, state.outcome.exception(),
                        state.attempt_number, state.next_action.sleep)
            await self.close_connection()

        return AsyncRetrying(retry=retry_if_exception_type(psycopg.Error),
                             wait=wait_exponential(multiplier=0.2, max=10), before_sleep=reconnect_later)

    async def close_connection(self) -> None:
        """Drop the Postgres connection (broken, or no longer needed); the next use opens a new one."""
        if self._conn is not None and not self._conn.closed:
            await self._conn.close()
        self._conn = None

    async def publish_dead_letters(self, letters: list[DeadLetter]) -> None:
        """Copy each letter to its DLQ topic on its own: one that cannot be sent does not stop the others."""
        limit = self.app.conf.producer_max_request_size
        for letter in letters:
            log.warning("dead letter %s[%d]@%d (%s): %s", letter.topic, letter.partition, letter.offset,
                        letter.stage, letter.error)
            key, value, headers = dlq_message(letter, limit)
            dlq = self.dead_letter_topics[letter.topic]
            try:
                await dlq.send(key=key, value=value, headers=headers)
            except Exception as exc:  # noqa: BLE001 - whatever the producer raised, the letter is in Postgres
                log.error("dead letter %s[%d]@%d: could not copy it to %s (%s); it is recorded in %s",
                          letter.topic, letter.partition, letter.offset, dlq.get_topic_name(), exc,
                          qualified(DEAD_LETTERS_TABLE))


class LandingService(faust.Service):
    """The landing loop: a batch from Kafka, decoded, landed, committed for lag; then the next.

    The next batch is asked for only once the last one landed, so the consumer's
    position never runs ahead of Postgres by more than the batch in hand. A batch
    that fails for another reason than Postgres (a bug, say) is not skipped: the
    consumer goes back to the Postgres positions and reads it again.
    """

    def __init__(self, source: KafkaBatches, lander: Lander, options: ProcessorOptions, **kwargs):
        super().__init__(**kwargs)
        self.source = source
        self.lander = lander
        self.options = options
        self._done = asyncio.Event()

    async def on_start(self) -> None:
        await self.source.start()
        self.add_future(self._run())

    async def _run(self) -> None:
        try:
            while not self.should_stop:
                messages = await self.source.next_batch(self.options.batch_size, self.options.batch_seconds)
                if messages:
                    await self.land(messages)
        finally:
            self._done.set()

    async def land(self, messages: list[Message]) -> None:
        try:
            started = time.perf_counter()
            batch = self.lander.decode(messages, self.source.owned)
            if not len(batch):
                return
            result = await self.lander.land(batch)
            await self.source.commit(batch.next_offsets)
            if self.options.metrics is not None:
                self.options.metrics.record(result, time.perf_counter() - started)
            log.debug("landed %d, skipped %d already landed, %d dead letters", result.landed, result.duplicates,
                      result.dead_letters)
        except Exception:  # noqa: BLE001 - whatever broke, the batch must be read again, never skipped
            log.exception("a batch of %d message(s) failed; reading again from the positions in Postgres",
                          len(messages))
            await self.source.rewind()

    async def on_stop(self) -> None:
        """Finish the batch in hand, then leave the group (the loop checks ``should_stop`` between batches)."""
        await self._done.wait()
        await self.source.close()
        await self.lander.close_connection()


class WorkerBoot(BootStrategy):
    """Faust's services minus its own consumer: the landing service is the worker's one Kafka consumer."""

    enable_kafka_consumer = False


class LandingApp(faust.App):
    BootStrategy = WorkerBoot


def build_app(pipeline: PipelineConfig, settings: Settings, options: ProcessorOptions | None = None) -> faust.App:
    options = options or ProcessorOptions()
    datadir = settings.home / "processors" / options.app_id
    datadir.mkdir(parents=True, exist_ok=True)
    app = LandingApp(
        options.app_id,
        broker=f"kafka://{settings.bootstrap_servers}",
        broker_credentials=faust_credentials(kafka_client_config(settings)),
        store="memory://",
        web_enabled=False,
        topic_partitions=settings.kafka_partitions,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        broker_client_id=worker_client_id(options.app_id),
        datadir=str(datadir),
    )
    registry = load_registry()
    conninfo = settings.conninfo("ingest")
    targets = landing_targets(pipeline)
    stats = LandingStats()
    landed = LandedSignal()
    control = app.topic(CONTROL_TOPIC, key_serializer="raw", value_serializer="raw", partitions=1)
    source = KafkaBatches(kafka_client_config(settings), options.app_id, worker_client_id(options.app_id), targets,
                          conninfo, session_timeout=SESSION_TIMEOUT)
    app.service(LandingService(source, Lander(app, targets, registry, conninfo, stats, landed), options))

    @app.timer(interval=SIGNAL_INTERVAL)
    async def signal_landed() -> None:
        message = landed.take()
        if message is not None:
            await control.send(key=b"landed", value=message)

    if options.metrics is not None:
        @app.timer(interval=LAG_INTERVAL)
        async def measure() -> None:
            options.metrics.set_lag(source.lag())
            options.metrics.update_rates()

    @app.timer(interval=10.0)
    async def report() -> None:
        elapsed = time.monotonic() - stats.started
        log.info("landed %d rows in %d batches (%.0f rows/s since start), %d redelivered skipped, %d dead letters",
                 stats.landed, stats.batches, stats.landed / elapsed if elapsed else 0, stats.duplicates,
                 stats.dead_letters)

    return app
