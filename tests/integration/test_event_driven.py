"""Landing rows makes Airflow run the event-driven DAG, through the control topic."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from confluent_kafka import Producer

from schemas import load_registry
from schemas.wire import encode
from stack.airflow import run_airflow
from stack.postgres import AIRFLOW_DATABASE
from stream_processors.lag import high_watermarks
from streammart.contract import CONTROL_TOPIC, qualified
from streammart.dbt_cycle import CyclePaths
from streammart.topics import ensure_topics
from tests.integration.conftest import Worker, caught_up, wait_for

pytestmark = pytest.mark.services
DAG_ID = "streammart_event_driven"


def runs_since(settings, since: datetime) -> list[tuple[str, str]]:
    with psycopg.connect(settings.conninfo("airflow", AIRFLOW_DATABASE), autocommit=True) as conn:
        return conn.execute("SELECT run_type, state FROM dag_run WHERE dag_id = %s AND queued_at >= %s",
                            (DAG_ID, since)).fetchall()


def dag_known(settings) -> bool:
    with psycopg.connect(settings.conninfo("airflow", AIRFLOW_DATABASE), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM dag WHERE dag_id = %s", (DAG_ID,)).fetchone() is not None


def cycles_since(history: Path, since: datetime) -> list[dict]:
    records = [json.loads(line) for line in history.read_text().splitlines()] if history.is_file() else []
    return [r for r in records if datetime.fromisoformat(r["started_at"]) >= since.replace(microsecond=0)]


def test_landed_rows_trigger_the_event_driven_dag(running_airflow, scratch, admin, kafka_config):
    settings = running_airflow
    wait_for(lambda: dag_known(settings), 120, f"Airflow to parse {DAG_ID}", interval=1)
    run_airflow(["dags", "unpause", DAG_ID], settings, capture_output=True, timeout=120)
    try:
        topic = scratch.topic("orders")
        ensure_topics(kafka_config, [topic, CONTROL_TOPIC], 1)
        signals_before = sum(high_watermarks(kafka_config, CONTROL_TOPIC).values())
        since = datetime.now(timezone.utc)
        schema = load_registry().get("retail.orders.v1")
        producer = Producer(kafka_config)
        producer.produce(topic, key=b"E1", value=encode(schema, {
            "order_id": "E1", "customer_id": "C1", "product_id": None, "order_ts": since, "quantity": 1,
            "unit_price": Decimal("1.00"), "amount": Decimal("1.00"), "currency": "USD", "status": "paid"}))
        assert producer.flush(30) == 0

        pipeline = scratch.pipeline(scratch.tmp / "unused.csv", "http://127.0.0.1:9/unused")
        with Worker(pipeline, scratch.app_id, scratch.tmp / "worker.log") as worker:
            wait_for(lambda: worker.alive() and caught_up(admin, kafka_config, topic)(), 120, "the order to land")
            wait_for(lambda: sum(high_watermarks(kafka_config, CONTROL_TOPIC).values()) > signals_before, 30,
                     "the worker's landed signal on the control topic")

        # The control topic may still hold other tests' signals: wait for the run of this one.
        table = qualified(scratch.table_name("orders"))
        history = CyclePaths.for_settings(settings).history_file

        def cycles_told() -> list[dict]:
            return [c for c in cycles_since(history, since) if table in c.get("landed_tables", [])]

        wait_for(lambda: cycles_told(), 300, f"a dbt cycle told that {table} received rows", interval=1)
        wait_for(lambda: ("asset_triggered", "success") in runs_since(settings, since), 60,
                 f"an asset-triggered {DAG_ID} run to succeed", interval=1)
        cycles = cycles_told()
        # The scheduler imported dbt before forking the task: the cycle did not pay for it.
        assert all(c["warm_start"] for c in cycles), cycles
        # No dbt source reads the scratch table: told of it alone, a cycle looks at every source.
        alone = [c for c in cycles if c["landed_tables"] == [table]]
        assert all(c["mode"] in ("fresher", "full") for c in alone), alone
    finally:
        run_airflow(["dags", "pause", DAG_ID], settings, capture_output=True, timeout=120)
