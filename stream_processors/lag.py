"""How far landing is behind Kafka, per topic, measured against Postgres.

Postgres's ``raw._ingest_offsets`` (not the consumer group's commits) says what
has landed, so this is the number that tells whether raw is complete.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable

import psycopg
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from psycopg import sql
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential

from streammart.contract import OFFSETS_TABLE, RAW_SCHEMA


# A topic created a moment ago answers metadata before its partitions have a leader.
_LEADERSHIP_SETTLING = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
                        KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._TIMED_OUT}


def _is_settling(error: BaseException) -> bool:
    if not isinstance(error, KafkaException):
        return False
    kafka_error = error.args[0]
    return kafka_error.code() in _LEADERSHIP_SETTLING or kafka_error.retriable()


@retry(retry=retry_if_exception(_is_settling), stop=stop_after_delay(30),
       wait=wait_exponential(multiplier=0.1, max=2), reraise=True)
def high_watermarks(client_config: dict[str, str], topic: str) -> dict[int, int]:
    """Next offset Kafka will assign, per partition (0 for a partition never written).

    Retries for up to 30 s while a new topic's partitions elect their leaders.
    """
    consumer = Consumer({**client_config, "group.id": f"streammart-lag-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        if metadata.error is not None:
            return {}
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in metadata.partitions}
    finally:
        consumer.close()


def landed_offsets(conn: psycopg.Connection, topic: str) -> dict[int, int]:
    rows = conn.execute(sql.SQL("SELECT partition, next_offset FROM {} WHERE topic = %s").format(
        sql.Identifier(RAW_SCHEMA, OFFSETS_TABLE)), (topic,))
    return dict(rows.fetchall())


def landing_lag(conn: psycopg.Connection, client_config: dict[str, str], topics: Iterable[str]) -> dict[str, int]:
    """Messages in Kafka not yet landed (rows or dead letters), per topic."""
    lag = {}
    for topic in topics:
        landed = landed_offsets(conn, topic)
        lag[topic] = sum(max(end - landed.get(p, 0), 0) for p, end in high_watermarks(client_config, topic).items())
    return lag
