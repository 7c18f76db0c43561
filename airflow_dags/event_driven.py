"""
### streammart_event_driven

Refreshes the marts within seconds of new rows landing, instead of waiting for
the next micro-batch tick.

The landing worker publishes a "batch landed" message on the control topic
(`streammart.contract.CONTROL_TOPIC`, at most one every 3 s). An asset watcher — Airflow's
Kafka message-queue trigger, run by the triggerer — turns each message into an
event on the asset `streammart_raw_landed`, which schedules this DAG. Events that
arrive while a run is going collapse into the next run (`max_active_runs=1`), so a
busy stream costs one cycle at a time, back to back.

The task is the dbt cycle of `streammart_microbatch` (they share its lock), told
which raw tables the signals behind the run named: it builds what is downstream of
those tables' sources and skips the freshness step. A run with an event that names
no table (posted by hand, say) is an ordinary cycle.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger
from airflow.sdk import Asset, AssetWatcher, dag, task

from stream_processors.control import tables_in_asset_events
from streammart.contract import CONTROL_TOPIC
from streammart.dbt_cycle import run_cycle_for_task

KAFKA_CONNECTION = "streammart_kafka"

landed = Asset(
    "streammart_raw_landed",
    watchers=[AssetWatcher(
        name="landed_on_control_topic",
        trigger=MessageQueueTrigger(
            scheme="kafka",
            topics=[CONTROL_TOPIC],
            apply_function="stream_processors.control.landed_event",
            kafka_config_id=KAFKA_CONNECTION,
            poll_interval=0,
        ),
    )],
)


@dag(
    dag_id="streammart_event_driven",
    description="dbt cycle as soon as the landing worker reports new rows",
    schedule=[landed],
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=10),
    default_args={"owner": "streammart", "retries": 0},
    tags=["streammart", "dbt", "event-driven"],
    doc_md=__doc__,
)
def streammart_event_driven() -> None:
    @task(task_id="dbt_cycle", execution_timeout=timedelta(minutes=10))
    def dbt_cycle(triggering_asset_events: Any = None) -> dict[str, Any]:
        return run_cycle_for_task(landed_tables=tables_in_asset_events(triggering_asset_events))

    dbt_cycle()


streammart_event_driven()
