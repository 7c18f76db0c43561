"""Landing throughput: the Faust worker against the in-process landing path.

Side by side, in one run (this machine is noisy; absolute numbers mislead):
  1. in-process ceiling: decode + ``land_batch`` on one connection, no Kafka,
     batches of the worker's size — the most one process can land;
  2. the real ``stream-processors worker`` draining a topic of N events.
Also printed: the ratio of each to DESIGN's measured ceiling for "Avro decode +
idempotent landing, 1 process" (~25k rows/s).

Needs Postgres and Kafka of the local stack:
  .venv/bin/streammart-stack start postgres kafka
  .venv/bin/python -m bench.landing [--events 100000]
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import click
import psycopg
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from psycopg import sql

from schemas import load_registry
from schemas.wire import encode
from stream_processors.decoding import LandingTarget, decode_row
from stream_processors.lag import landing_lag
from stream_processors.landing import Batch, land_batch
from stream_processors.raw_tables import RawTable, ensure_raw_tables
from streammart.contract import OFFSETS_TABLE, RAW_SCHEMA, qualified, raw_table_name, topic_name
from streammart.settings import PROJECT_ROOT, get_settings, kafka_client_config

DESIGN_CEILING = 25_000  # rows/s, Avro decode + idempotent landing, 1 process (DESIGN.md)
SCHEMA = "retail.orders.v1"


@dataclass
class Message:
    value: bytes
    offset: int
    topic: str
    partition: int = 0
    key: bytes = b""
    timestamp: float = 0.0
    headers: list = field(default_factory=list)


def order_values(n: int) -> list[bytes]:
    schema = load_registry().get(SCHEMA)
    start = datetime(2024, 6, 1, tzinfo=timezone.utc)
    return [encode(schema, {"order_id": f"B{i:07d}", "customer_id": f"C{i % 997}", "product_id": "P1",
                            "order_ts": start + timedelta(seconds=i), "quantity": 1 + i % 5,
                            "unit_price": Decimal("9.99"), "amount": Decimal("19.98"), "currency": "USD",
                            "status": "paid"}) for i in range(n)]


async def in_process_rate(settings, domain: str, values: list[bytes], batch_size: int) -> float:
    """Rows/s of decode + land_batch alone (what the worker adds on top is Kafka and Faust)."""
    registry = load_registry()
    table = RawTable.for_schema(raw_table_name(domain, "inproc"), registry.get(SCHEMA))
    topic = topic_name(domain, "inproc", 1)
    target = LandingTarget(topic, table, "retail", "orders", "order_ts")
    with psycopg.connect(settings.conninfo("ingest")) as conn:
        ensure_raw_tables(conn, [table])
    conn = await psycopg.AsyncConnection.connect(settings.conninfo("ingest"), autocommit=True)
    started = time.perf_counter()
    for first in range(0, len(values), batch_size):
        batch = Batch()
        for offset in range(first, min(first + batch_size, len(values))):
            message = Message(values[offset], offset, topic, key=b"k", timestamp=time.time())
            batch.add_row(table.name, decode_row(message, target, registry), message)
            batch.track(topic, 0, offset)
        await land_batch(conn, {table.name: table}, batch)
    elapsed = time.perf_counter() - started
    await conn.close()
    return len(values) / elapsed


def produce(config: dict[str, str], topic: str, values: list[bytes]) -> float:
    producer = Producer({**config, "enable.idempotence": True, "linger.ms": 20, "compression.type": "lz4"})
    started = time.perf_counter()
    for i, value in enumerate(values):
        while True:
            try:
                producer.produce(topic, key=f"B{i:07d}".encode(), value=value)
                break
            except BufferError:
                producer.poll(0.05)
    if producer.flush(120):
        raise RuntimeError("events left undelivered")
    return len(values) / (time.perf_counter() - started)


def worker_rate(settings, domain: str, batch_size: int, workers: int, workdir: Path) -> float:
    """Rows/s of ``workers`` real workers (one consumer group) from the first landed row to the last."""
    pipeline = workdir / "pipeline.yml"
    pipeline.write_text(json.dumps({"sources": [{
        "name": "bench", "domain": domain, "entity": "orders", "schema": SCHEMA, "format": "csv",
        "path": str(workdir / "unused.csv"), "key": ["order_id"], "event_time": "order_ts"}]}))
    topic = topic_name(domain, "orders", 1)
    table_name = raw_table_name(domain, "orders")
    table = sql.Identifier(RAW_SCHEMA, table_name)
    command = [str(Path(sys.prefix) / "bin" / "stream-processors"), "--config", str(pipeline), "worker",
               "--app-id", f"bench-{domain}", "--batch-size", str(batch_size)]
    processes = [subprocess.Popen(command, stdout=(workdir / f"worker-{i}.log").open("wb"), stderr=subprocess.STDOUT,
                                  cwd=PROJECT_ROOT) for i in range(workers)]
    try:
        with psycopg.connect(settings.conninfo("admin"), autocommit=True) as conn:
            deadline = time.monotonic() + 600
            first = None
            config = kafka_client_config(settings)
            while time.monotonic() < deadline and all(p.poll() is None for p in processes):
                exists = conn.execute("SELECT to_regclass(%s)", (qualified(table_name),)).fetchone()[0]
                landed = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0] if exists else 0
                if landed and first is None:
                    first = (time.perf_counter(), landed)
                if landed and not landing_lag(conn, config, [topic])[topic]:
                    return (landed - first[1]) / (time.perf_counter() - first[0])
                time.sleep(0.05)
        raise RuntimeError(f"the workers did not finish; see {workdir}/worker-*.log")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def clean_up(settings, domains: list[str]) -> None:
    with psycopg.connect(settings.conninfo("admin"), autocommit=True) as conn:
        for domain in domains:
            for entity in ("orders", "inproc"):
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
                    sql.Identifier(RAW_SCHEMA, raw_table_name(domain, entity))))
            conn.execute(sql.SQL("DELETE FROM {} WHERE topic LIKE %s").format(
                sql.Identifier(RAW_SCHEMA, OFFSETS_TABLE)), (f"{domain}.%",))
    admin = AdminClient(kafka_client_config(settings))
    topics = [t for t in admin.list_topics(timeout=10).topics if t.split(".")[0] in domains]
    if topics:
        for future in admin.delete_topics(topics).values():
            future.result(timeout=30)


@click.command()
@click.option("--events", type=click.IntRange(min=1000), default=100_000, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--workers", default="1,2", show_default=True, help="worker counts to measure, side by side")
def main(events: int, batch_size: int, workers: str) -> None:
    """Measure landing throughput; print figures and ratios."""
    settings = get_settings()
    counts = [int(n) for n in workers.split(",")]
    domains = [f"bench{uuid.uuid4().hex[:8]}" for _ in range(len(counts) + 1)]
    values = order_values(events)
    rates: list[tuple[str, float]] = []
    try:
        ceiling = asyncio.run(in_process_rate(settings, domains[0], values, batch_size))
        rates.append(("in-process decode + land_batch", ceiling))
        for n, domain in zip(counts, domains[1:]):
            produced = produce(kafka_client_config(settings), topic_name(domain, "orders", 1), values)
            with tempfile.TemporaryDirectory() as tmp:
                rates.append((f"worker ×{n} (Kafka → Faust → Postgres)",
                              worker_rate(settings, domain, batch_size, n, Path(tmp))))
    finally:
        clean_up(settings, domains)
    print(f"events: {events:,}, batch size: {batch_size}")
    print(f"{'step':<42}{'rows/s':>10}{'vs in-process':>15}{'vs DESIGN 25k':>15}")
    for name, rate in rates:
        print(f"{name:<42}{rate:>10,.0f}{rate / ceiling:>15.2f}{rate / DESIGN_CEILING:>15.2f}")
    print(f"{'producer (encode excluded)':<42}{produced:>10,.0f}")


if __name__ == "__main__":
    main()
