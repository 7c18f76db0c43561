"""The worker's Prometheus endpoint on the real stack: landed events, dead letters by stage,
batch latency and per-partition lag, as a scraper reads them."""
from __future__ import annotations

import pytest
import requests
from confluent_kafka import Producer
from prometheus_client.parser import text_string_to_metric_families

from stack.throwaway import free_ports
from streammart.topics import ensure_topics
from tests.integration.conftest import Worker, caught_up, order, orders_source, produce, wait_for

pytestmark = pytest.mark.services
ORDERS = 300


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """Every sample: (name, sorted labels) → value."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_the_worker_exposes_landed_events_dead_letters_latency_and_lag(scratch, admin, kafka_config):
    topic = scratch.topic("orders")
    ensure_topics(kafka_config, [topic], 3)
    produce(kafka_config, topic, "retail.orders.v1", [order(i) for i in range(ORDERS)], "order_id")
    poison = Producer(kafka_config)
    poison.produce(topic, key=b"bad", value=b"not avro at all")
    assert poison.flush(30) == 0
    pipeline = scratch.pipeline_of(orders_source(scratch.domain, scratch.tmp / "unused.csv"))
    port, = free_ports(1)
    log = scratch.tmp / "worker.log"

    with Worker(pipeline, scratch.app_id, log, extra_args=["--metrics-port", str(port)]) as worker:
        wait_for(lambda: worker.alive() and caught_up(admin, kafka_config, topic)(), 120,
                 f"the orders to land (log: {log})")

        def lag_reported() -> bool:
            lags = {labels: v for (name, labels), v in scrape(port).items() if name == "streammart_consumer_lag"}
            return len(lags) == 3 and all(v == 0 for v in lags.values())

        wait_for(lag_reported, 30, "the lag of all three partitions to read 0")
        metrics = scrape(port)
        assert metrics[("streammart_events_landed_total", (("topic", topic),))] == ORDERS
        assert metrics[("streammart_dead_letters_total", (("stage", "decode"), ("topic", topic)))] == 1
        assert metrics[("streammart_batch_seconds_count", ())] >= 1

        produce(kafka_config, topic, "retail.orders.v1", [order(i) for i in range(ORDERS, ORDERS + 50)], "order_id")
        wait_for(lambda: scrape(port)[("streammart_events_landed_total", (("topic", topic),))] == ORDERS + 50, 60,
                 "the counter to follow new events")
