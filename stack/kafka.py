"""Kafka for the local stack: one KRaft node (broker + controller) from the Apache jars.

The jars come from Maven Central through ``stack/pom.xml`` (``mvn
dependency:copy-dependencies``) into ``<home>/kafka/libs``, once per pinned
version: no tarball download, and the version lives in one place (the pom).
The cluster id is generated once and the storage formatted once, so restarts
keep topics and offsets.
"""
from __future__ import annotations

import base64
import logging
import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from stack.config_files import render_template, write_text
from stack.processes import (
    Deadline,
    Port,
    ServiceStatus,
    StackError,
    ensure_dir,
    ensure_ports_free,
    pid_alive,
    port_answers,
    remove_stale_pidfile,
    running_pid,
    spawn,
    terminate,
    wait_until,
)
from streammart.settings import KAFKA_CLIENT_USER, SCRAM_MECHANISM, Settings, kafka_client_config

log = logging.getLogger(__name__)

NAME = "kafka"
POM = Path(__file__).resolve().parent / "pom.xml"
MAIN_CLASS = "kafka.Kafka"
HEAP = ("-Xmx512m", "-Xms256m")
START_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0
LIBS_MARKER = ".kafka-version"
INSTALL_HINT = "install it with: bash stack/install-system-packages.sh"
BROKER_USER = "broker"  # the broker's own SCRAM login on its SASL listener


@dataclass(frozen=True)
class KafkaPaths:
    root: Path
    libs: Path
    data: Path
    config: Path
    cluster_id: Path
    pidfile: Path
    log: Path

    @property
    def server_properties(self) -> Path:
        return self.config / "server.properties"

    @property
    def log4j_properties(self) -> Path:
        return self.config / "log4j.properties"

    @property
    def scram_marker(self) -> Path:
        """Present when the storage was formatted with SCRAM users."""
        return self.root / "scram.formatted"


def paths(settings: Settings) -> KafkaPaths:
    root = settings.home / "kafka"
    return KafkaPaths(
        root=root,
        libs=root / "libs",
        data=root / "data",
        config=root / "config",
        cluster_id=root / "cluster.id",
        pidfile=settings.home / "pids" / "kafka.pid",
        log=settings.home / "logs" / "kafka.log",
    )


def log_paths(settings: Settings) -> list[Path]:
    return [paths(settings).log]


def ports(settings: Settings) -> list[Port]:
    return [
        Port(settings.kafka_port, "STREAMMART_KAFKA_PORT"),
        Port(settings.kafka_controller_port, "STREAMMART_KAFKA_CONTROLLER_PORT"),
    ]


def pinned_version() -> str:
    """The Kafka version pinned in stack/pom.xml (``<kafka.version>``)."""
    match = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", POM.read_text())
    if not match:
        raise StackError(f"kafka: no <kafka.version> property in {POM}")
    return match.group(1)


# ---------------------------------------------------------------- binaries


def _tool(name: str) -> str:
    found = shutil.which(name)
    if name == "java" and not found and os.environ.get("JAVA_HOME"):
        candidate = Path(os.environ["JAVA_HOME"]) / "bin" / "java"
        found = str(candidate) if candidate.exists() else None
    if not found:
        raise StackError(f"kafka: '{name}' not found on PATH; {INSTALL_HINT}")
    return found


