"""Pidfiles, port conflicts, listener discovery and readiness polling (no services needed)."""
from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.processes import (
    Port,
    PortConflict,
    ReadinessTimeout,
    ensure_ports_free,
    listeners,
    pid_alive,
    port_answers,
    port_is_free,
    process_cmdline,
    running_pid,
    spawn,
    tail,
    terminate,
    wait_until,
)


@pytest.fixture
def listening_socket() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock
    sock.close()


def test_bound_port_is_reported_as_conflict_naming_port_variable_and_owner(listening_socket: socket.socket) -> None:
    port = listening_socket.getsockname()[1]
    assert not port_is_free(port)
    assert port_answers(port)
    with pytest.raises(PortConflict) as raised:
        ensure_ports_free([Port(port, "STREAMMART_KAFKA_PORT")], "kafka")
    message = str(raised.value)
    assert f"port {port}" in message
    assert "STREAMMART_KAFKA_PORT" in message
    assert f"pid {os.getpid()}" in message


def test_listener_on_all_interfaces_also_conflicts() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("0.0.0.0", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not port_is_free(port)
        found = listeners(port)
        assert found and not any(item.loopback_only for item in found)


def test_port_is_free_again_after_the_listener_closes(listening_socket: socket.socket) -> None:
    port = listening_socket.getsockname()[1]
    listening_socket.close()
    assert port_is_free(port)
    ensure_ports_free([Port(port, "STREAMMART_PG_PORT")], "postgres")


def test_listeners_reports_loopback_address(listening_socket: socket.socket) -> None:
    port = listening_socket.getsockname()[1]
    found = listeners(port)
    assert [item.address for item in found] == ["127.0.0.1"]
    assert found[0].loopback_only


def test_running_pid_requires_live_process_with_marker(tmp_path: Path) -> None:
    pidfile = tmp_path / "x.pid"
    pidfile.write_text(f"{os.getpid()}\n")
    own_marker = process_cmdline(os.getpid()).split()[0]
    assert running_pid(pidfile, own_marker) == os.getpid()
    assert running_pid(pidfile, "no-such-marker-kafka.Kafka") is None  # a reused pid is not ours
    pidfile.write_text("999999999\n")
    assert running_pid(pidfile, own_marker) is None
    pidfile.write_text("garbage\n")
    assert running_pid(pidfile, own_marker) is None
    assert running_pid(tmp_path / "missing.pid", own_marker) is None


def test_spawn_detaches_and_terminate_stops_the_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids" / "sleeper.pid"
    log = tmp_path / "logs" / "sleeper.log"
    script = "import time; print('sleeper up', flush=True); time.sleep(60)"
    pid = spawn([sys.executable, "-c", script], env=os.environ, log_path=log, pidfile=pidfile)
    try:
        assert running_pid(pidfile, "sleeper up") == pid
        assert os.getpgid(pid) == pid  # own process group: stopping it stops its children too
        wait_until(lambda: "sleeper up" in log.read_text(), what="sleeper", timeout=10)
    finally:
        terminate(pid, what="sleeper", timeout=5)
    assert not pid_alive(pid)


def test_wait_until_timeout_shows_last_log_lines(tmp_path: Path) -> None:
    log = tmp_path / "svc.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)) + "FATAL: port in use\n")
    started = time.monotonic()
    with pytest.raises(ReadinessTimeout) as raised:
        wait_until(lambda: False, what="svc", timeout=0.5, log_paths=[log], interval=0.05)
    assert time.monotonic() - started < 3
    message = str(raised.value)
    assert "svc: not ready after" in message
    assert "FATAL: port in use" in message
    assert "line 99" in message and "line 10\n" not in message


def test_wait_until_fails_fast_when_process_exits(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ReadinessTimeout, match="exited while starting"):
        wait_until(lambda: False, what="svc", timeout=60, log_paths=[tmp_path / "none.log"], alive=lambda: False)
    assert time.monotonic() - started < 2


def test_wait_until_counts_exceptions_as_not_ready_and_reports_them() -> None:
    calls = iter([ConnectionRefusedError("refused"), False, True])

    def check() -> bool:
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    assert wait_until(check, what="svc", timeout=5, interval=0.01) >= 0
    with pytest.raises(ReadinessTimeout, match="ConnectionRefusedError: nope"):
        wait_until(lambda: (_ for _ in ()).throw(ConnectionRefusedError("nope")), what="svc", timeout=0.2,
                   interval=0.05)


def test_tail_reads_last_lines_of_large_file(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    path.write_text("".join(f"{i:08d} {'x' * 100}\n" for i in range(20000)))
    last = tail(path, 3)
    assert [line[:8] for line in last] == ["00019997", "00019998", "00019999"]
    assert tail(tmp_path / "absent.log", 3) == []


def test_the_landing_worker_is_ours_before_and_after_faust_retitles_it() -> None:
    """A worker re-executing itself for a new config shows its command line, then Faust's title."""
    from stack.pipeline_processes import processors
    from streammart.contract import LANDING_GROUP
    from streammart.settings import Settings

    spawned = " ".join(processors.command(Settings()))
    faust_title = f"[Faust:Worker] -init- {LANDING_GROUP} -p 6066 /home/.stack/processors/{LANDING_GROUP}"
    assert processors.cmdline_marker in spawned
    assert processors.cmdline_marker in faust_title
