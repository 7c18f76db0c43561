"""Fault run: a worker killed with SIGKILL 20 times at random moments while a known stream of
events flows, one Kafka broker restart and one Postgres restart among them; afterwards raw
must hold every event exactly once: the count, the distinct keys and a checksum of the
landed values against the source.

Runs on a throw-away Postgres + Kafka of its own (restarting the shared stack's servers
would disturb everything else on it), bounded in time, purged afterwards:
  .venv/bin/python -m bench.fault_run [--events 200000] [--kills 20] [--seed 7]
"""
from __future__ import annotations

import hashlib
import json
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory

import click
import psycopg
from psycopg import sql

from bench.landing import ORDERS, order, produce
from schemas.wire import encode
from stack.throwaway import ThrowawayStack, throwaway_stack
from stream_processors.lag import landing_lag
from streammart.contract import RAW_SCHEMA, raw_table_name, topic_name
from streammart.settings import PROJECT_ROOT
from streammart.topics import ensure_topics

DOMAIN = "faultrun"
TIME_LIMIT_S = 1500
#: Fields compared between the source records and the landed rows, in this order.
CHECKED = ("order_id", "customer_id", "order_ts", "quantity", "unit_price", "amount", "status")


def fingerprint(rows) -> str:
    """Order-independent checksum of (field values…) rows: XOR of each row's SHA-256."""
    total = 0
    for row in rows:
        total ^= int.from_bytes(hashlib.sha256("|".join(str(v) for v in row).encode()).digest(), "big")
    return f"{total:064x}"


def source_fingerprint(n: int) -> str:
    return fingerprint((o["order_id"], o["customer_id"], o["order_ts"].isoformat(), o["quantity"],
                        o["unit_price"], o["amount"], o["status"]) for o in map(order, range(n)))


def landed_figures(conn: psycopg.Connection, table: sql.Identifier) -> tuple[int, int, int, str]:
    count, keys, positions = conn.execute(sql.SQL(
        "SELECT count(*), count(DISTINCT order_id), count(DISTINCT (_partition, _offset)) FROM {}").format(
        table)).fetchone()
    rows = conn.execute(sql.SQL(
        "SELECT order_id, customer_id, to_char(order_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+00:00', "
        "quantity, unit_price, amount, status FROM {}").format(table))
    return count, keys, positions, fingerprint(rows)


@dataclass
class Run:
    kills: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, rows landed then)
    restarts: list[tuple[str, float]] = field(default_factory=list)
    produced: int = 0


def feed(own: ThrowawayStack, topic: str, n: int, seconds: float, run: Run) -> None:
    """Produce ``n`` events over about ``seconds``, in slices, so the stream flows during the faults."""
    schema = ORDERS.registry().get(ORDERS.schema)
    slices = 40
    for k in range(slices):
        first, last = k * n // slices, (k + 1) * n // slices
        produce(own.kafka_config, topic, [encode(schema, order(i)) for i in range(first, last)], first=first)
        run.produced = last
        time.sleep(seconds / slices)


def landed(own: ThrowawayStack, table_name: str) -> int:
    def read(conn):
        if conn.execute("SELECT to_regclass(%s)", (f"{RAW_SCHEMA}.{table_name}",)).fetchone()[0] is None:
            return 0
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(RAW_SCHEMA, table_name))).fetchone()[0]
    try:
        return own.query(read)
    except psycopg.OperationalError:
        return -1  # Postgres is being restarted


