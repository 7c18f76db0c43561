"""A Postgres + Kafka of their own, under a temporary home on free ports, for fault runs.

Restarting the servers of a shared stack would pull the ground from under Airflow and
anything else using it; the restart tests and the fault bench start one of these
instead, through the real ``streammart-stack`` command, and purge it afterwards.
"""
from __future__ import annotations

import os
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
from stack.services import with_secrets
from streammart.settings import PROJECT_ROOT, Settings, kafka_client_config, load_settings

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
    """``overrides``: further settings of the stack and its clients, e.g. ``{"kafka_sasl": "scram"}``."""
    # Not under a 0700 temporary directory: Postgres runs as the postgres OS user when started by root.
    home = Path(tempfile.mkdtemp(prefix=prefix))
    home.chmod(0o755)
    pg_port, kafka_port, controller_port = free_ports(3)
    overrides = dict(overrides or {})
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
