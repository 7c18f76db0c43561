"""The Kafka side of a replay: idempotent producer, delivery reports, message size.

``DryRun`` stands in for Kafka when a run only validates: it takes the same
calls and counts what would have been published.
"""
from __future__ import annotations

import logging
from typing import Protocol

from confluent_kafka import KafkaError, KafkaException, Producer

log = logging.getLogger(__name__)

PRODUCER_DEFAULTS = {
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 20,
    "compression.type": "lz4",
    "client.id": "streammart-producers",
    # a delivery report per event costs a Python call each; delivered = queued - failed - still in flight
    "delivery.report.only.error": True,
}
#: Served delivery reports (failures only) every this many events; a full local queue is served at once.
POLL_EVERY = 1000
DEFAULT_MESSAGE_LIMIT = 1_000_000  # librdkafka's message.max.bytes


class DeliveryError(RuntimeError):
    """Kafka did not accept some events after the producer's own retries."""


class RecordTooLarge(ValueError):
    """One event is bigger than a Kafka message may be: a reject, not a crash."""

    def __init__(self, size: int, limit: int):
        super().__init__(f"record is {size} bytes, limit {limit} (message.max.bytes)")


def message_limit(client_config: dict[str, str]) -> int:
    return int(client_config.get("message.max.bytes", DEFAULT_MESSAGE_LIMIT))


def ensure_fits(limit: int, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> int:
    """The event's size in bytes; raises RecordTooLarge when it exceeds ``limit``."""
    size = len(key) + len(value)
    for name, header in headers:
        size += len(name) + len(header)
    if size > limit:
        raise RecordTooLarge(size, limit)
    return size


class Sink(Protocol):
    delivered: int

    def publish(self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None: ...

    def flush(self, timeout: float = 60.0) -> None: ...


class Publisher:
    """Wraps confluent-kafka's Producer and counts what the broker acknowledged.

    Kafka reports only failed deliveries (``delivery.report.only.error``): an
    event handed over is delivered once it is neither failed nor still in the
    producer's queue, which after ``flush`` is exact.
    """

    def __init__(self, client_config: dict[str, str]):
        self._producer = Producer({**PRODUCER_DEFAULTS, **client_config, "on_delivery": self._on_delivery})
        self.limit = message_limit(client_config)
        self.handed = 0
        self.failed = 0
        self.first_error: str | None = None

    @property
    def delivered(self) -> int:
        return self.handed - self.failed - len(self._producer)

    def _on_delivery(self, err: KafkaError | None, _msg) -> None:
        if err is None:
            return
        self.failed += 1
        if self.first_error is None:
            self.first_error = str(err)
            log.error("delivery failed: %s", err)

    def publish(self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        """Queue one event; raises RecordTooLarge when Kafka would refuse it for its size."""
        size = ensure_fits(self.limit, key, value, headers)
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=headers)
                break
            except BufferError:
                self._producer.poll(0.05)  # local queue full: let deliveries drain
            except KafkaException as exc:
                if exc.args[0].code() == KafkaError.MSG_SIZE_TOO_LARGE:
                    raise RecordTooLarge(size, self.limit) from None
                raise
        self.handed += 1
        if self.handed % POLL_EVERY == 0:
            self._producer.poll(0)

    def flush(self, timeout: float = 60.0) -> None:
        remaining = self._producer.flush(timeout)
        if remaining:
            raise DeliveryError(f"{remaining} events still undelivered after {timeout:.0f} s")
        if self.failed:
            raise DeliveryError(f"{self.failed} events were not delivered; first error: {self.first_error}")


class DryRun:
    """A sink that publishes nothing: ``producers validate`` counts what ``run`` would produce."""

    def __init__(self, client_config: dict[str, str]):
        self.limit = message_limit(client_config)
        self.delivered = 0

    def publish(self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        ensure_fits(self.limit, key, value, headers)
        self.delivered += 1

    def flush(self, timeout: float = 60.0) -> None:
        return None
