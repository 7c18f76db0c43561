"""Exactly once across server restarts: Postgres, then the Kafka broker, go down mid-stream and come back.

The worker must ride both out on its own (no restart of the worker), and raw
must end with every event exactly once. These tests bring up a stack of their
own (Postgres + Kafka under a temporary home, on free ports): restarting the
shared test stack would pull the ground from under Airflow and the other tests.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from stack.services import with_secrets
from streammart.settings import PROJECT_ROOT, Settings, kafka_client_config
from streammart.topics import ensure_topics
from tests.integration.conftest import (BIN, Scratch, Worker, landed_orders, orders_landing_counts, produce_orders,
                                       wait_for)
from stream_processors.lag import landing_lag

pytestmark = pytest.mark.services
EVENTS = 60_000


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class OwnStack:
    """Postgres + Kafka started by ``streammart-stack`` for this module only."""

    home: Path
    env: dict[str, str]
    settings: Settings | None = None

    def run(self, *args: str) -> None:
        result = subprocess.run([str(BIN / "streammart-stack"), *args], env=self.env, capture_output=True,
                                text=True, timeout=300, cwd=PROJECT_ROOT)
        assert result.returncode == 0, f"streammart-stack {' '.join(args)} failed:\n{result.stdout}{result.stderr}"

    def restart(self, service: str) -> None:
        self.run("stop", service)
        self.run("start", service)

    @property
    def kafka_config(self) -> dict[str, str]:
        return kafka_client_config(self.settings)

    def query(self, read: Callable[[psycopg.Connection], Any]) -> Any:
        """A fresh connection per question: the server under test comes and goes."""
        with psycopg.connect(self.settings.conninfo("admin"), autocommit=True, connect_timeout=5) as conn:
            return read(conn)


@pytest.fixture(scope="module")
def own_stack() -> Iterator[OwnStack]:
    # Not under pytest's 0700 tmp dirs: the Postgres server runs as the postgres OS user when tests run as root.
    home = Path(tempfile.mkdtemp(prefix="streammart-restarts-"))
    home.chmod(0o755)
    pg_port, kafka_port, controller_port = free_ports(3)
    ports = {"STREAMMART_PG_PORT": pg_port, "STREAMMART_KAFKA_PORT": kafka_port,
             "STREAMMART_KAFKA_CONTROLLER_PORT": controller_port}
    env = {**os.environ, "STREAMMART_HOME": str(home), **{name: str(port) for name, port in ports.items()}}
    own = OwnStack(home, env)
    try:
        own.run("start", "postgres", "kafka")
        own.settings = with_secrets(Settings(home=home, pg_port=pg_port, kafka_port=kafka_port,
                                             kafka_controller_port=controller_port))
        yield own
    finally:
        own.run("stop", "--purge")
        shutil.rmtree(home, ignore_errors=True)


def _land_through(own: OwnStack, scratch: Scratch, outage: Callable[[], None]) -> str:
    """Half the events, a worker, ``outage`` once landing is under way, then the other half; the worker's log.

    The second half exists only after the outage, so landing it proves the worker
    came through the outage itself, not just a buffer fetched before it.
    """
    topic = scratch.topic("orders")
    half = EVENTS // 2
    ensure_topics(own.kafka_config, [topic], 6)
    produce_orders(own.kafka_config, topic, half)
    pipeline = scratch.pipeline(scratch.tmp / "unused.csv", "http://127.0.0.1:9/unused")

    def landed() -> int:
        return own.query(lambda conn: landed_orders(conn, scratch))

    log = scratch.tmp / "worker.log"
    with Worker(pipeline, scratch.app_id, log, env=own.env) as worker:
        wait_for(lambda: worker.alive() and landed() > 0, 120, "landing to make progress", interval=0.05)
        landed_before = landed()
        outage()
        produce_orders(own.kafka_config, topic, EVENTS - half, first=half)
        wait_for(lambda: worker.alive() and own.query(lambda c: landing_lag(c, own.kafka_config, [topic])[topic]) == 0,
                 240, f"{topic} to be landed after the restart (log: {log})", interval=0.5)
    assert landed_before < half, "the restart came after landing had finished: the test proved nothing"

    assert own.query(lambda conn: orders_landing_counts(conn, scratch)) == (EVENTS, EVENTS, EVENTS)
    return log.read_text(errors="replace")


def test_postgres_restart_mid_stream_loses_and_duplicates_nothing(own_stack, tmp_path):
    log = _land_through(own_stack, Scratch("tpgrestart", tmp_path), lambda: own_stack.restart("postgres"))
    assert "retrying in" in log, "the worker never met the outage: the test proved nothing"


def test_kafka_broker_restart_mid_stream_loses_and_duplicates_nothing(own_stack, tmp_path):
    log = _land_through(own_stack, Scratch("tkafkarestart", tmp_path), lambda: own_stack.restart("kafka"))
    assert re.search(r"connect(ion)?\b.*\b(refused|failed|closed)", log, re.IGNORECASE), \
        "the worker never lost its broker: the test proved nothing"
