"""Soak: one worker landing a steady paced stream for a long time, lag bounded, nothing lost or doubled.

A producer paces orders events at ``--rate`` per second for ``--minutes`` onto a fresh
topic while one real ``stream-processors worker`` lands them. Every few seconds the
consumer lag (events in Kafka not yet landed, from the worker's Postgres positions) and
the worker's resident memory are sampled. At the end the topic is drained and the raw
table must hold exactly one row per produced event: rows == distinct keys == produced.

Needs Postgres and Kafka of the local stack:
  .venv/bin/streammart-stack start postgres kafka
  .venv/bin/python -m bench.soak [--minutes 30] [--rate 10000]
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import click
import psycopg
from confluent_kafka import Producer
from psycopg import sql

from bench.landing import ORDERS, clean_up, order, rss_mb
from schemas.wire import encode
from stream_processors.lag import landing_lag
from streammart.contract import RAW_SCHEMA, raw_table_name, topic_name
from streammart.settings import PROJECT_ROOT, get_settings, kafka_client_config

DRAIN_TIMEOUT = 600
WARM_UP = 60  # seconds: the worker starts, joins its group and seeks while the producer already runs


@dataclass
class Samples:
    """(seconds since start, lag in events, worker RSS in MiB), appended by the sampler thread."""

    points: list[tuple[float, int, float]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


def sample(settings, topic: str, pid: int, every: float, began: float, samples: Samples) -> None:
    """Lag and RSS every ``every`` seconds until told to stop (its own thread: pacing must not wait on it)."""
    config = kafka_client_config(settings)
    with psycopg.connect(settings.conninfo("admin"), autocommit=True) as conn:
        while not samples.stop.wait(every):
            lag = landing_lag(conn, config, [topic])[topic]
            samples.points.append((time.perf_counter() - began, lag, rss_mb(pid)))


def produce_paced(settings, topic: str, rate: int, seconds: float, worker: subprocess.Popen) -> int:
    """Produce ``rate`` events per second for ``seconds`` (caught up tick by tick), all acknowledged; returns count."""
    schema = ORDERS.registry().get(ORDERS.schema)
    producer = Producer({**kafka_client_config(settings), "enable.idempotence": True, "linger.ms": 20,
                         "compression.type": "lz4"})
    started = time.perf_counter()
    total, produced = int(seconds * rate), 0
    while produced < total:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode}")
        due = min(int((time.perf_counter() - started) * rate), total)
        for i in range(produced, due):
            while True:
                try:
                    producer.produce(topic, key=f"B{i:07d}".encode(), value=encode(schema, order(i)))
                    break
                except BufferError:
                    producer.poll(0.05)
        produced = max(produced, due)
        producer.poll(0)
        time.sleep(0.02)
    if producer.flush(120):
        raise RuntimeError("events left undelivered")
    return produced


def start_worker(domain: str, batch_size: int, workdir: Path) -> subprocess.Popen:
    """One ``stream-processors worker`` landing ``domain``'s orders topic (a pipeline.yml of one source)."""
    pipeline = workdir / "pipeline.yml"
    pipeline.write_text(json.dumps({"sources": [{
        "name": "soak", "domain": domain, "entity": "orders", "schema": ORDERS.schema, "format": "csv",
        "path": str(workdir / "unused.csv"), "key": ["order_id"], "event_time": "order_ts"}]}))
    return subprocess.Popen([str(Path(sys.prefix) / "bin" / "stream-processors"), "--config", str(pipeline),
                             "worker", "--app-id", f"soak-{domain}", "--batch-size", str(batch_size)],
                            stdout=(workdir / "worker.log").open("wb"), stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)


def drain(settings, topic: str, worker: subprocess.Popen) -> float:
    """Seconds until the worker has landed everything produced."""
    started = time.perf_counter()
    with psycopg.connect(settings.conninfo("admin"), autocommit=True) as conn:
        while time.perf_counter() - started < DRAIN_TIMEOUT:
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited with {worker.returncode}")
            if not landing_lag(conn, kafka_client_config(settings), [topic])[topic]:
                return time.perf_counter() - started
            time.sleep(0.5)
    raise RuntimeError(f"not drained in {DRAIN_TIMEOUT} s")


def percentile(values: list[int], share: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@click.command()
@click.option("--minutes", type=click.FloatRange(min=0.1), default=30.0, show_default=True)
@click.option("--rate", type=click.IntRange(min=1), default=10_000, show_default=True, help="events produced per s")
@click.option("--batch-size", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--sample-seconds", type=click.FloatRange(min=0.5), default=5.0, show_default=True)
def main(minutes: float, rate: int, batch_size: int, sample_seconds: float) -> None:
    """Land a paced stream for ``--minutes``; print lag and memory over time and the exactly-once check."""
    settings = get_settings()
    domain = f"bench{uuid.uuid4().hex[:8]}"
    topic = topic_name(domain, "orders", 1)
    samples = Samples()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            worker = start_worker(domain, batch_size, Path(tmp))
            try:
                began = time.perf_counter()
                sampler = threading.Thread(target=sample, daemon=True,
                                           args=(settings, topic, worker.pid, sample_seconds, began, samples))
                sampler.start()
                produced = produce_paced(settings, topic, rate, minutes * 60, worker)
                produced_in = time.perf_counter() - began
                drained_in = drain(settings, topic, worker)
                samples.stop.set()
                sampler.join()
            finally:
                worker.terminate()
                worker.wait(timeout=60)
        with psycopg.connect(settings.conninfo("admin")) as conn:
            rows, distinct = conn.execute(sql.SQL("SELECT count(*), count(DISTINCT order_id) FROM {}").format(
                sql.Identifier(RAW_SCHEMA, raw_table_name(domain, "orders")))).fetchone()
    finally:
        samples.stop.set()
        clean_up(settings, [domain])
    report(samples.points, produced, produced_in, drained_in, rows, distinct, minutes, rate)


def report(points: list[tuple[float, int, float]], produced: int, produced_in: float, drained_in: float,
           rows: int, distinct: int, minutes: float, rate: int) -> None:
    lags = [lag for _, lag, _ in points]
    settled = [lag for t, lag, _ in points if t > WARM_UP] or lags
    memory = [mb for _, _, mb in points if mb]
    print(f"soak: {minutes:g} min at {rate:,} events/s asked, one worker, lag sampled {len(points)} times")
    print(f"produced            {produced:,} events in {produced_in:.0f} s ({produced / produced_in:,.0f}/s)")
    print(f"consumer lag        max {max(lags):,}  p95 {percentile(lags, 0.95):,}  median "
          f"{statistics.median(lags):,.0f} events (max {max(lags) / rate:.1f} s of production)")
    print(f"  after {WARM_UP} s      max {max(settled):,}  p95 {percentile(settled, 0.95):,}  (worker start-up excluded)")
    print(f"drained after end   {drained_in:.1f} s")
    print(f"worker RSS MiB      min/median/max {min(memory):.0f}/{statistics.median(memory):.0f}/{max(memory):.0f}")
    print(f"raw rows            {rows:,}  distinct keys {distinct:,}  (produced {produced:,})")
    print("result              " + ("exactly once" if rows == distinct == produced else "MISMATCH"))
    step = max(1, len(points) // 30)
    print("over time (s: lag, MiB): " + ", ".join(f"{t:.0f}: {lag:,}, {mb:.0f}" for t, lag, mb in points[::step]))
    if not rows == distinct == produced:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
