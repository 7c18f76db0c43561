"""A Postgres + Kafka (one node or a cluster) of their own, under a temporary home on free ports, for fault runs.

Restarting the servers of a shared stack would pull the ground from under Airflow and
anything else using it; the restart tests and the fault bench start one of these
instead, through the real ``streammart-stack`` command, and purge it afterwards.
"""
from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from stack import kafka
from stack.processes import port_is_free
from stack.services import with_secrets
from streammart.settings import KAFKA_NODE_PORT_STEP, PROJECT_ROOT, Settings, kafka_client_config, load_settings

STACK_COMMAND = Path(sys.executable).parent / "streammart-stack"


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


LOWEST_BLOCK_PORT = 20000  # above the stacks' own ports (15xxx-19xxx)


def ephemeral_ports_start() -> int:
    """The first port the kernel hands out to outgoing connections (Linux: 32768 unless tuned)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port_block(size: int, attempts: int = 200) -> int:
    """The first of ``size`` consecutive free loopback ports, below the ephemeral range.

    Below it because a port the kernel may give any outgoing connection can be
    taken between this check and the server binding it (seen: a Kafka node losing
    its controller port to another stack's client while Postgres started).
    """
    highest = ephemeral_ports_start() - size
    for _ in range(attempts):
        first = random.randrange(LOWEST_BLOCK_PORT, highest)
        if all(port_is_free(port) for port in range(first, first + size)):
            return first
    raise RuntimeError(f"no {size} consecutive free ports on loopback below {highest + size} after {attempts} tries")


@dataclass
class ThrowawayStack:
    """Postgres + Kafka started by ``streammart-stack`` under ``home``; ``env`` reaches them."""

    home: Path
    env: dict[str, str]
    settings: Settings

    def run(self, *args: str) -> None:
        result = subprocess.run([str(STACK_COMMAND), *args], env=self.env, capture_output=True, text=True,
                                timeout=300, cwd=PROJECT_ROOT)
        if result.returncode != 0:
            raise RuntimeError(f"streammart-stack {' '.join(args)} failed:\n{result.stdout}{result.stderr}")

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


def share_kafka_jars(home: Path) -> None:
    """Hard-link the Kafka jars the calling shell's stack already holds into ``home``.

    Fetching them again with Maven costs ~40 s of a throwaway stack's start; a
    missing or other-version source leaves the fetch to ``streammart-stack start``.
    """
    source = kafka.paths(load_settings()).libs
    marker = source / kafka.LIBS_MARKER
    if not marker.exists() or marker.read_text().strip() != kafka.pinned_version():
        return
    try:
        shutil.copytree(source, kafka.paths(Settings(home=home)).libs, copy_function=os.link)
    except OSError:  # another filesystem: let Maven fetch them
        shutil.rmtree(kafka.paths(Settings(home=home)).libs, ignore_errors=True)


@contextmanager
def throwaway_stack(prefix: str = "streammart-throwaway-",
                    overrides: Mapping[str, str] | None = None) -> Iterator[ThrowawayStack]:
    """``overrides``: further settings of the stack and its clients, e.g. ``{"kafka_sasl": "scram"}``
    or ``{"kafka_brokers": "3"}`` for a three-node Kafka cluster."""
    # Not under a 0700 temporary directory: Postgres runs as the postgres OS user when started by root.
    home = Path(tempfile.mkdtemp(prefix=prefix))
    home.chmod(0o755)
    overrides = dict(overrides or {})
    brokers = int(overrides.get("kafka_brokers", 1))
    pg_port = free_port_block(1 + KAFKA_NODE_PORT_STEP * brokers)  # then each Kafka node's client, controller port
    kafka_port, controller_port = pg_port + 1, pg_port + 2
    ports = {"STREAMMART_PG_PORT": pg_port, "STREAMMART_KAFKA_PORT": kafka_port,
             "STREAMMART_KAFKA_CONTROLLER_PORT": controller_port}
    env = {**os.environ, "STREAMMART_HOME": str(home), **{name: str(port) for name, port in ports.items()},
           **{f"STREAMMART_{key.upper()}": value for key, value in overrides.items()}}
    own = ThrowawayStack(home, env, Settings(home=home, pg_port=pg_port, kafka_port=kafka_port,
                                             kafka_controller_port=controller_port, **overrides))
    share_kafka_jars(home)
    try:
        own.run("start", "postgres", "kafka")
        own.settings = with_secrets(own.settings)
        yield own
    finally:
        try:
            own.run("stop", "--purge")
        finally:
            shutil.rmtree(home, ignore_errors=True)