def ensure_libs(settings: Settings) -> Path:
    """Kafka's runtime classpath in ``<home>/kafka/libs``, fetched only when missing.

    A marker file names the version the folder holds; a different pinned version
    (or an interrupted fetch, which never writes the marker) fetches again.
    """
    p = paths(settings)
    version = pinned_version()
    marker = p.libs / LIBS_MARKER
    if marker.exists() and marker.read_text().strip() == version and any(p.libs.glob("kafka_*.jar")):
        return p.libs
    log.info("kafka: fetching Kafka %s jars with Maven into %s", version, p.libs)
    staging = p.root / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    ensure_dir(p.root)
    result = subprocess.run(
        [
            _tool("mvn"), "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}", "-DincludeScope=runtime",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise StackError(f"kafka: mvn dependency:copy-dependencies failed:\n{result.stdout}{result.stderr}")
    (staging / LIBS_MARKER).write_text(f"{version}\n")
    shutil.rmtree(p.libs, ignore_errors=True)
    staging.rename(p.libs)
    return p.libs


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding.

    Same shape as ``kafka-storage random-uuid``; like Kafka, avoid a leading '-'
    so the id can never be taken for a command-line option.
    """
    while True:
        value = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not value.startswith("-"):
            return value


def cluster_id(settings: Settings) -> str:
    """The cluster id kept in ``<home>/kafka/cluster.id`` (generated on first use)."""
    p = paths(settings)
    if p.cluster_id.exists():
        return p.cluster_id.read_text().strip()
    value = new_cluster_id()
    ensure_dir(p.root)
    p.cluster_id.write_text(f"{value}\n")
    return value


# ------------------------------------------------------------------ config


def render_server_properties(settings: Settings) -> str:
    text = render_template(
        "server.properties",
        port=settings.kafka_port,
        controller_port=settings.kafka_controller_port,
        data_dir=paths(settings).data,
        partitions=settings.kafka_partitions,
    )
    if settings.kafka_sasl == "scram":
        text += render_template("server-sasl.properties", mechanism=SCRAM_MECHANISM,
                                mechanism_lower=SCRAM_MECHANISM.lower(), broker_user=BROKER_USER,
                                broker_password=_secret(settings.kafka_broker_password, "STREAMMART_KAFKA_BROKER_PASSWORD"))
    return text


# ------------------------------------------------------------- SASL/SCRAM


def _secret(value: str | None, variable: str) -> str:
    if not value:
        raise StackError(f"kafka: SASL/SCRAM mode needs {variable}; the stack generates it in secrets.env on start")
    return value


def scram_users(settings: Settings) -> list[str]:
    """``--add-scram`` arguments of ``kafka-storage format``: the broker's own login and the clients'.

    KRaft keeps SCRAM credentials in the metadata log, so they are created with
    the storage; generated passwords are URL-safe, so they need no quoting here.
    """
    logins = {BROKER_USER: _secret(settings.kafka_broker_password, "STREAMMART_KAFKA_BROKER_PASSWORD"),
              settings.kafka_sasl_username or KAFKA_CLIENT_USER:
                  _secret(settings.kafka_sasl_password, "STREAMMART_KAFKA_SASL_PASSWORD")}
    return [argument for user, password in logins.items()
            for argument in ("--add-scram", f"{SCRAM_MECHANISM}=[name={user},password={password}]")]


def check_scram_storage(settings: Settings) -> None:
    """SCRAM users exist only if the storage was formatted in SASL mode: say so instead of refusing every login."""
    p = paths(settings)
    if settings.kafka_sasl == "scram" and (p.data / "meta.properties").exists() and not p.scram_marker.exists():
        raise StackError("kafka: STREAMMART_KAFKA_SASL=scram, but the storage was formatted without SCRAM users; "
                         "start from empty storage (`streammart-stack stop --purge`) to switch the broker to SASL")


def render_log4j_properties(settings: Settings) -> str:
    return render_template("log4j.properties", log_file=paths(settings).log)


def _write_config(settings: Settings) -> None:
    p = paths(settings)
    write_text(p.server_properties, render_server_properties(settings), mode=0o600)
    write_text(p.log4j_properties, render_log4j_properties(settings))


def java_command(settings: Settings, main_class: str, *args: str, heap: tuple[str, ...] = HEAP) -> list[str]:
    p = paths(settings)
    return [
        _tool("java"),
        *heap,
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-Djava.awt.headless=true",
        "-Djava.net.preferIPv4Stack=true",
        f"-Dkafka.logs.dir={p.root / 'logs'}",
        f"-Dlog4j.configuration=file:{p.log4j_properties}",
        "-cp",
        f"{p.libs}/*",
        main_class,
        *args,
    ]


def _format_storage(settings: Settings) -> None:
    """Format the KRaft log dir once; ``meta.properties`` marks a formatted dir."""
    p = paths(settings)
    if (p.data / "meta.properties").exists():
        return
    ensure_dir(p.data)
    cmd = java_command(
        settings, "kafka.tools.StorageTool", "format",
        "-t", cluster_id(settings), "-c", str(p.server_properties),
        *(scram_users(settings) if settings.kafka_sasl == "scram" else ()),
        heap=("-Xmx256m",),
    )
    result = subprocess.run(cmd, capture_output=True, text=True)
    with open(p.log, "a") as fh:
        fh.write(result.stdout + result.stderr)
    if result.returncode != 0:
        raise StackError(f"kafka: formatting storage failed:\n{result.stdout}{result.stderr}")
    if settings.kafka_sasl == "scram":
        p.scram_marker.write_text(f"{SCRAM_MECHANISM}\n")
    log.info("kafka: formatted storage in %s (cluster id %s)", p.data, cluster_id(settings))


# --------------------------------------------------------------- readiness


def broker_answers(settings: Settings, timeout: float = 2.0) -> bool:
    """True when an AdminClient gets cluster metadata that lists a broker."""
    from confluent_kafka.admin import AdminClient

    quiet = logging.getLogger("stack.kafka.client")
    quiet.setLevel(logging.CRITICAL)
    client = AdminClient(
        {**kafka_client_config(settings), "socket.timeout.ms": int(timeout * 1000), "logger": quiet}
    )
    metadata = client.list_topics(timeout=timeout)
    return bool(metadata.brokers)


def is_ready(settings: Settings) -> bool:
    return port_answers(settings.kafka_port) and broker_answers(settings)


# --------------------------------------------------------------- lifecycle


def running(settings: Settings) -> int | None:
    p = paths(settings)
    return running_pid(p.pidfile, str(p.server_properties))


def start(settings: Settings) -> str:
    clock = Deadline(START_TIMEOUT)
    p = paths(settings)
    pid = running(settings)
    if pid is not None:
        wait_until(lambda: is_ready(settings), what=NAME, timeout=START_TIMEOUT, log_paths=[p.log])
        return f"already running on {settings.bootstrap_servers} (pid {pid})"
    remove_stale_pidfile(p.pidfile, str(p.server_properties))
    ensure_ports_free(ports(settings), NAME)
    ensure_dir(settings.home)
    ensure_dir(p.root)
    ensure_dir(p.log.parent)
    ensure_libs(settings)
    check_scram_storage(settings)
    _write_config(settings)
    _format_storage(settings)
    pid = spawn(
        java_command(settings, MAIN_CLASS, str(p.server_properties)),
        env=os.environ,
        log_path=p.log,
        pidfile=p.pidfile,
        cwd=p.root,
    )
    wait_until(
        lambda: is_ready(settings),
        what=NAME,
        timeout=START_TIMEOUT,
        log_paths=[p.log],
        alive=lambda: pid_alive(pid),
        interval=0.5,
    )
    return f"started on {settings.bootstrap_servers} in {clock.elapsed:.1f} s (pid {pid})"


def stop(settings: Settings) -> str:
    p = paths(settings)
    pid = running(settings)
    if pid is None:
        p.pidfile.unlink(missing_ok=True)
        return "not running"
    terminate(pid, what=NAME, timeout=STOP_TIMEOUT)
    p.pidfile.unlink(missing_ok=True)
    return f"stopped (pid {pid})"


def status(settings: Settings) -> list[ServiceStatus]:
    pid = running(settings)
    address = settings.bootstrap_servers
    if pid is None:
        return [ServiceStatus(NAME, "stopped", address=address)]
    try:
        ready = port_answers(settings.kafka_port) and broker_answers(settings, timeout=3.0)
    except Exception:  # noqa: BLE001 - any client failure means "not answering"
        ready = False
    if ready:
        security = ", SASL/SCRAM" if settings.kafka_sasl == "scram" else ""
        return [ServiceStatus(NAME, "running", pid, address, f"KRaft, {settings.kafka_partitions} partitions{security}")]
    return [ServiceStatus(NAME, "starting", pid, address, "broker not answering metadata requests")]
