"""Freshness: how long from an event produced to the same row visible in its mart.

Events flow continuously (retail orders, ``--rate`` per second for ``--minutes``) into
the stack's own orders topic; the stack's worker lands them and Airflow builds the
marts, either through the event-driven DAG (the worker's "landed" signal on the
control topic → asset → run) or through the 2-minute micro-batch schedule, one
trigger at a time (the other DAG is paused meanwhile). Each event's latency is the
time from Kafka acknowledging it to the first poll of ``marts.fct_orders`` that
shows its order. The Airflow metadata and the cycle history then say where the
time went: waiting for a run, the task's start, the dbt cycle itself.

Needs the whole stack (``.venv/bin/streammart-stack start``), with nothing else
feeding retail orders meanwhile. The bench's rows are removed afterwards.

  .venv/bin/python -m bench.freshness [--trigger event|schedule|both] [--minutes 10] [--rate 2]
"""
from __future__ import annotations

import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import click
import psycopg
from confluent_kafka import Producer
from psycopg import sql

from schemas import load_registry
from schemas.wire import encode
from stack.airflow import run_airflow
from stack.postgres import AIRFLOW_DATABASE
from streammart.contract import RAW_SCHEMA, raw_table_name, topic_name
from streammart.cycle_history import recent_cycles
from streammart.dbt_cycle import CyclePaths
from streammart.settings import get_settings, kafka_client_config

DAGS = {"event": "streammart_event_driven", "schedule": "streammart_microbatch"}
GOALS = {"event": 15.0, "schedule": 150.0}  # p95 seconds
POLL_SECONDS = 0.5
SETTLE_SECONDS = {"event": 120, "schedule": 300}  # after the last event, how long it may take to show


@dataclass
class Flow:
    """Acknowledged and visible times (epoch seconds) per order id of one run."""

    prefix: str
    acked: dict[str, float] = field(default_factory=dict)
    visible: dict[str, float] = field(default_factory=dict)
    done_producing: threading.Event = field(default_factory=threading.Event)

    def latencies(self) -> list[float]:
        return sorted(self.visible[key] - self.acked[key] for key in self.visible if key in self.acked)


def produce(settings, flow: Flow, rate: float, seconds: float) -> None:
    """Produce ``rate`` orders per second for ``seconds``; the ack time of each is kept."""
    schema = load_registry().get("retail.orders.v1")
    producer = Producer({**kafka_client_config(settings), "enable.idempotence": True, "linger.ms": 0})
    topic = topic_name("retail", "orders", 1)

    def acked(err, message) -> None:
        if err is None:
            flow.acked[message.key().decode()] = time.time()

    started, n = time.monotonic(), 0
    while time.monotonic() - started < seconds:
        order_id = f"{flow.prefix}{n:06d}"
        value = {"order_id": order_id, "customer_id": f"{flow.prefix}C", "product_id": "P1",
                 "order_ts": datetime.now(timezone.utc), "quantity": 1, "unit_price": Decimal("1.00"),
                 "amount": Decimal("1.00"), "currency": "USD", "status": "paid"}
        producer.produce(topic, key=order_id.encode(), value=encode(schema, value), on_delivery=acked)
        producer.poll(0)
        n += 1
        time.sleep(max(0.0, started + n / rate - time.monotonic()))
    if producer.flush(60):
        raise RuntimeError("events left undelivered")
    flow.done_producing.set()


def watch(settings, flow: Flow, settle: float) -> None:
    """Poll the mart until every acknowledged order is visible (or ``settle`` s after the last one)."""
    query = "select order_id from marts.fct_orders where order_id like %s"
    with psycopg.connect(settings.conninfo("admin"), autocommit=True) as conn:
        deadline = None
        while deadline is None or time.monotonic() < deadline:
            now = time.time()
            exists = conn.execute("select to_regclass('marts.fct_orders')").fetchone()[0]
            for (order_id,) in conn.execute(query, (flow.prefix + "%",)).fetchall() if exists else []:
                flow.visible.setdefault(order_id, now)
            if flow.done_producing.is_set():
                if len(flow.visible) >= len(flow.acked):
                    return
                deadline = deadline or time.monotonic() + settle
            time.sleep(POLL_SECONDS)


def set_paused(settings, dag_id: str, paused: bool) -> None:
    run_airflow(["dags", "pause" if paused else "unpause", dag_id], settings, capture_output=True, timeout=120)


def paused_states(settings) -> dict[str, bool]:
    with psycopg.connect(settings.conninfo("airflow", AIRFLOW_DATABASE), autocommit=True) as conn:
        rows = conn.execute("select dag_id, is_paused from dag where dag_id = any(%s)", (list(DAGS.values()),))
        return dict(rows.fetchall())


