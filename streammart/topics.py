"""Kafka topics of the pipeline, created up front with the configured partitions.

Both sides create them before they start: the producers so the first events do
not auto-create a topic with broker defaults, the landing worker so its consumer
sees every partition at once (a consumer learns of topics created later only at
its next metadata refresh, minutes away).
"""
from __future__ import annotations

from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

BROKER_DEFAULT = -1  # CreateTopics: take the broker's default.replication.factor (KIP-464)


def ensure_topics(client_config: dict[str, str], topics: Iterable[str], partitions: int) -> list[str]:
    """Create missing topics (``partitions`` each); returns the ones created.

    The replication factor is the cluster's own ``default.replication.factor``:
    1 on the single local node, 3 on the local cluster, whatever a managed cluster
    is set to, so the pipeline never asks for more replicas than there are brokers.
    """
    admin = AdminClient(client_config)
    existing = set(admin.list_topics(timeout=15).topics)
    wanted = [t for t in dict.fromkeys(topics) if t not in existing]
    if not wanted:
        return []
    futures = admin.create_topics([NewTopic(t, num_partitions=partitions, replication_factor=BROKER_DEFAULT)
                                   for t in wanted])
    created = []
    for topic, future in futures.items():
        try:
            future.result(timeout=30)
            created.append(topic)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created
