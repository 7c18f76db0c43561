"""Kafka topics of the pipeline, created up front with the configured partitions.

Both sides create them before they start: the producers so the first events do
not auto-create a topic with broker defaults, the landing worker so its consumer
sees every partition at once (a consumer learns of topics created later only at
its next metadata refresh, minutes away).
"""
from __future__ import annotations

import time
from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ClusterMetadata, NewTopic

BROKER_DEFAULT = -1  # CreateTopics: take the broker's default.replication.factor (KIP-464)
VISIBLE_WITHIN = 30.0  # seconds for a created topic to appear, led, in the cluster's metadata


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
    _wait_until_led(client_config, wanted)
    return created


def _unled(metadata: ClusterMetadata, topics: list[str]) -> list[str]:
    """The ``topics`` this metadata lacks, or lists with a partition that has no leader."""
    return [t for t in topics if t not in metadata.topics or metadata.topics[t].error is not None
            or not metadata.topics[t].partitions or any(p.leader < 0 for p in metadata.topics[t].partitions.values())]


def _wait_until_led(client_config: dict[str, str], topics: list[str], timeout: float = VISIBLE_WITHIN) -> None:
    """Wait until every broker lists every partition of ``topics`` with a leader.

    On a cluster the controller acknowledges the creation before each broker has
    applied it; a client asking a lagging broker in that gap would not see the
    topic (a consumer not until its next metadata refresh, minutes away).
    """
    deadline = time.monotonic() + timeout
    brokers = AdminClient(client_config).list_topics(timeout=timeout).brokers.values()
    for broker in brokers:
        admin = AdminClient({**client_config, "bootstrap.servers": f"{broker.host}:{broker.port}"})
        while pending := _unled(admin.list_topics(timeout=max(deadline - time.monotonic(), 1.0)), topics):
            if time.monotonic() > deadline:
                raise KafkaException(KafkaError(KafkaError._TIMED_OUT, f"broker {broker.id} lists no leader for "
                                                f"{pending} {timeout:.0f} s after they were created"))
            time.sleep(0.1)