def airflow_breakdown(settings, dag_id: str, since: datetime) -> dict[str, float]:
    """Median seconds per stage of the DAG's runs since ``since``: run queued → dbt task start, dbt task."""
    with psycopg.connect(settings.conninfo("airflow", AIRFLOW_DATABASE), autocommit=True) as conn:
        rows = conn.execute(
            """select extract(epoch from ti.start_date - dr.queued_at),
                      extract(epoch from ti.end_date - ti.start_date),
                      extract(epoch from dr.end_date - dr.queued_at)
               from dag_run dr join task_instance ti using (dag_id, run_id)
               where dr.dag_id = %s and dr.queued_at >= %s and ti.task_id = 'dbt_cycle'
                 and ti.end_date is not null""",
            (dag_id, since)).fetchall()
    if not rows:
        return {"runs": 0}
    return {"runs": len(rows), "queued to task start": statistics.median(float(r[0]) for r in rows),
            "task": statistics.median(float(r[1]) for r in rows),
            "run": statistics.median(float(r[2]) for r in rows)}


def wait_for_runs_to_end(settings, dag_id: str, timeout: float = 300) -> None:
    """The breakdown counts finished runs only: let the one in flight end."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(settings.conninfo("airflow", AIRFLOW_DATABASE), autocommit=True) as conn:
        while time.monotonic() < deadline and conn.execute(
                "select 1 from dag_run where dag_id = %s and state in ('queued', 'running')", (dag_id,)).fetchone():
            time.sleep(1)


def cycle_seconds(settings, since: datetime) -> list[float]:
    return [c.seconds for c in recent_cycles(CyclePaths.for_settings(settings).history_file) if c.started_at >= since]


def remove_rows(settings, prefix: str) -> None:
    """Take the bench's orders out of raw and the marts (its ids all start with ``prefix``)."""
    pattern = prefix + "%"
    with psycopg.connect(settings.conninfo("admin"), autocommit=True) as conn:
        conn.execute(sql.SQL("delete from {} where order_id like %s").format(
            sql.Identifier(RAW_SCHEMA, raw_table_name("retail", "orders"))), (pattern,))
        for table, column in (("fct_orders", "order_id"), ("fct_customer_daily_orders", "customer_id")):
            if conn.execute("select to_regclass(%s)", (f"marts.{table}",)).fetchone()[0]:
                conn.execute(sql.SQL("delete from {} where {} like %s").format(
                    sql.Identifier("marts", table), sql.Identifier(column)), (pattern,))


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))]


def measure(settings, trigger: str, minutes: float, rate: float) -> dict[str, float | int | str]:
    """One trigger mode: the other DAG paused, events flowing, latencies and the Airflow breakdown."""
    since = datetime.now(timezone.utc)
    for mode, dag_id in DAGS.items():
        set_paused(settings, dag_id, mode != trigger)
    flow = Flow(prefix=f"fr{uuid.uuid4().hex[:8]}-")
    producer = threading.Thread(target=produce, args=(settings, flow, rate, minutes * 60), daemon=True)
    producer.start()
    try:
        watch(settings, flow, SETTLE_SECONDS[trigger])
        producer.join()
        latencies = flow.latencies()
        if not latencies:
            raise RuntimeError(f"no order became visible in marts.fct_orders under the {trigger} trigger")
        wait_for_runs_to_end(settings, DAGS[trigger])
        cycles = cycle_seconds(settings, since - timedelta(seconds=1))
        return {"trigger": trigger, "produced": len(flow.acked), "visible": len(flow.visible),
                "p50": statistics.median(latencies), "p95": percentile(latencies, 0.95), "max": latencies[-1],
                "goal": GOALS[trigger], "cycles": len(cycles),
                "cycle median": statistics.median(cycles) if cycles else 0.0,
                **airflow_breakdown(settings, DAGS[trigger], since)}
    finally:
        remove_rows(settings, flow.prefix)


@click.command()
@click.option("--trigger", type=click.Choice(["event", "schedule", "both"]), default="both", show_default=True)
@click.option("--minutes", type=click.FloatRange(min=0.5), default=10.0, show_default=True,
              help="how long events flow, per trigger")
@click.option("--rate", type=click.FloatRange(min=0.1), default=2.0, show_default=True, help="orders per second")
def main(trigger: str, minutes: float, rate: float) -> None:
    """Produced → visible in its mart, p50/p95, under each Airflow trigger; one table."""
    settings = get_settings()
    before = paused_states(settings)
    results = []
    try:
        for mode in (["event", "schedule"] if trigger == "both" else [trigger]):
            results.append(measure(settings, mode, minutes, rate))
    finally:
        for dag_id, paused in before.items():
            set_paused(settings, dag_id, paused)
    print(f"\nfreshness: {minutes:g} min of events at {rate:g}/s per trigger; seconds from acknowledged to visible")
    print(f"{'trigger':<9} {'events':>7} {'p50':>6} {'p95':>6} {'max':>6} {'goal p95':>9}  {'met':<4} "
          f"{'runs':>4} {'queued→task':>11} {'task':>6} {'dbt cycle':>9}")
    for r in results:
        print(f"{r['trigger']:<9} {r['visible']:>7,} {r['p50']:>6.1f} {r['p95']:>6.1f} {r['max']:>6.1f} "
              f"{r['goal']:>9.0f}  {'yes' if r['p95'] <= r['goal'] else 'no':<4} {r.get('runs', 0):>4} "
              f"{r.get('queued to task start', 0):>11.1f} {r.get('task', 0):>6.1f} {r['cycle median']:>9.1f}")
        if r["visible"] < r["produced"]:
            print(f"  {r['produced'] - r['visible']:,} of {r['produced']:,} events never became visible")


if __name__ == "__main__":
    main()
