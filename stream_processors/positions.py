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
from enum import Enum

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


class Admission(Enum):
    LAND = "land"      # the next offset Postgres expects
    SKIP = "skip"      # landed already, or fetched before a rewind (it comes again)
    REWIND = "rewind"  # a gap: seek the partition back to ``next_offset``


REWIND_PATIENCE = 30.0  # seconds a rewound partition may take to deliver its next offset again


@dataclass
class PartitionCursor:
    """Which offset of one partition may land next, as Postgres recorded it.

    Within a running worker the consumer can be ahead of Postgres (an agent that
    crashed after Faust acknowledged its take): the first offset past the expected
    one asks for a rewind, and everything above the expected offset is skipped
    until the re-read delivers it — messages fetched before the seek still flow
    for a while. Should it never come (offsets that do not exist: transaction
    markers, compaction), the lowest offset seen meanwhile is taken after
    ``REWIND_PATIENCE`` and the gap is reported.
    """

    next_offset: int
    rewound_at: float | None = None
    lowest_seen: int | None = None

    def admit(self, offset: int, now: float) -> Admission:
        if offset < self.next_offset:
            return Admission.SKIP
        if offset == self.next_offset:
            self.next_offset, self.rewound_at, self.lowest_seen = offset + 1, None, None
            return Admission.LAND
        if self.rewound_at is None:
            self.rewound_at, self.lowest_seen = now, offset
            return Admission.REWIND
        self.lowest_seen = min(self.lowest_seen, offset)
        if now - self.rewound_at < REWIND_PATIENCE:
            return Admission.SKIP
        self.skip_to(self.lowest_seen)
        return self.admit(offset, now)

    def skip_to(self, offset: int) -> None:
        """Accept that offsets below ``offset`` will never come."""
        self.next_offset, self.rewound_at, self.lowest_seen = offset, None, None
