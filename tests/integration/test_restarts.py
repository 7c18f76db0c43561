"""Exactly once across server restarts: Postgres, then the Kafka broker, go down mid-stream and come back.

The worker must ride both out on its own (no restart of the worker), and raw
must end with every event exactly once. These tests bring up a stack of their
own (Postgres + Kafka under a temporary home, on free ports): restarting the
shared test stack would pull the ground from under Airflow and the other tests.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from stack.throwaway import ThrowawayStack, throwaway_stack
from streammart.topics import ensure_topics
from tests.integration.conftest import Scratch, Worker, landed_orders, orders_landing_counts, produce_orders, wait_for
from stream_processors.lag import landing_lag

pytestmark = pytest.mark.services
EVENTS = 60_000


@pytest.fixture(scope="module")
def own_stack() -> Iterator[ThrowawayStack]:
    with throwaway_stack("streammart-restarts-") as own:
        yield own


def _land_through(own: ThrowawayStack, scratch: Scratch, outage: Callable[[], None]) -> str:
    """Half the events, a worker, ``outage`` once landing is under way, then the other half; the worker's log.

    The second half exists only after the outage, so landing it proves the worker
    came through the outage itself, not just a buffer fetched before it.
    """
    topic = scratch.topic("orders")
    half = EVENTS // 2
    ensure_topics(own.kafka_config, [topic], 6)
    produce_orders(own.kafka_config, topic, half)
    pipeline = scratch.pipeline(scratch.tmp / "unused.csv", "http://127.0.0.1:9/unused")

    def landed() -> int:
        return own.query(lambda conn: landed_orders(conn, scratch))

    log = scratch.tmp / "worker.log"
    with Worker(pipeline, scratch.app_id, log, env=own.env) as worker:
        wait_for(lambda: worker.alive() and landed() > 0, 120, "landing to make progress", interval=0.05)
        landed_before = landed()
        outage()
        produce_orders(own.kafka_config, topic, EVENTS - half, first=half)
        wait_for(lambda: worker.alive() and own.query(lambda c: landing_lag(c, own.kafka_config, [topic])[topic]) == 0,
                 240, f"{topic} to be landed after the restart (log: {log})", interval=0.5)
    assert landed_before < half, "the restart came after landing had finished: the test proved nothing"

    assert own.query(lambda conn: orders_landing_counts(conn, scratch)) == (EVENTS, EVENTS, EVENTS)
    return log.read_text(errors="replace")


def test_postgres_restart_mid_stream_loses_and_duplicates_nothing(own_stack, tmp_path):
    log = _land_through(own_stack, Scratch("tpgrestart", tmp_path), lambda: own_stack.restart("postgres"))
    assert "retrying in" in log, "the worker never met the outage: the test proved nothing"


def test_kafka_broker_restart_mid_stream_loses_and_duplicates_nothing(own_stack, tmp_path):
    log = _land_through(own_stack, Scratch("tkafkarestart", tmp_path), lambda: own_stack.restart("kafka"))
    assert re.search(r"connect(ion)?\b.*\b(refused|failed|closed)", log, re.IGNORECASE), \
        "the worker never lost its broker: the test proved nothing"
