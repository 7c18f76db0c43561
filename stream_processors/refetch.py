"""Read a range of one partition again, beside the Faust consumer rather than through it.

A worker's consumer can be past offsets that never landed: Faust acknowledges a
take's events even when the agent crashed on them. Seeking Faust's consumer back
does not reliably bring them again (it drops re-read messages below the newest
offset it has handed out, and messages fetched before the seek keep flowing), so
the missing range is read with a short-lived consumer of its own and landed
with the batch that revealed the gap.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Consumer, KafkaError, KafkaException, Message, TopicPartition

REFETCH_TIMEOUT = 30.0


@dataclass(frozen=True)
class FetchedMessage:
    """The fields of a Kafka message that decoding and landing read (as on Faust's messages)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    timestamp: float | None

    @classmethod
    def of(cls, message: Message) -> FetchedMessage:
        kind, millis = message.timestamp()
        timestamp = millis / 1000 if kind != TIMESTAMP_NOT_AVAILABLE and millis >= 0 else None
        return cls(message.topic(), message.partition(), message.offset(), message.key(), message.value(),
                   list(message.headers() or []), timestamp)


def refetch(client_config: dict[str, str], topic: str, partition: int, start: int, stop: int,
            timeout: float = REFETCH_TIMEOUT) -> list[FetchedMessage]:
    """Messages of ``topic[partition]`` with ``start <= offset < stop`` that Kafka still holds.

    Offsets below the partition's earliest (retention) or absent (compaction,
    transaction markers) are simply not in the result. Raises ``TimeoutError``
    when the range cannot be read within ``timeout`` seconds.
    """
    consumer = Consumer({**client_config, "group.id": f"streammart-refetch-{uuid.uuid4().hex}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest",
                         "enable.partition.eof": True})
    try:
        consumer.assign([TopicPartition(topic, partition, start)])
        messages: list[FetchedMessage] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = consumer.poll(min(1.0, max(deadline - time.monotonic(), 0.01)))
            if message is None:
                continue
            if message.error() is not None:
                if message.error().code() == KafkaError._PARTITION_EOF:
                    return messages
                raise KafkaException(message.error())
            if message.offset() >= stop:
                return messages
            messages.append(FetchedMessage.of(message))
            if message.offset() == stop - 1:
                return messages
        raise TimeoutError(f"{topic}[{partition}]: offsets {start}..{stop - 1} not read within {timeout:.0f} s")
    finally:
        consumer.close()
