"""Pidfiles, ports, listening sockets and readiness polling, shared by every service.

Each service module (postgres, kafka, airflow) only says *what* to run and *how to
tell it is ready*; the mechanics of spawning a detached process, deciding whether a
pidfile still points at our process, checking a port before binding it and polling
with a deadline live here, once.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
LOG_TAIL_LINES = 20


class StackError(RuntimeError):
    """A failure the CLI reports as a clear message (no traceback)."""


class PortConflict(StackError):
    """A port the stack needs is taken by something that is not the stack."""


class ReadinessTimeout(StackError):
    """A service did not become ready before its deadline (or exited while starting)."""


@dataclass(frozen=True)
class Port:
    """A TCP port the stack binds, with the setting that moves it elsewhere."""

    number: int
    env_var: str


@dataclass
class ServiceStatus:
    """One line of ``python -m stack status``."""

    name: str
    state: str  # "running", "stopped", "starting", "unhealthy"
    pid: int | None = None
    address: str | None = None
    detail: str = ""

    @property
    def up(self) -> bool:
        return self.state == "running"


# --------------------------------------------------------------------------- pids


def pid_alive(pid: int) -> bool:
    """True when ``pid`` exists and is not a zombie (a zombie still answers kill 0)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    # state is the field after the parenthesised command name
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def process_cmdline(pid: int) -> str:
    """The command line of ``pid`` as one string ("" when it cannot be read)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def read_pid(pidfile: Path) -> int | None:
    """The pid on the first line of ``pidfile`` (postmaster.pid has more lines)."""
    try:
        first = pidfile.read_text().splitlines()[0].strip()
        return int(first)
    except (OSError, IndexError, ValueError):
        return None


def write_pid(pidfile: Path, pid: int) -> None:
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.write_text(f"{pid}\n")


def running_pid(pidfile: Path, marker: str) -> int | None:
    """The pid from ``pidfile`` if that process is alive *and* is ours.

    ``marker`` must appear in the process's command line: after a reboot or a
    kill -9 the recorded pid may have been reused by an unrelated process, which
    must not be mistaken for (or signalled as) a stack service.
    """
    pid = read_pid(pidfile)
    if pid is None or not pid_alive(pid):
        return None
    if marker not in _settled_cmdline(pid):
        return None
    return pid


EXEC_SETTLE_SECONDS = 0.5


def _settled_cmdline(pid: int) -> str:
    """``pid``'s command line, waiting out the moment inside exec when the kernel shows it empty.

    Right after ``spawn`` returns, the child has passed the point of no return of
    exec but may not have its new argument pages yet: ``/proc/<pid>/cmdline`` reads
    empty for that instant (seen under CI load), which must not read as "not ours".
    """
    cmdline = process_cmdline(pid)
    deadline = time.monotonic() + EXEC_SETTLE_SECONDS
    while not cmdline and pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
        cmdline = process_cmdline(pid)
    return cmdline


def remove_stale_pidfile(pidfile: Path, marker: str) -> None:
    """Delete ``pidfile`` when it no longer names a live process of ours."""
    if pidfile.exists() and running_pid(pidfile, marker) is None:
        pidfile.unlink(missing_ok=True)


def spawn(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    pidfile: Path,
    cwd: Path | None = None,
) -> int:
    """Start ``cmd`` detached (own session, stdin closed, output appended to ``log_path``).

    The process outlives the CLI that started it; its process group id equals its
    pid, so :func:`terminate` can also stop the workers it forks.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab", buffering=0) as out:
        out.write(f"\n---- {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(cmd)}\n".encode())
        proc = subprocess.Popen(
            list(cmd),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    write_pid(pidfile, proc.pid)
    return proc.pid


def terminate(pid: int, *, what: str, timeout: float = 30.0, group: bool = True) -> None:
    """SIGTERM ``pid`` (and its process group), wait up to ``timeout``, then SIGKILL."""

    def send(sig: int) -> None:
        try:
            if group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:  # not a group leader we own: signal the process only
            os.kill(pid, sig)

    send(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.1)
    log.warning("%s: still running %.0f s after SIGTERM, sending SIGKILL", what, timeout)
    send(signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)


# -------------------------------------------------------------------------- ports


def port_answers(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when ``host:port`` can be bound now.

    SO_REUSEADDR is set, as servers do, so sockets of a just-stopped service in
    TIME_WAIT do not count as a conflict; a listener on the port (on this address
    or on 0.0.0.0) does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class Listener:
    """A listening TCP socket found in /proc/net/tcp{,6}."""

    address: str
    port: int
    inode: int

    @property
    def loopback_only(self) -> bool:
        return ipaddress.ip_address(self.address).is_loopback


def _decode_proc_address(hex_addr: str) -> str:
    raw = bytes.fromhex(hex_addr)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    # IPv6: four 32-bit words, each in host (little-endian) order
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    addr = ipaddress.IPv6Address(words)
    return str(addr.ipv4_mapped or addr)


def listeners(port: int | None = None) -> list[Listener]:
    """Listening TCP sockets on this host (optionally only those on ``port``)."""
    found: list[Listener] = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != "0A":  # 0A = LISTEN
                continue
            hex_addr, hex_port = fields[1].split(":")
            number = int(hex_port, 16)
            if port is not None and number != port:
                continue
            found.append(Listener(_decode_proc_address(hex_addr), number, int(fields[9])))
    return found


def socket_owner(inode: int) -> tuple[int, str] | None:
    """(pid, command line) of the process holding socket ``inode``, if visible."""
    target = f"socket:[{inode}]"
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and target in _fd_targets(proc):
            pid = int(proc.name)
            return pid, process_cmdline(pid)
    return None


def _fd_targets(proc: Path) -> set[str]:
    """What each open descriptor of ``proc`` points at.

    A descriptor closed while we list them (a client thread reconnecting) is
    skipped on its own, so it cannot hide the process's other descriptors.
    """
    try:
        fds = list((proc / "fd").iterdir())
    except OSError:
        return set()
    targets = set()
    for fd in fds:
        try:
            targets.add(os.readlink(fd))
        except OSError:
            continue
    return targets


def ensure_ports_free(ports: Iterable[Port], service: str) -> None:
    """Raise :class:`PortConflict` naming the port, its owner and the setting to change."""
    for port in ports:
        if port_is_free(port.number):
            continue
        owner = ""
        for listener in listeners(port.number):
            found = socket_owner(listener.inode)
            if found:
                owner = f" by pid {found[0]} ({found[1][:80]})"
                break
        raise PortConflict(
            f"{service}: port {port.number} on {LOOPBACK} is already in use{owner}. "
            f"Stop that process or choose another port with {port.env_var}=<port>."
        )


# --------------------------------------------------------------------- readiness


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last ``lines`` lines of ``path`` (reads backwards; logs can be large)."""
    if lines <= 0:
        return []
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            end = fh.tell()
            block = 8192
            data = b""
            pos = end
            while pos > 0 and data.count(b"\n") <= lines:
                step = min(block, pos)
                pos -= step
                fh.seek(pos)
                data = fh.read(step) + data
    except OSError:
        return []
    return data.decode(errors="replace").splitlines()[-lines:]


def format_log_tail(log_paths: Sequence[Path], lines: int = LOG_TAIL_LINES) -> str:
    parts = []
    for path in log_paths:
        last = tail(path, lines)
        body = "\n".join(f"    {line}" for line in last) if last else "    (empty)"
        parts.append(f"  last lines of {path}:\n{body}")
    return "\n".join(parts)


@dataclass
class Deadline:
    """A monotonic deadline with the elapsed time for 'started in N s' messages."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def expired(self) -> bool:
        return self.elapsed >= self.seconds


def wait_until(
    check: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    log_paths: Sequence[Path] = (),
    alive: Callable[[], bool] | None = None,
    interval: float = 0.25,
) -> float:
    """Poll ``check`` until it returns True; return the seconds it took.

    A check that raises counts as "not yet" (its message is kept for the error).
    If ``alive`` reports the process gone, fail at once instead of waiting out the
    deadline. On failure the error carries the last lines of ``log_paths``.
    """
    deadline = Deadline(timeout)
    last_problem = ""
    while True:
        try:
            if check():
                return deadline.elapsed
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
            last_problem = f"{type(exc).__name__}: {exc}"
        if alive is not None and not alive():
            raise ReadinessTimeout(
                f"{what}: the process exited while starting.\n{format_log_tail(log_paths)}"
            )
        if deadline.expired:
            hint = f" (last check: {last_problem})" if last_problem else ""
            raise ReadinessTimeout(
                f"{what}: not ready after {timeout:.0f} s{hint}.\n{format_log_tail(log_paths)}"
            )
        time.sleep(interval)


# ------------------------------------------------------------------ directories


def ensure_dir(path: Path, mode: int = 0o755) -> Path:
    """Create ``path`` (and parents) readable and traversable by other users.

    Postgres runs as the ``postgres`` OS user when the shell is root, so every
    directory above its data dir must be traversable regardless of the umask.
    """
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    return path
