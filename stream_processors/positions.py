"""Start every assigned partition where Postgres says landing stopped.

Faust commits a take's offsets even when landing it failed, and its commits can
run ahead of in-flight events under concurrency (faust-streaming #606), so
Kafka's committed offsets are not trusted for where to resume. On each
assignment the consumer seeks every landing partition to the next offset
recorded in ``raw._ingest_offsets`` (the same transaction as the rows), or to
the earliest offset when nothing of it ever landed. Kafka's commits then only
serve lag monitoring.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass

from faust.transport.drivers.aiokafka import Consumer
from faust.types import TP

log = logging.getLogger(__name__)

PositionSource = Callable[[list[str]], Awaitable[Mapping[tuple[str, int], int]]]


def postgres_positioned_consumer(positions: PositionSource, topics: Collection[str]) -> type[Consumer]:
    """A Faust consumer class that seeks ``topics``' partitions to ``positions``."""
    landing_topics = set(topics)

    class PostgresPositionedConsumer(Consumer):
        async def seek_to_committed(self) -> Mapping[TP, int]:
            committed = dict(await super().seek_to_committed())
            assigned = sorted(tp for tp in self.assignment() if tp.topic in landing_topics)
            if not assigned:
                return committed
            landed = await positions(sorted(landing_topics))
            never_landed = [tp for tp in assigned if (tp.topic, tp.partition) not in landed]
            earliest = await self.earliest_offsets(*never_landed) if never_landed else {}
            for tp in assigned:
                target = landed.get((tp.topic, tp.partition), earliest.get(tp, 0))
                if committed.get(tp) != target:
                    log.info("%s[%d]: resuming at offset %d from Postgres (Kafka had %s)", tp.topic,
                             tp.partition, target, committed.get(tp))
                await self._seek(tp, target)
                committed[tp] = target
            return committed

    return PostgresPositionedConsumer


@dataclass
class PartitionCursor:
    """The next offset of one partition that may land, as Postgres recorded it.

    An offset below it landed already (a redelivery: skipped). An offset above it
    means the consumer is past messages that never landed, for instance those of a
    take whose agent crashed after Faust acknowledged it: :meth:`gap_before`
    names that range, which the agent reads again (see ``refetch``) before this one.
    """

    next_offset: int

    def landed_already(self, offset: int) -> bool:
        return offset < self.next_offset

    def gap_before(self, offset: int) -> range:
        """The offsets that must land before ``offset`` (empty when it is the next one)."""
        return range(self.next_offset, max(offset, self.next_offset))

    def advance_past(self, offset: int) -> None:
        self.next_offset = offset + 1
