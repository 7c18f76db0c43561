"""A contract evolving under a running worker: a compatible change lands without anyone restarting
anything; an incompatible one is refused, naming the rule, and landing goes on."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from psycopg import sql

from schemas.registry import SCHEMA_DIR, SCHEMA_DIR_ENV, load_registry
from streammart.contract import RAW_SCHEMA
from streammart.topics import ensure_topics
from tests.integration.conftest import (
    BIN,
    PROJECT_ROOT,
    Worker,
    caught_up,
    order,
    orders_landing_counts,
    orders_source,
    produce,
    wait_for,
)

pytestmark = pytest.mark.services
ORDERS = "retail.orders.v1"
CHANNEL = {"name": "channel", "type": ["null", "string"], "default": None,
           "doc": "where the order was placed; added to the contract while it was in use"}


def contracts_copy(folder: Path, source: Path = SCHEMA_DIR) -> Path:
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return folder


def evolve(folder: Path, change, label: str) -> None:
    """Keep the current orders contract in history/ (as its earlier version) and change the current one."""
    current = folder / f"{ORDERS}.avsc"
    shutil.copy(current, folder / "history" / f"{ORDERS}.{label}.avsc")
    definition = json.loads(current.read_text())
    change(definition)
    current.write_text(json.dumps(definition, indent=2))


def columns(admin, table: str) -> dict[str, str]:
    return dict(admin.execute("SELECT column_name, data_type FROM information_schema.columns "
                              "WHERE table_schema = %s AND table_name = %s", (RAW_SCHEMA, table)).fetchall())


def test_a_new_optional_field_reaches_the_running_worker_and_an_incompatible_change_is_refused(
        scratch, admin, kafka_config):
    contracts = contracts_copy(scratch.tmp / "schemas")
    first_version = contracts_copy(scratch.tmp / "first-version")  # what a producer not yet updated encodes with
    pipeline = scratch.pipeline_of(orders_source(scratch.domain, scratch.tmp / "orders.csv"))
    topic = scratch.topic("orders")
    ensure_topics(kafka_config, [topic], 3)
    landed = caught_up(admin, kafka_config, topic)
    produce(kafka_config, topic, ORDERS, [order(i) for i in range(200)], "order_id", contracts)
    log = scratch.tmp / "worker.log"

    with Worker(pipeline, scratch.app_id, log, env={**os.environ, SCHEMA_DIR_ENV: str(contracts)}) as worker:
        wait_for(lambda: worker.alive() and landed(), 120, f"the first orders to land (log: {log})")
        pid = worker.process.pid

        evolve(contracts, lambda d: d["fields"].append(CHANNEL), "before-channel")
        load_registry.cache_clear()
        wait_for(lambda: "channel" in columns(admin, scratch.table_name("orders")), 120,
                 f"the new field to become a column (log: {log})")
        with_channel = contracts_copy(scratch.tmp / "with-channel", contracts)
        produce(kafka_config, topic, ORDERS, [order(i, channel="web") for i in range(200, 300)], "order_id",
                contracts)
        produce(kafka_config, topic, ORDERS, [order(i) for i in range(300, 350)], "order_id",
                first_version)
        wait_for(lambda: worker.alive() and landed(), 120, f"orders of both versions to land (log: {log})")

        evolve(contracts, lambda d: next(f for f in d["fields"] if f["name"] == "quantity").update(type="string"),
               "before-quantity-text")
        wait_for(lambda: "BACKWARD compatibility" in log.read_text(), 60,
                 "the worker to refuse the incompatible contract")
        refused = subprocess.run([BIN / "producers", "--config", str(pipeline), "validate"], capture_output=True,
                                 text=True, timeout=120, cwd=PROJECT_ROOT,
                                 env={**os.environ, SCHEMA_DIR_ENV: str(contracts)})
        assert refused.returncode != 0 and "BACKWARD compatibility" in refused.stdout + refused.stderr
        produce(kafka_config, topic, ORDERS, [order(i, channel="app") for i in range(350, 400)], "order_id",
                with_channel)
        wait_for(lambda: worker.alive() and landed(), 120, "orders to keep landing after the refused change")
        assert worker.process.pid == pid and worker.alive()

    assert orders_landing_counts(admin, scratch) == (400, 400, 400)
    channels = dict(admin.execute(sql.SQL("SELECT coalesce(channel, 'none'), count(*) FROM {} GROUP BY 1").format(
        scratch.table("orders"))).fetchall())
    assert channels == {"none": 250, "web": 100, "app": 50}
    assert columns(admin, scratch.table_name("orders"))["channel"] == "text"
