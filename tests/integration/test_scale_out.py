"""Scale-out: two workers in one consumer group split the partitions and land everything once."""
from __future__ import annotations

import pytest
from confluent_kafka.admin import AdminClient
from psycopg import sql

from streammart.topics import ensure_topics
from tests.integration.conftest import Worker, caught_up, orders_landing_counts, produce_orders, wait_for

pytestmark = pytest.mark.services
EVENTS = 30_000


def members_with_partitions(kafka_config: dict[str, str], group: str, topic: str) -> list[set[int]]:
    admin = AdminClient({**kafka_config, "log_level": 3})
    description = admin.describe_consumer_groups([group])[group].result(timeout=10)
    return [{tp.partition for tp in member.assignment.topic_partitions if tp.topic == topic}
            for member in description.members]


def test_two_workers_split_the_partitions_and_land_exactly_once(scratch, admin, kafka_config):
    """Both workers land: the events are produced once the partitions are split, so each
    worker's half can only be landed by that worker."""
    topic = scratch.topic("orders")
    ensure_topics(kafka_config, [topic], 6)
    pipeline = scratch.pipeline(scratch.tmp / "unused.csv", "http://127.0.0.1:9/unused")

    with Worker(pipeline, scratch.app_id, scratch.tmp / "worker-a.log") as a, \
            Worker(pipeline, scratch.app_id, scratch.tmp / "worker-b.log") as b:
        split: list[set[int]] = []

        def disjoint_split() -> bool:
            assignments = members_with_partitions(kafka_config, scratch.app_id, topic)
            split[:] = assignments
            return (len(assignments) == 2 and all(assignments)
                    and set().union(*assignments) == set(range(6)) and not set.intersection(*assignments))

        wait_for(lambda: a.alive() and b.alive() and disjoint_split(), 120, "both workers to own disjoint partitions")
        produce_orders(kafka_config, topic, EVENTS)
        wait_for(lambda: a.alive() and b.alive() and caught_up(admin, kafka_config, topic)(), 180,
                 f"{topic} to be landed by the pair")
        assert members_with_partitions(kafka_config, scratch.app_id, topic) == split, "a rebalance moved partitions"

    assert orders_landing_counts(admin, scratch) == (EVENTS, EVENTS, EVENTS)
    per_partition = dict(admin.execute(sql.SQL("SELECT _partition, count(*) FROM {} GROUP BY _partition").format(
        scratch.table("orders"))).fetchall())
    for owned in split:
        assert sum(per_partition.get(p, 0) for p in owned) > 0, f"the worker owning partitions {owned} landed nothing"
