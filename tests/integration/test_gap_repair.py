"""A take whose agent crashed after Faust acknowledged it leaves the consumer past
offsets that never landed. The agent notices the gap against Postgres's positions
and reads the missing offsets again with its own consumer, so they land in order
with the next take instead of being lost.
"""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import faust
import pytest
from psycopg import sql

from schemas import load_registry
from stream_processors.app import LandingAgent, LandingStats, ProcessorOptions, landing_targets
from stream_processors.control import LandedSignal
from stream_processors.refetch import FetchedMessage, refetch
from streammart.contract import OFFSETS_TABLE, RAW_SCHEMA
from streammart.pipeline import load_pipeline
from streammart.topics import ensure_topics
from tests.integration.conftest import produce_orders

pytestmark = pytest.mark.services


async def decode_take(agent: LandingAgent, take: list[FetchedMessage]):
    try:
        return await agent.decode([SimpleNamespace(message=message) for message in take])
    finally:
        await agent.close_connection()


def test_a_take_past_offsets_that_never_landed_brings_them_back_first(scratch, admin, kafka_config, settings):
    topic = scratch.topic("orders")
    ensure_topics(kafka_config, [topic], 1)
    produce_orders(kafka_config, topic, 20)
    admin.execute(sql.SQL("INSERT INTO {} (topic, partition, next_offset) VALUES (%s, 0, 5)").format(
        sql.Identifier(RAW_SCHEMA, OFFSETS_TABLE)), (topic,))
    target = landing_targets(load_pipeline(scratch.pipeline(scratch.tmp / "unused.csv", "http://127.0.0.1:9/")))[topic]
    agent = LandingAgent(faust.App(scratch.app_id, broker=f"kafka://{settings.bootstrap_servers}"), target,
                         load_registry(), settings.conninfo("ingest"), kafka_config, ProcessorOptions(),
                         LandingStats(), LandedSignal())

    # Postgres has 0..4; the consumer hands over 3 (a redelivery) and then 12, 13: 5..11 were lost in a crash
    take = refetch(kafka_config, topic, 0, 3, 4) + refetch(kafka_config, topic, 0, 12, 14)
    batch = asyncio.run(decode_take(agent, take))

    landed = batch.messages[target.table.name]
    assert [m.offset for m in landed] == list(range(5, 14))
    assert [row[0] for row in batch.rows[target.table.name]] == [f"K{i:06d}" for i in range(5, 14)]
    assert batch.next_offsets == {(topic, 0): 14}


def test_refetch_returns_only_what_kafka_holds_in_the_range(scratch, kafka_config):
    topic = scratch.topic("orders")
    ensure_topics(kafka_config, [topic], 1)
    produce_orders(kafka_config, topic, 10)
    assert [m.offset for m in refetch(kafka_config, topic, 0, 2, 6)] == [2, 3, 4, 5]
    assert [m.offset for m in refetch(kafka_config, topic, 0, 8, 50)] == [8, 9]  # the end of the partition
    first = refetch(kafka_config, topic, 0, 0, 1)[0]
    assert (first.key, first.topic, first.partition) == (b"K000000", topic, 0) and first.timestamp > 0
