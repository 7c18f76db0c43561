"""Whole Kafka batches for the landing loop, from a consumer positioned by Postgres.

A confluent-kafka consumer in the worker's consumer group hands over up to
``batch_size`` messages at a time (librdkafka fetches in its own threads), so
no per-event machinery sits between Kafka and decoding. Every call to the
consumer runs on one thread of its own, in order, off the event loop.

Positions: on every assignment each partition is seeked to the next offset
Postgres recorded (see ``positions``); Kafka commits are sent after landing for
lag monitoring only. The consumer's position moves only when a batch is handed
over, and the loop lands that batch (or rewinds to Postgres) before asking for
the next, so no offset is ever passed over without landing.

Ownership: a partition revoked by a rebalance is no longer this worker's; the
rows of a batch read before the revocation must not land after it (another
worker resumes the partition from Postgres), so :attr:`KafkaBatches.owned` is
checked when the batch lands.

Assignment is ``range``, so every topic is split between the workers, whatever
each topic's traffic (a sticky assignor balances partition counts only, and
could give one worker all of the busy topic).

No gap repair is needed: no offset is ever acknowledged before it landed
(the consumer only moves on once the batch in hand landed), so a partition can only
skip offsets Kafka no longer holds, and that is reported, never guessed.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from stream_processors.positions import positions_when_postgres_answers, resume_points

log = logging.getLogger(__name__)
T = TypeVar("T")
#: Heartbeat interval as a share of the session timeout. A member hears of a rebalance
#: (a worker joining) at its next heartbeat, and the whole group waits for it meanwhile.
HEARTBEAT_SHARE = 0.1
#: Seconds a batch waits to fill when events are already queued. Without it, the last
#: events of a backlog (or a stream's events queued since the last batch) waited out
#: the whole batch timeout.
BATCH_LINGER = 0.05


class KafkaBatches:
    """The worker's consumer: group membership, Postgres-seeded positions, batches, lag commits."""

    def __init__(self, client_config: dict[str, str], group: str, client_id: str, topics: Iterable[str],
                 conninfo: str, session_timeout: float = 10.0):
        self.topics = sorted(topics)
        self.conninfo = conninfo
        self._owned: frozenset[tuple[str, int]] = frozenset()
        self._next: dict[tuple[str, int], int] = {}  # next offset expected per partition, where known
        self._landed: dict[tuple[str, int], int] = {}  # next offset to land per owned partition, where known
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafka-batches")
        self._consumer = Consumer({
            **client_config,
            "group.id": group,
            "client.id": client_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": int(session_timeout * 1000),
            "heartbeat.interval.ms": int(session_timeout * HEARTBEAT_SHARE * 1000),
            "partition.assignment.strategy": "range",
        })

    async def _call(self, function: Callable[..., T], *args) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    async def start(self) -> None:
        await self._call(self._consumer.subscribe, self.topics, self._on_assign, self._on_revoke, self._on_lost)

    @property
    def owned(self) -> frozenset[tuple[str, int]]:
        return self._owned

    async def next_batch(self, size: int, timeout: float) -> list[Message]:
        """Up to ``size`` messages (rebalances happen in here).

        When events are already queued it waits at most :data:`BATCH_LINGER` for the
        batch to fill; otherwise up to ``timeout`` seconds.
        """
        return await self._call(self._consume, size, timeout)

    def _consume(self, size: int, timeout: float) -> list[Message]:
        messages = self._consumer.consume(size, 0)
        if len(messages) < size:
            messages += self._consumer.consume(size - len(messages), min(timeout, BATCH_LINGER) if messages
                                               else timeout)
        if any(m.error() is not None for m in messages):
            for message in messages:
                error = message.error()
                if error is not None and error.fatal():
                    raise KafkaException(error)
                if error is not None:
                    log.warning("consumer: %s", error)
            messages = [m for m in messages if m.error() is None]
        self._check_contiguous(messages)
        return messages

    def _check_contiguous(self, messages: list[Message]) -> None:
        """Say so when a partition skips offsets: Kafka no longer holds them (retention), nothing can land them."""
        expected = self._next
        for message in messages:
            partition = (message.topic(), message.partition())
            offset = message.offset()
            first = expected.get(partition, offset)
            if offset > first:
                log.error("%s[%d]: offsets %d..%d are no longer in Kafka (retention or deletion): nothing to land "
                          "for them", partition[0], partition[1], first, offset - 1)
            expected[partition] = offset + 1

    async def commit(self, next_offsets: dict[tuple[str, int], int]) -> None:
        """Tell Kafka how far landing got (lag tools read it; the worker never does)."""
        offsets = [TopicPartition(t, p, o) for (t, p), o in next_offsets.items() if (t, p) in self._owned]
        self._landed.update({(tp.topic, tp.partition): tp.offset for tp in offsets})
        if offsets:
            await self._call(self._commit, offsets)

    def lag(self) -> dict[tuple[str, int], int]:
        """Per owned partition, how many events Kafka holds beyond what landed.

        Uses the watermarks librdkafka caches from its fetches (no request to the
        broker), so it is cheap enough for a timer; partitions not fetched yet are left out.
        """
        lag = {}
        for topic, partition in sorted(self._owned):
            low, high = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), cached=True)
            if high >= 0:
                lag[(topic, partition)] = max(high - self._landed.get((topic, partition), max(low, 0)), 0)
        return lag

    def _commit(self, offsets: list[TopicPartition]) -> None:
        try:
            self._consumer.commit(offsets=offsets, asynchronous=True)
        except KafkaException as exc:  # no coordinator during a rebalance: the next commit says the same
            log.debug("commit for lag monitoring skipped: %s", exc)

    async def rewind(self) -> None:
        """Back to where Postgres says landing stopped, for every owned partition (after a failed batch)."""
        await self._call(self._rewind)

    def _rewind(self) -> None:
        owned = [TopicPartition(t, p) for t, p in sorted(self._owned)]
        landed = positions_when_postgres_answers(self.conninfo, self.topics)
        for point in resume_points(owned, landed):
            self._consumer.seek(point)
        self._next = {tp: offset for tp, offset in landed.items() if tp in self._owned}
        self._landed = dict(self._next)

    async def close(self) -> None:
        """Leave the group (the partitions move at once, not after the session timeout)."""
        try:
            await self._call(self._consumer.close)
        finally:
            self._thread.shutdown(wait=True)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        landed = positions_when_postgres_answers(self.conninfo, self.topics)
        points = resume_points(partitions, landed)
        consumer.assign(points)
        self._owned = frozenset((tp.topic, tp.partition) for tp in points)
        self._next = {tp: offset for tp, offset in landed.items() if tp in self._owned}
        self._landed = dict(self._next)
        log.info("assigned %s", ", ".join(f"{tp.topic}[{tp.partition}]@{landed.get((tp.topic, tp.partition), 'first')}"
                                          for tp in points) or "nothing")

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._owned = frozenset()
        self._next = {}
        self._landed = {}
        consumer.unassign()
        log.info("revoked %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing")

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.warning("partitions lost (session expired): %s", ", ".join(f"{tp.topic}[{tp.partition}]"
                                                                       for tp in partitions))
        self._on_revoke(consumer, partitions)

