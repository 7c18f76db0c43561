"""The pipeline's own long-running processes in the local stack.

The landing worker (``stream-processors worker``), the demo customers API and the
dashboard run
like the other services: detached, with a pidfile, a log under ``<home>/logs``
and a readiness check, so ``start``/``stop``/``status``/``logs`` cover them too.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
from confluent_kafka.admin import AdminClient

from stack.processes import (
    Deadline,
    Port,
    ServiceStatus,
    ensure_dir,
    ensure_ports_free,
    pid_alive,
    remove_stale_pidfile,
    running_pid,
    spawn,
    terminate,
    wait_until,
)
from streammart.contract import LANDING_GROUP
from streammart.settings import PROJECT_ROOT, Settings, kafka_client_config

START_TIMEOUT = 90.0


@dataclass(frozen=True)
class PipelineProcess:
    """A console script of this project run as a stack service."""

    name: str
    script: str
    args: Callable[[Settings], tuple[str, ...]]
    ready: Callable[[Settings, int], bool]  # (settings, pid of the process)
    address: Callable[[Settings], str]
    ports: Callable[[Settings], list[Port]] = lambda _: []
    marker: str | None = None  # what the process's command line shows, when it retitles itself
    roles: tuple[str, ...] = ()  # the Postgres roles whose credentials the process gets, and no others
    kafka_client: bool = False  # gets the Kafka login (when the broker asks for one)

    @property
    def cmdline_marker(self) -> str:
        return self.marker or self.script

    def pidfile(self, settings: Settings) -> Path:
        return settings.home / "pids" / f"{self.name}.pid"

    def log(self, settings: Settings) -> Path:
        return settings.home / "logs" / f"{self.name}.log"

    def log_paths(self, settings: Settings) -> list[Path]:
        return [self.log(settings)]

    def command(self, settings: Settings) -> list[str]:
        return [str(Path(sys.prefix) / "bin" / self.script), *self.args(settings)]

    def running(self, settings: Settings) -> int | None:
        return running_pid(self.pidfile(settings), self.cmdline_marker)

    def start(self, settings: Settings) -> str:
        clock = Deadline(START_TIMEOUT)
        pid = self.running(settings)
        if pid is not None:
            wait_until(lambda: self.ready(settings, pid), what=self.name, timeout=START_TIMEOUT,
                       log_paths=self.log_paths(settings))
            return f"already running (pid {pid})"
        remove_stale_pidfile(self.pidfile(settings), self.cmdline_marker)
        ensure_ports_free(self.ports(settings), self.name)
        ensure_dir(self.pidfile(settings).parent)
        pid = spawn(self.command(settings), env=settings.child_env(self.roles, self.kafka_client), log_path=self.log(settings), pidfile=self.pidfile(settings),
                    cwd=PROJECT_ROOT)
        wait_until(lambda: self.ready(settings, pid), what=self.name, timeout=START_TIMEOUT,
                   log_paths=self.log_paths(settings), alive=lambda: pid_alive(pid), interval=0.5)
        return f"started in {clock.elapsed:.1f} s (pid {pid}); {self.address(settings)}"

    def stop(self, settings: Settings) -> str:
        pid = self.running(settings)
        if pid is not None:
            terminate(pid, what=self.name, timeout=30.0)
        self.pidfile(settings).unlink(missing_ok=True)
        return f"stopped (pid {pid})" if pid is not None else "not running"

    def status(self, settings: Settings) -> list[ServiceStatus]:
        pid = self.running(settings)
        if pid is None:
            return [ServiceStatus(self.name, "stopped", address=self.address(settings))]
        try:
            ready = self.ready(settings, pid)
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            ready = False
        return [ServiceStatus(self.name, "running" if ready else "starting", pid, self.address(settings))]


def landing_worker_joined(settings: Settings, pid: int) -> bool:
    """The worker ``pid`` is a member of its consumer group and the group is stable."""
    admin = AdminClient({**kafka_client_config(settings), "log_level": 3})
    group = admin.describe_consumer_groups([LANDING_GROUP])[LANDING_GROUP].result(timeout=5)
    suffix = f"-{pid}"
    return group.state.name == "STABLE" and any(m.client_id.endswith(suffix) for m in group.members)


def demo_api_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.demo_api_port}/api/"


def demo_api_answers(settings: Settings, _pid: int) -> bool:
    return requests.get(f"http://127.0.0.1:{settings.demo_api_port}/health", timeout=2).ok


def dashboard_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.dashboard_port}/"


def dashboard_answers(settings: Settings, _pid: int) -> bool:
    return requests.get(f"{dashboard_url(settings)}health", timeout=2).ok


processors = PipelineProcess(
    name="processors",
    script="stream-processors",
    args=lambda s: ("worker", "--app-id", LANDING_GROUP, "--metrics-port", str(s.worker_metrics_port)),
    ready=landing_worker_joined,
    address=lambda s: f"consumer group {LANDING_GROUP}, metrics {s.worker_metrics_url}",
    ports=lambda s: [Port(s.worker_metrics_port, "STREAMMART_WORKER_METRICS_PORT")],
    # In the command line (`--app-id streammart-landing`) and in the title Faust gives the
    # process (`[Faust:Worker] -init- streammart-landing …`): a worker re-executing itself
    # for a new pipeline config shows the first, then the second, and is ours throughout.
    marker=LANDING_GROUP,
    roles=("ingest",),
    kafka_client=True,
)

demo_api = PipelineProcess(
    name="demo-api",
    script="producers",
    args=lambda _: ("demo-api",),
    ready=demo_api_answers,
    address=demo_api_url,
    ports=lambda s: [Port(s.demo_api_port, "STREAMMART_DEMO_API_PORT")],
)

dashboard = PipelineProcess(
    name="dashboard",
    script="streammart-dashboard",
    args=lambda _: (),
    ready=dashboard_answers,
    address=dashboard_url,
    ports=lambda s: [Port(s.dashboard_port, "STREAMMART_DASHBOARD_PORT")],
    roles=("reader",),
)
