"""Fixtures for tests against the real local stack (Kafka + Postgres).

`make test` starts the stack before pytest; these fixtures only check that it
answers, and give each test its own scratch domain (topics, raw tables,
consumer group) so tests never see each other's or the demo's data.
"""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from confluent_kafka import Consumer, Message, Producer
from confluent_kafka.admin import AdminClient
from psycopg import sql

from producers.demo_api import make_server
from producers.parsing import FieldError, RecordParser
from schemas import load_registry
from schemas.wire import encode
from stream_processors.lag import landing_lag
from streammart.contract import DEAD_LETTERS_TABLE, OFFSETS_TABLE, RAW_SCHEMA, qualified, raw_table_name, topic_name
from streammart.pipeline import SourceConfig
from streammart.settings import PROJECT_ROOT, kafka_client_config

BIN = Path(sys.executable).parent
SAMPLE = PROJECT_ROOT / "data" / "retail"


def wait_for(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.25) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def settings(running_stack):
    return running_stack


@pytest.fixture(scope="session")
def admin(settings) -> Iterator[psycopg.Connection]:
    try:
        conn = psycopg.connect(settings.conninfo("admin"), autocommit=True, connect_timeout=5)
    except (psycopg.OperationalError, RuntimeError) as exc:
        pytest.fail(f"the local stack's Postgres is not reachable (run `make test`, or start the stack): {exc}")
    with conn:
        yield conn


@pytest.fixture(scope="session")
def kafka_config(settings) -> dict[str, str]:
    config = kafka_client_config(settings)
    try:
        AdminClient(config).list_topics(timeout=10)
    except Exception as exc:
        pytest.fail(f"the local stack's Kafka is not reachable at {config['bootstrap.servers']}: {exc}")
    return config


@dataclass
class Scratch:
    """A throw-away domain: its own topics, raw tables and consumer group."""

    domain: str
    tmp: Path

    @property
    def app_id(self) -> str:
        return f"test-landing-{self.domain}"

    def topic(self, entity: str) -> str:
        return topic_name(self.domain, entity, 1)

    def table_name(self, entity: str) -> str:
        return raw_table_name(self.domain, entity)

    def table(self, entity: str) -> sql.Identifier:
        return sql.Identifier(RAW_SCHEMA, self.table_name(entity))

    def pipeline(self, orders_csv: Path, api_url: str) -> Path:
        return self.pipeline_of(orders_source(self.domain, orders_csv), customers_source(self.domain, api_url))

    def pipeline_of(self, *sources: dict) -> Path:
        """A pipeline config of these sources (dicts of pipeline.yml keys)."""
        path = self.tmp / "pipeline.yml"
        path.write_text(json.dumps({"sources": list(sources)}))
        return path


def orders_source(domain: str, orders_csv: Path) -> dict:
    """The orders CSV as a source of ``domain`` (config keys as in pipeline.yml)."""
    return {"name": "orders", "domain": domain, "entity": "orders", "schema": "retail.orders.v1", "format": "csv",
            "path": str(orders_csv), "key": ["order_id"], "event_time": "order_ts",
            "date_formats": ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]}


def customers_source(domain: str, api_url: str) -> dict:
    return {"name": "customers", "domain": domain, "entity": "customers", "schema": "retail.customers.v1",
            "format": "http", "url": api_url, "pagination": {"page_size": 50}, "records_path": "data",
            "key": ["customer_id"], "event_time": "updated_at", "date_formats": ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]}


def orders_parser() -> RecordParser:
    """Parses orders exactly as the test pipelines' orders source does."""
    return RecordParser(SourceConfig.model_validate(orders_source("retail", SAMPLE / "orders.csv")))


@pytest.fixture
def scratch(tmp_path, admin, kafka_config) -> Iterator[Scratch]:
    scratch = Scratch(f"t{uuid.uuid4().hex[:10]}", tmp_path)
    yield scratch
    drop_scratch(admin, kafka_config, scratch)


