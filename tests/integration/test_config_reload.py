"""A source added to the config of a running worker is landed without anyone restarting it.

The worker notices the changed config, restarts itself (same pid) and lands the
new topic; orders produced before, during and after the restart land exactly once.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from streammart.topics import ensure_topics
from tests.integration.conftest import (
    Scratch,
    Worker,
    caught_up,
    count,
    orders_landing_counts,
    produce,
    produce_orders,
    wait_for,
)

pytestmark = pytest.mark.services
CUSTOMERS = 150


def source(scratch: Scratch, entity: str, schema: str, key: str, event_time: str) -> dict[str, Any]:
    return {"name": entity, "domain": scratch.domain, "entity": entity, "schema": schema, "format": "csv",
            "path": str(scratch.tmp / f"{entity}.csv"), "key": [key], "event_time": event_time}


def append_source(config: Path, entry: dict[str, Any]) -> None:
    """One more item of the YAML ``sources:`` list, as someone editing the file would add it."""
    with config.open("a") as handle:
        handle.write(f"  - {json.dumps(entry)}\n")


def customers(n: int) -> list[dict[str, Any]]:
    updated = datetime(2024, 6, 1, tzinfo=timezone.utc)
    return [{"customer_id": f"C{i:04d}", "name": f"Customer {i}", "email": None, "country": "FR",
             "signup_date": None, "updated_at": updated + timedelta(minutes=i)} for i in range(n)]


def test_a_source_added_to_the_config_is_landed_by_the_running_worker(scratch, admin, kafka_config):
    orders_topic, customers_topic = scratch.topic("orders"), scratch.topic("customers")
    orders = source(scratch, "orders", "retail.orders.v1", "order_id", "order_ts")
    config = scratch.tmp / "pipeline.yml"
    config.write_text("sources:\n")
    append_source(config, orders)
    ensure_topics(kafka_config, [orders_topic], 3)
    produce_orders(kafka_config, orders_topic, 200)
    log = scratch.tmp / "worker.log"

    with Worker(config, scratch.app_id, log) as worker:
        wait_for(lambda: worker.alive() and caught_up(admin, kafka_config, orders_topic)(), 120,
                 f"the first orders to land (log: {log})")
        pid = worker.process.pid

        # A broken edit is refused: the worker goes on landing with the config it has.
        append_source(config, source(scratch, "customers", "retail.nope.v1", "customer_id", "updated_at"))
        wait_for(lambda: "still landing with the config the worker started with" in log.read_text(), 60,
                 "the worker to report the invalid config")
        produce_orders(kafka_config, orders_topic, 100, first=200)
        wait_for(lambda: worker.alive() and caught_up(admin, kafka_config, orders_topic)(), 60,
                 "orders produced after the invalid edit to land")

        # The fixed edit adds a source: its topic lands, orders keep landing through the restart.
        config.write_text("sources:\n")
        append_source(config, orders)
        append_source(config, source(scratch, "customers", "retail.customers.v1", "customer_id", "updated_at"))
        ensure_topics(kafka_config, [customers_topic], 3)
        produce(kafka_config, customers_topic, "retail.customers.v1", customers(CUSTOMERS), "customer_id")
        produce_orders(kafka_config, orders_topic, 300, first=300)
        wait_for(lambda: worker.alive() and caught_up(admin, kafka_config, customers_topic)(), 120,
                 f"{customers_topic} to land without a restart by the test (log: {log})")
        produce_orders(kafka_config, orders_topic, 100, first=600)
        wait_for(lambda: worker.alive() and caught_up(admin, kafka_config, orders_topic)(), 60,
                 "every order to land after the restart")
        assert worker.process.pid == pid and worker.alive()

    text = log.read_text()
    assert (f"pipeline.yml changed: new source(s) customers → topic {customers_topic}; "
            "restarting the worker to land them") in text
    assert count(admin, scratch.table("customers")) == CUSTOMERS
    assert orders_landing_counts(admin, scratch) == (700, 700, 700)