def wait_progress(own: ThrowawayStack, table_name: str, before: int, worker: subprocess.Popen, run: Run,
                  timeout: float = 180) -> None:
    """Until the worker has landed rows beyond ``before``, or everything produced so far is landed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and worker.poll() is None:
        now = landed(own, table_name)
        if now > before or now >= run.produced:
            return
        time.sleep(0.05)


def start_worker(own: ThrowawayStack, pipeline: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([str(Path(sys.prefix) / "bin" / "stream-processors"), "--config", str(pipeline), "worker",
                             "--app-id", f"bench-{DOMAIN}", "--batch-seconds", "0.2"], env=own.env, cwd=PROJECT_ROOT,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


@click.command()
@click.option("--events", default=200_000, show_default=True)
@click.option("--kills", default=20, show_default=True)
@click.option("--seed", default=7, show_default=True, help="the random moments of the kills")
@click.option("--flow-seconds", default=240.0, show_default=True, help="how long the stream flows")
def main(events: int, kills: int, seed: int, flow_seconds: float) -> None:
    """Kill -9 a worker repeatedly while events flow, restart the broker and Postgres once each; check raw."""
    rng = random.Random(seed)
    began = time.monotonic()
    topic, table_name = topic_name(DOMAIN, "orders", 1), raw_table_name(DOMAIN, "orders")
    run = Run()
    with throwaway_stack("streammart-faultrun-") as own, TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        pipeline = workdir / "pipeline.yml"
        pipeline.write_text(json.dumps({"sources": [{
            "name": "orders", "domain": DOMAIN, "entity": "orders", "schema": ORDERS.schema, "format": "csv",
            "path": str(workdir / "unused.csv"), "key": ["order_id"], "event_time": "order_ts"}]}))
        ensure_topics(own.kafka_config, [topic], 6)
        feeder = threading.Thread(target=feed, args=(own, topic, events, flow_seconds, run), daemon=True)
        feeder.start()
        log = workdir / "worker.log"
        broker_at, postgres_at = kills // 3, 2 * kills // 3
        for k in range(kills):
            before = max(landed(own, table_name), 0)
            worker = start_worker(own, pipeline, log)
            if k % 4 == 3:  # while it starts, joins the group or seeks its partitions
                time.sleep(rng.uniform(0.5, 6.0))
            else:  # while it lands: a random moment after its first landed batch
                wait_progress(own, table_name, before, worker, run)
                time.sleep(rng.uniform(0.0, 4.0))
            if k == broker_at:
                own.restart("kafka")
                run.restarts.append(("kafka", time.monotonic() - began))
            if k == postgres_at:
                own.restart("postgres")
                run.restarts.append(("postgres", time.monotonic() - began))
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
            run.kills.append((time.monotonic() - began, landed(own, table_name)))
            click.echo(f"kill {k + 1:2d} at {run.kills[-1][0]:6.1f} s: {run.kills[-1][1]:,} landed, "
                       f"{run.produced:,} produced")
        feeder.join(timeout=TIME_LIMIT_S)
        worker = start_worker(own, pipeline, log)
        try:
            deadline = time.monotonic() + TIME_LIMIT_S
            while own.query(lambda c: landing_lag(c, own.kafka_config, [topic])[topic]) and time.monotonic() < deadline:
                time.sleep(1)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        table = sql.Identifier(RAW_SCHEMA, table_name)
        count, keys, positions, landed_sum = own.query(lambda c: landed_figures(c, table))
    expected = source_fingerprint(events)
    ok = count == keys == positions == events and landed_sum == expected
    mid_stream = sum(1 for (_, before), (_, after) in zip([(0, 0)] + run.kills, run.kills) if 0 <= before < after)
    click.echo(f"\n{kills} kills at random moments (seed {seed}), {mid_stream} of them after the worker had landed "
               f"rows since the previous one; restarts: "
               + ", ".join(f"{name} at {at:.0f} s" for name, at in run.restarts))
    click.echo(f"{'rows':<22}{count:>10,}  (expected {events:,})")
    click.echo(f"{'distinct keys':<22}{keys:>10,}")
    click.echo(f"{'distinct positions':<22}{positions:>10,}")
    click.echo(f"{'checksum of values':<22}{'equal' if landed_sum == expected else 'DIFFERENT':>10}")
    click.echo(f"{'result':<22}{'exactly once' if ok else 'FAILED':>10}  in {time.monotonic() - began:.0f} s")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
