"""Exactly once under crashes: a worker killed with SIGKILL mid-stream loses and doubles nothing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from confluent_kafka import Producer
from psycopg import sql

from schemas import load_registry
from schemas.wire import encode
from streammart.topics import ensure_topics
from tests.integration.conftest import Worker, caught_up, count, wait_for

pytestmark = pytest.mark.services
EVENTS = 60_000


def produce_orders(kafka_config: dict[str, str], topic: str, n: int) -> None:
    schema = load_registry().get("retail.orders.v1")
    producer = Producer({**kafka_config, "enable.idempotence": True, "linger.ms": 20})
    start = datetime(2024, 6, 1, tzinfo=timezone.utc)
    for i in range(n):
        record = {"order_id": f"K{i:06d}", "customer_id": f"C{i % 500}", "product_id": None,
                  "order_ts": start + timedelta(seconds=i), "quantity": 1, "unit_price": Decimal("1.00"),
                  "amount": Decimal("1.00"), "currency": "USD", "status": "paid"}
        while True:
            try:
                producer.produce(topic, key=record["order_id"].encode(), value=encode(schema, record))
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(60) == 0


def test_kill_9_mid_stream_loses_and_duplicates_nothing(scratch, admin, kafka_config):
    topic = scratch.topic("orders")
    ensure_topics(kafka_config, [topic], 6)
    produce_orders(kafka_config, topic, EVENTS)
    pipeline = scratch.pipeline(scratch.tmp / "unused.csv", "http://127.0.0.1:9/unused")
    table = scratch.table("orders")

    def landed() -> int:
        exists = admin.execute("SELECT to_regclass(%s)", (f"raw.{scratch.domain}__orders",)).fetchone()[0]
        return count(admin, table) if exists else 0

    kills = []
    for round_ in range(2):
        with Worker(pipeline, scratch.app_id, scratch.tmp / f"worker-{round_}.log") as worker:
            floor = landed()
            wait_for(lambda: worker.alive() and landed() > floor, 120, "landing to make progress", interval=0.05)
            worker.kill()
            kills.append(landed())
    assert all(0 < k < EVENTS for k in kills), f"the kills did not land mid-stream: {kills}"

    with Worker(pipeline, scratch.app_id, scratch.tmp / "worker-final.log") as worker:
        wait_for(lambda: worker.alive() and caught_up(admin, kafka_config, topic)(), 180,
                 f"{topic} to be landed after the crashes (log: {worker.log})")

    rows, orders, positions = admin.execute(sql.SQL(
        "SELECT count(*), count(DISTINCT order_id), count(DISTINCT (_partition, _offset)) FROM {}").format(
        table)).fetchone()
    assert (rows, orders, positions) == (EVENTS, EVENTS, EVENTS)
