"""Where landing resumes, and what a rebalance does to a batch in hand.

Postgres's ``raw._ingest_offsets`` (written with the rows) decides where each
partition resumes, whatever Kafka's committed offsets say; a batch read before
its partition was revoked lands nothing of that partition.
"""
from __future__ import annotations

import asyncio

import faust
import psycopg
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from psycopg import sql

from schemas import load_registry
from schemas.wire import encode
from stream_processors.app import Lander, LandingService, LandingStats, ProcessorOptions, landing_targets
from stream_processors.batches import KafkaBatches
from stream_processors.control import LandedSignal
from stream_processors.raw_tables import ensure_raw_tables
from streammart.contract import OFFSETS_TABLE, RAW_SCHEMA
from streammart.pipeline import load_pipeline
from streammart.topics import ensure_topics
from tests.integration.conftest import Worker, caught_up, order, orders_source, wait_for

pytestmark = pytest.mark.services
PER_PARTITION = 20


def produce_to_partitions(kafka_config: dict[str, str], topic: str, partitions: int) -> None:
    """Orders K<p><nn> into partition p, ``PER_PARTITION`` each."""
    schema = load_registry().get("retail.orders.v1")
    producer = Producer({**kafka_config, "enable.idempotence": True})
    for partition in range(partitions):
        for i in range(PER_PARTITION):
            record = order(partition * 1000 + i)
            producer.produce(topic, partition=partition, key=record["order_id"].encode(), value=encode(schema, record))
    assert producer.flush(30) == 0


def landed_offsets(admin: psycopg.Connection, table: sql.Identifier) -> dict[int, list[int]]:
    rows = admin.execute(sql.SQL("SELECT _partition, _offset FROM {} ORDER BY 1, 2").format(table)).fetchall()
    offsets: dict[int, list[int]] = {}
    for partition, offset in rows:
        offsets.setdefault(partition, []).append(offset)
    return offsets


def postgres_positions(admin: psycopg.Connection, topic: str) -> dict[int, int]:
    return dict(admin.execute(sql.SQL("SELECT partition, next_offset FROM {} WHERE topic = %s").format(
        sql.Identifier(RAW_SCHEMA, OFFSETS_TABLE)), (topic,)).fetchall())


def kafka_committed(kafka_config: dict[str, str], group: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = Consumer({**kafka_config, "group.id": group, "enable.auto.commit": False})
    try:
        return {tp.partition: tp.offset for tp in consumer.committed(
            [TopicPartition(topic, p) for p in range(partitions)], timeout=10)}
    finally:
        consumer.close()


def test_postgres_positions_win_over_kafka_commits_ahead_or_behind(scratch, admin, kafka_config):
    """Partition 0: Postgres ahead of Kafka's commit (5 < 12); partition 1: behind it (4 < 15)."""
    topic = scratch.topic("orders")
    ensure_topics(kafka_config, [topic], 2)
    produce_to_partitions(kafka_config, topic, 2)
    committer = Consumer({**kafka_config, "group.id": scratch.app_id, "enable.auto.commit": False})
    committer.commit(offsets=[TopicPartition(topic, 0, 5), TopicPartition(topic, 1, 15)], asynchronous=False)
    committer.close()
    admin.execute(sql.SQL("INSERT INTO {} (topic, partition, next_offset) VALUES (%s, 0, 12), (%s, 1, 4)").format(
        sql.Identifier(RAW_SCHEMA, OFFSETS_TABLE)), (topic, topic))
    pipeline = scratch.pipeline_of(orders_source(scratch.domain, scratch.tmp / "unused.csv"))

    with Worker(pipeline, scratch.app_id, scratch.tmp / "worker.log") as worker:
        wait_for(lambda: worker.alive() and caught_up(admin, kafka_config, topic)(), 120,
                 f"{topic} to be landed (log: {worker.log})")
        wait_for(lambda: kafka_committed(kafka_config, scratch.app_id, topic, 2) == {0: 20, 1: 20}, 30,
                 "the worker's lag commits to reach the end of both partitions")

    assert landed_offsets(admin, scratch.table("orders")) == {0: list(range(12, 20)), 1: list(range(4, 20))}
    assert postgres_positions(admin, topic) == {0: 20, 1: 20}


async def _revoke_during_batch(scratch, settings, kafka_config) -> tuple[set[int], set[int], list[int]]:
    """Reads one batch of both partitions, lets a second member take one, then lands the batch.

    Returns (partitions kept, partitions lost, partitions of the batch).
    """
    topic = scratch.topic("orders")
    target = landing_targets(load_pipeline(scratch.pipeline_of(
        orders_source(scratch.domain, scratch.tmp / "unused.csv"))))[topic]
    conninfo = settings.conninfo("ingest")
    with psycopg.connect(conninfo) as conn:
        ensure_raw_tables(conn, [target.table])
    source = KafkaBatches(kafka_config, scratch.app_id, f"{scratch.app_id}-a", [topic], conninfo)
    other = Consumer({**kafka_config, "group.id": scratch.app_id, "client.id": f"{scratch.app_id}-b",
                      "auto.offset.reset": "earliest", "enable.auto.commit": False,
                      "partition.assignment.strategy": "range"})
    app = faust.App(scratch.app_id, broker=f"kafka://{settings.bootstrap_servers}")
    lander = Lander(app, {topic: target}, load_registry(), conninfo, LandingStats(), LandedSignal())
    service = LandingService(source, lander, ProcessorOptions())
    await source.start()
    try:
        batch: list = []
        while len(batch) < 2 * PER_PARTITION:
            batch += await source.next_batch(1000, 1.0)
        owned_before = {p for _, p in source.owned}
        other.subscribe([topic])
        deadline = asyncio.get_running_loop().time() + 60
        while len(source.owned) != 1 or not other.assignment():
            assert asyncio.get_running_loop().time() < deadline, "the second member never got a partition"
            await asyncio.to_thread(other.poll, 0.2)
            await source.next_batch(1, 0.2)  # where the rebalance callbacks run; nothing of it lands
        kept = {p for _, p in source.owned}
        await service.land(batch)
        return kept, owned_before - kept, [m.partition() for m in batch]
    finally:
        other.close()
        await source.close()
        await lander.close_connection()


def test_a_batch_landing_after_its_partition_was_revoked_adds_nothing_of_it(scratch, settings, admin, kafka_config):
    topic = scratch.topic("orders")
    ensure_topics(kafka_config, [topic], 2)
    produce_to_partitions(kafka_config, topic, 2)

    kept, lost, read = asyncio.run(_revoke_during_batch(scratch, settings, kafka_config))

    assert len(kept) == 1 and len(lost) == 1 and set(read) == kept | lost
    assert landed_offsets(admin, scratch.table("orders")) == {p: list(range(PER_PARTITION)) for p in kept}
    assert set(postgres_positions(admin, topic)) == kept, "the revoked partition's position moved"

