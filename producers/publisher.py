"""The Kafka side of a replay: idempotent producer, topics, delivery reports."""
from __future__ import annotations

import logging
from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

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


def ensure_topics(client_config: dict[str, str], topics: Iterable[str], partitions: int) -> list[str]:
    """Create missing topics (``partitions`` each); returns the ones created."""
    admin = AdminClient(client_config)
    existing = set(admin.list_topics(timeout=15).topics)
    wanted = [t for t in dict.fromkeys(topics) if t not in existing]
    if not wanted:
        return []
    futures = admin.create_topics([NewTopic(t, num_partitions=partitions, replication_factor=1) for t in wanted])
    created = []
    for topic, future in futures.items():
        try:
            future.result(timeout=30)
            created.append(topic)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created


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
