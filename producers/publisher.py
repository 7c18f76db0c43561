"""The Kafka side of a replay: idempotent producer, topics, delivery reports."""
from __future__ import annotations

import logging
from confluent_kafka import KafkaError, Producer

log = logging.getLogger(__name__)

PRODUCER_DEFAULTS = {
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 20,
    "compression.type": "lz4",
    "client.id": "streammart-producers",
}


class DeliveryError(RuntimeError):
    """Kafka did not accept some events after the producer's own retries."""


class Publisher:
    """Wraps confluent-kafka's Producer and counts what the broker acknowledged."""

    def __init__(self, client_config: dict[str, str]):
        self._producer = Producer({**PRODUCER_DEFAULTS, **client_config})
        self.delivered = 0
        self.failed = 0
        self.first_error: str | None = None

    def _on_delivery(self, err: KafkaError | None, _msg) -> None:
        if err is None:
            self.delivered += 1
            return
        self.failed += 1
        if self.first_error is None:
            self.first_error = str(err)
            log.error("delivery failed: %s", err)

    def publish(self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=headers, on_delivery=self._on_delivery)
                break
            except BufferError:
                self._producer.poll(0.05)  # local queue full: let deliveries drain
        self._producer.poll(0)

    def flush(self, timeout: float = 60.0) -> None:
        remaining = self._producer.flush(timeout)
        if remaining:
            raise DeliveryError(f"{remaining} events still undelivered after {timeout:.0f} s")
        if self.failed:
            raise DeliveryError(f"{self.failed} events were not delivered; first error: {self.first_error}")
