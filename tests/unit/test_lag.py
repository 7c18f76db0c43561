"""Which Kafka errors high_watermarks waits out, and which it lets through."""
from confluent_kafka import KafkaError, KafkaException

from stream_processors.lag import _is_settling


def test_a_partition_without_a_leader_yet_is_waited_out():
    assert _is_settling(KafkaException(KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION)))
    assert _is_settling(KafkaException(KafkaError(KafkaError.LEADER_NOT_AVAILABLE)))


def test_a_refusal_is_not_retried():
    assert not _is_settling(KafkaException(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED)))
    assert not _is_settling(ValueError("not kafka"))