def drop_scratch(admin: psycopg.Connection, kafka_config: dict[str, str], scratch: Scratch) -> None:
    """Every raw table, landed position, dead letter, topic (Faust's own included) and the consumer group
    of the scratch domain."""
    tables = admin.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                           "AND starts_with(table_name, %s)", (RAW_SCHEMA, scratch.table_name(""))).fetchall()
    for (table,) in tables:
        admin.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(RAW_SCHEMA, table)))
    for bookkeeping in (OFFSETS_TABLE, DEAD_LETTERS_TABLE):
        admin.execute(sql.SQL("DELETE FROM {} WHERE topic LIKE %s").format(
            sql.Identifier(RAW_SCHEMA, bookkeeping)), (f"{scratch.domain}.%",))
    client = AdminClient(kafka_config)
    topics = [t for t in client.list_topics(timeout=10).topics
              if t.startswith((f"{scratch.domain}.", f"{scratch.app_id}-"))]
    if topics:
        for future in client.delete_topics(topics).values():
            future.result(timeout=30)
    client.delete_consumer_groups([scratch.app_id])


@contextmanager
def serve_api(folder: Path) -> Iterator[str]:
    """Serves a folder's ``*.json`` arrays like the demo API; yields the base URL."""
    server = make_server(folder, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api_server() -> Iterator[Callable[[Path], str]]:
    """``api_server(folder)`` serves it for the rest of the test; returns the base URL."""
    with ExitStack() as stack:
        yield lambda folder: stack.enter_context(serve_api(folder))


def run_producers(pipeline: Path, rejects_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """The real ``producers run`` CLI; ``args`` adds sources and options."""
    return subprocess.run([BIN / "producers", "--config", str(pipeline), "run", "--rejects-dir", str(rejects_dir),
                           "--no-progress", *args], capture_output=True, text=True, timeout=180, cwd=PROJECT_ROOT)


class Worker:
    """A real `stream-processors worker` process, stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, pipeline: Path, app_id: str, log: Path, env: dict[str, str] | None = None,
                 extra_args: Iterable[str] = ()):
        self.args = [str(BIN / "stream-processors"), "--config", str(pipeline), "worker", "--app-id", app_id,
                     "--batch-seconds", "0.2", *extra_args]
        self.log = log
        self.env = env or os.environ.copy()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Worker":
        handle = self.log.open("ab")
        self.process = subprocess.Popen(self.args, stdout=handle, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
                                        env=self.env)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no flush, no commit, no goodbye — a crash."""
        self.process.kill()
        self.process.wait(timeout=30)

    def __exit__(self, *_) -> None:
        if not self.alive():
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def caught_up(conn: psycopg.Connection, kafka_config: dict[str, str], topic: str) -> Callable[[], bool]:
    """True once Postgres has landed (or dead-lettered) everything Kafka holds for ``topic``."""
    return lambda: landing_lag(conn, kafka_config, [topic])[topic] == 0


def count(conn: psycopg.Connection, table: sql.Identifier) -> int:
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0]


def landed_orders(conn: psycopg.Connection, scratch: Scratch) -> int:
    """Rows in the scratch orders table; 0 before the worker has created it."""
    exists = conn.execute("SELECT to_regclass(%s)", (qualified(scratch.table_name("orders")),)).fetchone()[0]
    return count(conn, scratch.table("orders")) if exists else 0


def orders_landing_counts(conn: psycopg.Connection, scratch: Scratch) -> tuple[int, int, int]:
    """(rows, distinct order ids, distinct Kafka positions): all equal to the events sent when landed exactly once."""
    return conn.execute(sql.SQL(
        "SELECT count(*), count(DISTINCT order_id), count(DISTINCT (_partition, _offset)) FROM {}").format(
        scratch.table("orders"))).fetchone()


def land(settings, pipeline: Path, app_id: str, topics: list[str], log: Path, timeout: float = 180) -> None:
    """Run a worker until Postgres holds everything Kafka has for ``topics``."""
    config = kafka_client_config(settings)
    with psycopg.connect(settings.conninfo("admin"), autocommit=True) as conn, Worker(pipeline, app_id, log) as worker:
        for topic in topics:
            wait_for(lambda: worker.alive() and caught_up(conn, config, topic)(), timeout,
                     f"{topic} to be landed (log: {log})")


def expected_daily(orders_csv: Path) -> dict[tuple[str, date], tuple[int, int, int, Decimal]]:
    """(customer, day) → (orders, cancelled, items, revenue), computed here from the file.

    The rules the marts promise: the last exported version of an order wins,
    status is compared case- and padding-insensitively, cancelled orders count
    as orders but bring no items or revenue.
    """
    parser = orders_parser()
    latest = {}
    with orders_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                record = parser.parse(row)
            except FieldError:
                continue
            latest[record["order_id"]] = record
    daily: dict[tuple[str, date], list] = defaultdict(lambda: [0, 0, 0, Decimal("0.00")])
    for record in latest.values():
        group = daily[(record["customer_id"], record["order_ts"].date())]
        group[0] += 1
        if record["status"].strip().lower() == "cancelled":
            group[1] += 1
        else:
            group[2] += record["quantity"]
            group[3] += record["amount"]
    return {key: tuple(value) for key, value in daily.items()}


@pytest.fixture(scope="session")
def retail_landed(running_stack, tmp_path_factory) -> Scratch:
    """The shipped sample produced into the real retail topics and landed in raw.retail__*."""
    scratch = Scratch("retail", tmp_path_factory.mktemp("retail"))
    with serve_api(SAMPLE) as api:
        pipeline = scratch.pipeline(SAMPLE / "orders.csv", f"{api}/customers")
        assert run_producers(pipeline, scratch.tmp / "rejects").returncode == 0
    land(running_stack, pipeline, "test-retail-landing", [scratch.topic("orders"), scratch.topic("customers")],
         scratch.tmp / "worker.log")
    return scratch


def produce(kafka_config: dict[str, str], topic: str, schema_name: str, records: Iterable[dict[str, Any]],
            key: str, schema_dir: Path | None = None) -> None:
    """Each record as one Avro event keyed by its ``key`` field, every one acknowledged by Kafka.

    ``schema_dir``: contracts other than the shipped ones (an evolved version, say)."""
    schema = load_registry(schema_dir).get(schema_name)
    producer = Producer({**kafka_config, "enable.idempotence": True, "linger.ms": 20})
    for record in records:
        while True:
            try:
                producer.produce(topic, key=record[key].encode(), value=encode(schema, record))
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(60) == 0


def order(i: int, **changes: Any) -> dict[str, Any]:
    """Order K<i> as the contract holds it (``changes`` override fields)."""
    return {"order_id": f"K{i:06d}", "customer_id": f"C{i % 500}", "product_id": None,
            "order_ts": datetime(2024, 6, 1, tzinfo=timezone.utc) + timedelta(seconds=i), "quantity": 1,
            "unit_price": Decimal("1.00"), "amount": Decimal("1.00"), "currency": "USD", "status": "paid",
            **changes}


def produce_orders(kafka_config: dict[str, str], topic: str, n: int, first: int = 0) -> None:
    """Orders K<first>… K<first + n - 1>, one event each."""
    produce(kafka_config, topic, "retail.orders.v1", (order(i) for i in range(first, first + n)), "order_id")


def read_topic(kafka_config: dict[str, str], topic: str, count: int, timeout: float = 60) -> list[Message]:
    """The first ``count`` messages of ``topic`` (all partitions), read with a throw-away consumer group."""
    consumer = Consumer({**kafka_config, "group.id": f"test-read-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    captured: list[Message] = []

    def received() -> bool:
        message = consumer.poll(1.0)
        if message is not None and message.error() is None:
            captured.append(message)
        return len(captured) >= count

    try:
        wait_for(received, timeout, f"{count} messages on {topic}", interval=0)
    finally:
        consumer.close()
    return captured
