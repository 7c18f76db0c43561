"""Dead letters on the real stack: what Postgres refuses is found by bisection, and every letter
reaches both raw._dead_letters and the dead-letter topic, however big it is."""
from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field

import psycopg
import pytest
from confluent_kafka import Producer
from psycopg import sql

from schemas import load_registry
from schemas.wire import encode
from stream_processors import landing
from stream_processors.app import landing_targets
from stream_processors.dead_letters import TRUNCATED_HEADER
from stream_processors.decoding import decode_row
from stream_processors.landing import Batch, land_batch
from stream_processors.raw_tables import ensure_raw_tables
from streammart.contract import DEAD_LETTERS_TABLE, RAW_SCHEMA, dead_letter_topic
from streammart.pipeline import load_pipeline
from streammart.topics import ensure_topics
from tests.integration.conftest import count, land, order, orders_source, produce, read_topic

pytestmark = pytest.mark.services
NUL_STATUS = "pa\x00id"  # text Postgres cannot store: the row is refused at landing


@dataclass
class Message:
    """A consumed Kafka message, as decode_row and land_batch read it."""

    topic: str
    partition: int
    offset: int
    value: bytes
    key: bytes = b"k"
    timestamp: float = 1717400000.0
    headers: list = field(default_factory=list)


def letters_of(admin: psycopg.Connection, topic: str) -> list[tuple]:
    return admin.execute(sql.SQL('SELECT "offset", stage, error, length(value) FROM {} WHERE topic = %s '
                                 'ORDER BY "offset"').format(sql.Identifier(RAW_SCHEMA, DEAD_LETTERS_TABLE)),
                         (topic,)).fetchall()


def test_a_refused_row_costs_a_few_copies_not_one_per_row(scratch, settings, admin, monkeypatch):
    """Defect 3: one refused row sent the whole batch through row-by-row landing (~14 s for 2,000)."""
    pipeline = load_pipeline(scratch.pipeline_of(orders_source(scratch.domain, scratch.tmp / "unused.csv")))
    target = landing_targets(pipeline)[scratch.topic("orders")]
    registry = load_registry()
    schema = registry.get("retail.orders.v1")
    batch = Batch()
    size, bad = 2000, 1234
    for i in range(size):
        message = Message(target.topic, 0, i, encode(schema, order(i, status=NUL_STATUS if i == bad else "paid")))
        batch.track(message.topic, message.partition, message.offset)
        batch.add_row(target.table.name, decode_row(message, target, registry), message)
    copies = []
    real_land_rows = landing._land_rows

    async def counted_land_rows(conn, table, rows):
        copies.append(len(rows))
        return await real_land_rows(conn, table, rows)

    monkeypatch.setattr(landing, "_land_rows", counted_land_rows)

    async def land_it():
        with psycopg.connect(settings.conninfo("ingest"), autocommit=True) as conn:
            ensure_raw_tables(conn, [target.table])
        async with await psycopg.AsyncConnection.connect(settings.conninfo("ingest"), autocommit=True) as conn:
            return await land_batch(conn, {target.table.name: target.table}, batch)

    result = asyncio.run(land_it())
    assert (result.landed, [(d.offset, d.stage) for d in result.letters]) == (size - 1, [(bad, "land")])
    assert "0x00" in result.letters[0].error
    # the batch, the trial of the batch, two halves per level down to the row, the sifted batch
    assert len(copies) <= 2 * math.ceil(math.log2(size)) + 3, copies
    assert count(admin, scratch.table("orders")) == size - 1
    assert letters_of(admin, target.topic)[0][:2] == (bad, "land")


def test_refused_rows_and_poison_messages_reach_the_dead_letter_topic(scratch, settings, admin, kafka_config):
    """Defects 1 and 2: "land" letters never reached the DLQ topic; a poison message near 1 MB crashed
    the agent (its DLQ copy plus headers was too big) and the rest of its batch's copies were lost."""
    topic = scratch.topic("orders")
    ensure_topics(kafka_config, [topic], 1)
    produce(kafka_config, topic, "retail.orders.v1", [order(1), order(2, status=NUL_STATUS), order(3)], "order_id")
    poison = b"\x00" * 999_900  # fits a Kafka message; with the dead-letter headers added it would not
    raw_producer = Producer({**kafka_config, "message.max.bytes": 1_000_000})
    raw_producer.produce(topic, key=b"P1", value=poison)
    raw_producer.produce(topic, key=b"P2", value=b"\x00small")
    assert raw_producer.flush(30) == 0
    produce(kafka_config, topic, "retail.orders.v1", [order(4)], "order_id")

    pipeline = scratch.pipeline_of(orders_source(scratch.domain, scratch.tmp / "unused.csv"))
    log = scratch.tmp / "worker.log"
    land(settings, pipeline, scratch.app_id, [topic], log)

    assert count(admin, scratch.table("orders")) == 3
    letters = letters_of(admin, topic)
    assert [(offset, stage) for offset, stage, _, _ in letters] == [(1, "land"), (3, "decode"), (4, "decode")]
    assert letters[1][3] == len(poison)  # the whole value is kept in Postgres
    copies = {int(dict(m.headers())["original_offset"]): m for m in read_topic(kafka_config,
                                                                                dead_letter_topic(topic), 3)}
    assert sorted(copies) == [1, 3, 4]
    assert dict(copies[1].headers())["stage"] == b"land"
    big = dict(copies[3].headers())
    assert big[TRUNCATED_HEADER] == b"999900" and 0 < len(copies[3].value()) < 999_900
    assert copies[3].value() == poison[:len(copies[3].value())]
    assert copies[4].value() == b"\x00small"
    text = log.read_text()
    assert "dead letter" in text and "(land)" in text and "Traceback" not in text
