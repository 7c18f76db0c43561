"""Dashboard processes of a test's own, with settings that differ from the stack's."""
from __future__ import annotations

import subprocess
from pathlib import Path

import requests

from stack.throwaway import free_ports
from streammart.settings import PROJECT_ROOT
from tests.integration.conftest import BIN, wait_for


def free_port() -> int:
    return free_ports(1)[0]


class DashboardServer:
    """A real ``streammart-dashboard`` process, stopped by ``stop()`` (the fixture stops it at the latest)."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}/"
        with log.open("ab") as handle:
            self.process = subprocess.Popen([BIN / "streammart-dashboard"], env=env, stdout=handle,
                                            stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        wait_for(lambda: self.process.poll() is None and self._answers(), 30,
                 f"a test dashboard at {self.url} (log: {log})")

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}health", timeout=2).ok
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
