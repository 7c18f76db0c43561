"""Exactly once under crashes: a worker killed with SIGKILL mid-stream loses and doubles nothing."""
from __future__ import annotations

import pytest

from streammart.topics import ensure_topics
from tests.integration.conftest import (Worker, caught_up, landed_orders, orders_landing_counts, produce_orders,
                                       wait_for)

pytestmark = pytest.mark.services
EVENTS = 60_000


def test_kill_9_mid_stream_loses_and_duplicates_nothing(scratch, admin, kafka_config):
    topic = scratch.topic("orders")
    ensure_topics(kafka_config, [topic], 6)
    produce_orders(kafka_config, topic, EVENTS)
    pipeline = scratch.pipeline(scratch.tmp / "unused.csv", "http://127.0.0.1:9/unused")

    kills = []
    for round_ in range(2):
        with Worker(pipeline, scratch.app_id, scratch.tmp / f"worker-{round_}.log") as worker:
            floor = landed_orders(admin, scratch)
            wait_for(lambda: worker.alive() and landed_orders(admin, scratch) > floor, 120, "landing to make progress",
                     interval=0.05)
            worker.kill()
            kills.append(landed_orders(admin, scratch))
    assert all(0 < k < EVENTS for k in kills), f"the kills did not land mid-stream: {kills}"

    with Worker(pipeline, scratch.app_id, scratch.tmp / "worker-final.log") as worker:
        wait_for(lambda: worker.alive() and caught_up(admin, kafka_config, topic)(), 180,
                 f"{topic} to be landed after the crashes (log: {worker.log})")

    assert orders_landing_counts(admin, scratch) == (EVENTS, EVENTS, EVENTS)
