"""Kafka for the local stack: one or three KRaft nodes (each broker + controller) from the Apache jars.

The jars come from Maven Central through ``stack/pom.xml`` (``mvn
dependency:copy-dependencies``) into ``<home>/kafka/libs``, once per pinned
version: no tarball download, and the version lives in one place (the pom).
The cluster id is generated once and the storage formatted once, so restarts
keep topics and offsets.

With ``STREAMMART_KAFKA_BROKERS=3`` the stack runs a cluster of three combined
nodes on loopback, each with its own folder ``<home>/kafka/node-N`` (data,
config), pid file ``pids/kafka-N.pid`` and log ``logs/kafka-N.log``; the three
controllers form the KRaft quorum, every topic is replicated three times and a
write needs two in-sync replicas (``min.insync.replicas=2``), so one node can be
lost without losing or refusing an acknowledged event. A single node keeps its
files where it always had them (``<home>/kafka/data``, ``pids/kafka.pid``).
"""
from __future__ import annotations

import base64
import logging
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
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
    """What the nodes share: the jars and the cluster id."""

    root: Path
    libs: Path
    cluster_id: Path


@dataclass(frozen=True)
class KafkaNode:
    """One KRaft node (broker and controller): its ports and its own files."""

    node_id: int
    name: str
    port: int
    controller_port: int
    folder: Path
    pidfile: Path
    log: Path

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def config(self) -> Path:
        return self.folder / "config"

    @property
    def server_properties(self) -> Path:
        return self.config / "server.properties"

    @property
    def log4j_properties(self) -> Path:
        return self.config / "log4j.properties"

    @property
    def scram_marker(self) -> Path:
        """Present when the storage was formatted with SCRAM users."""
        return self.folder / "scram.formatted"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def paths(settings: Settings) -> KafkaPaths:
    root = settings.home / "kafka"
    return KafkaPaths(root=root, libs=root / "libs", cluster_id=root / "cluster.id")


def nodes(settings: Settings) -> list[KafkaNode]:
    """The local nodes, node 1 first (ports: see :attr:`Settings.kafka_node_ports`)."""
    root = paths(settings).root
    if settings.kafka_brokers == 1:
        port, controller_port = settings.kafka_node_ports[0]
        return [KafkaNode(1, NAME, port, controller_port, root, settings.home / "pids" / "kafka.pid",
                          settings.home / "logs" / "kafka.log")]
    return [KafkaNode(n, f"{NAME}-{n}", port, controller_port, root / f"node-{n}",
                      settings.home / "pids" / f"kafka-{n}.pid", settings.home / "logs" / f"kafka-{n}.log")
            for n, (port, controller_port) in enumerate(settings.kafka_node_ports, start=1)]


def node(settings: Settings, node_id: int) -> KafkaNode:
    """Node ``node_id`` (1-based); a clear error for a node the stack does not have."""
    found = nodes(settings)
    if not 1 <= node_id <= len(found):
        raise StackError(f"kafka: no node {node_id}; the stack runs {len(found)} "
                         f"(STREAMMART_KAFKA_BROKERS={settings.kafka_brokers})")
    return found[node_id - 1]


def log_paths(settings: Settings) -> list[Path]:
    return [n.log for n in nodes(settings)]


def ports(settings: Settings, selected: Iterable[KafkaNode] | None = None) -> list[Port]:
    """The ports of ``selected`` nodes (default all), each with the setting that moves it."""
    return [port for n in (nodes(settings) if selected is None else selected) for port in (
        Port(n.port, "STREAMMART_KAFKA_PORT"), Port(n.controller_port, "STREAMMART_KAFKA_CONTROLLER_PORT"))]


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


def replication(settings: Settings) -> tuple[int, int]:
    """(replication factor, min.insync.replicas): 3 and 2 on a cluster, so one node may be lost."""
    return (3, 2) if settings.kafka_brokers == 3 else (1, 1)


def render_server_properties(settings: Settings, kafka_node: KafkaNode | None = None) -> str:
    kafka_node = kafka_node or nodes(settings)[0]
    replicas, min_insync = replication(settings)
    text = render_template(
        "server.properties",
        node_id=kafka_node.node_id,
        voters=",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in nodes(settings)),
        port=kafka_node.port,
        controller_port=kafka_node.controller_port,
        data_dir=kafka_node.data,
        partitions=settings.kafka_partitions,
        replication_factor=replicas,
        min_insync=min_insync,
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
    formatted_plain = [n for n in nodes(settings)
                       if (n.data / "meta.properties").exists() and not n.scram_marker.exists()]
    if settings.kafka_sasl == "scram" and formatted_plain:
        raise StackError("kafka: STREAMMART_KAFKA_SASL=scram, but the storage was formatted without SCRAM users; "
                         "start from empty storage (`streammart-stack stop --purge`) to switch the broker to SASL")


def render_log4j_properties(settings: Settings, kafka_node: KafkaNode | None = None) -> str:
    return render_template("log4j.properties", log_file=(kafka_node or nodes(settings)[0]).log)


def _write_config(settings: Settings, kafka_node: KafkaNode) -> None:
    write_text(kafka_node.server_properties, render_server_properties(settings, kafka_node), mode=0o600)
    write_text(kafka_node.log4j_properties, render_log4j_properties(settings, kafka_node))


def java_command(settings: Settings, main_class: str, *args: str, heap: tuple[str, ...] = HEAP,
                 kafka_node: KafkaNode | None = None) -> list[str]:
    p = paths(settings)
    kafka_node = kafka_node or nodes(settings)[0]
    return [
        _tool("java"),
        *heap,
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-Djava.awt.headless=true",
        "-Djava.net.preferIPv4Stack=true",
        f"-Dkafka.logs.dir={kafka_node.folder / 'logs'}",
        f"-Dlog4j.configuration=file:{kafka_node.log4j_properties}",
        "-cp",
        f"{p.libs}/*",
        main_class,
        *args,
    ]


def _format_storage(settings: Settings, kafka_node: KafkaNode) -> None:
    """Format the node's KRaft log dir once; ``meta.properties`` marks a formatted dir.

    Every node of a cluster is formatted with the same cluster id (and the same
    SCRAM users), which is what lets them form one quorum.
    """
    if (kafka_node.data / "meta.properties").exists():
        return
    ensure_dir(kafka_node.data)
    cmd = java_command(
        settings, "kafka.tools.StorageTool", "format",
        "-t", cluster_id(settings), "-c", str(kafka_node.server_properties),
        *(scram_users(settings) if settings.kafka_sasl == "scram" else ()),
        heap=("-Xmx256m",), kafka_node=kafka_node,
    )
    result = subprocess.run(cmd, capture_output=True, text=True)
    with open(kafka_node.log, "a") as fh:
        fh.write(result.stdout + result.stderr)
    if result.returncode != 0:
        raise StackError(f"{kafka_node.name}: formatting storage failed:\n{result.stdout}{result.stderr}")
    if settings.kafka_sasl == "scram":
        kafka_node.scram_marker.write_text(f"{SCRAM_MECHANISM}\n")
    log.info("%s: formatted storage in %s (cluster id %s)", kafka_node.name, kafka_node.data, cluster_id(settings))


# --------------------------------------------------------------- readiness


def _admin(settings: Settings, timeout: float, bootstrap: str | None = None):  # noqa: ANN202 - confluent type
    from confluent_kafka.admin import AdminClient

    quiet = logging.getLogger("stack.kafka.client")
    quiet.setLevel(logging.CRITICAL)
    config = {**kafka_client_config(settings), "socket.timeout.ms": int(timeout * 1000), "logger": quiet}
    if bootstrap:
        config["bootstrap.servers"] = bootstrap
    return AdminClient(config)


def brokers_seen(settings: Settings, timeout: float = 2.0, via: KafkaNode | None = None) -> set[int]:
    """Ids of the brokers in the cluster metadata, asked of ``via`` alone (default: the bootstrap list).

    KRaft lists a broker only while it is unfenced, i.e. registered with and
    heartbeating to the elected quorum leader: all nodes listed means a working quorum.
    """
    metadata = _admin(settings, timeout, via.address if via else None).list_topics(timeout=timeout)
    return set(metadata.brokers)


def node_ready(settings: Settings, kafka_node: KafkaNode, timeout: float = 2.0) -> bool:
    """The node answers on its own port and its metadata lists it as an unfenced broker."""
    return port_answers(kafka_node.port) and kafka_node.node_id in brokers_seen(settings, timeout, via=kafka_node)


def is_ready(settings: Settings, timeout: float = 2.0) -> bool:
    """Every node answers and sees every node registered with the quorum."""
    expected = {n.node_id for n in nodes(settings)}
    return all(port_answers(n.port) and brokers_seen(settings, timeout, via=n) == expected for n in nodes(settings))


def under_replicated(client_config: dict[str, str], timeout: float = 10.0) -> list[tuple[str, int]]:
    """(topic, partition) of every partition whose in-sync replicas are fewer than its replicas."""
    from confluent_kafka.admin import AdminClient

    metadata = AdminClient(client_config).list_topics(timeout=timeout)
    return sorted((topic.topic, partition.id) for topic in metadata.topics.values()
                  for partition in topic.partitions.values() if len(partition.isrs) < len(partition.replicas))


# --------------------------------------------------------------- lifecycle


def running(settings: Settings, node_id: int = 1) -> int | None:
    """The pid of node ``node_id`` if it runs."""
    return running_node(node(settings, node_id))


def running_node(kafka_node: KafkaNode) -> int | None:
    return running_pid(kafka_node.pidfile, str(kafka_node.server_properties))


def _prepare(settings: Settings, selected: list[KafkaNode]) -> None:
    """Everything a node needs before its JVM starts: free ports, jars, config, formatted storage."""
    for kafka_node in selected:
        remove_stale_pidfile(kafka_node.pidfile, str(kafka_node.server_properties))
    ensure_ports_free(ports(settings, selected), NAME)
    ensure_dir(settings.home)
    ensure_dir(paths(settings).root)
    ensure_libs(settings)
    check_scram_storage(settings)
    for kafka_node in selected:
        ensure_dir(kafka_node.folder)
        ensure_dir(kafka_node.log.parent)
        _write_config(settings, kafka_node)
        _format_storage(settings, kafka_node)


def _spawn(settings: Settings, kafka_node: KafkaNode) -> int:
    return spawn(
        java_command(settings, MAIN_CLASS, str(kafka_node.server_properties), kafka_node=kafka_node),
        env=os.environ,
        log_path=kafka_node.log,
        pidfile=kafka_node.pidfile,
        cwd=kafka_node.folder,
    )


def _wait(check: Callable[[], bool], what: str, selected: list[KafkaNode], pids: list[int]) -> None:
    wait_until(check, what=what, timeout=START_TIMEOUT, log_paths=[n.log for n in selected],
               alive=lambda: all(pid_alive(pid) for pid in pids), interval=0.5)


def start(settings: Settings) -> str:
    """Start the nodes that are not running, all at once (a lone controller cannot elect a leader)."""
    clock = Deadline(START_TIMEOUT)
    all_nodes = nodes(settings)
    stopped = [n for n in all_nodes if running_node(n) is None]
    if stopped:
        _prepare(settings, stopped)
    pids = [_spawn(settings, n) for n in stopped]
    _wait(lambda: is_ready(settings), NAME, all_nodes, pids)
    if not stopped:
        return f"already running on {settings.bootstrap_servers} (pid {_pids(all_nodes)})"
    return f"started on {settings.bootstrap_servers} in {clock.elapsed:.1f} s (pid {', '.join(map(str, pids))})"


def start_node(settings: Settings, node_id: int) -> str:
    """Start one node of the cluster and wait until it is back as an unfenced broker."""
    clock = Deadline(START_TIMEOUT)
    kafka_node = node(settings, node_id)
    pid = running_node(kafka_node)
    if pid is None:
        _prepare(settings, [kafka_node])
        pid = _spawn(settings, kafka_node)
    _wait(lambda: node_ready(settings, kafka_node), kafka_node.name, [kafka_node], [pid])
    return f"{kafka_node.name} running on {kafka_node.address} after {clock.elapsed:.1f} s (pid {pid})"


def _pids(selected: list[KafkaNode]) -> str:
    return ", ".join(str(running_node(n)) for n in selected)


def _stop_nodes(selected: list[KafkaNode]) -> list[int]:
    """SIGTERM every running node of ``selected`` at once and wait for all; the pids stopped.

    At once, not one after the other: the last nodes of a quorum that lost its
    majority would wait out their controlled shutdown.
    """
    targets = [(n, pid) for n in selected if (pid := running_node(n)) is not None]
    with ThreadPoolExecutor(max_workers=max(len(targets), 1)) as pool:
        list(pool.map(lambda target: terminate(target[1], what=target[0].name, timeout=STOP_TIMEOUT), targets))
    for kafka_node in selected:
        kafka_node.pidfile.unlink(missing_ok=True)
    return [pid for _, pid in targets]


def stop(settings: Settings) -> str:
    stopped = _stop_nodes(nodes(settings))
    return f"stopped (pid {', '.join(map(str, stopped))})" if stopped else "not running"


def stop_node(settings: Settings, node_id: int) -> str:
    """Stop one node (SIGTERM: a controlled shutdown that hands its partitions' leadership over)."""
    kafka_node = node(settings, node_id)
    stopped = _stop_nodes([kafka_node])
    return f"{kafka_node.name} stopped (pid {stopped[0]})" if stopped else f"{kafka_node.name} not running"


def _node_status(settings: Settings, kafka_node: KafkaNode) -> ServiceStatus:
    pid = running_node(kafka_node)
    if pid is None:
        return ServiceStatus(kafka_node.name, "stopped", address=kafka_node.address)
    try:
        ready = node_ready(settings, kafka_node, timeout=3.0)
    except Exception:  # noqa: BLE001 - any client failure means "not answering"
        ready = False
    if not ready:
        return ServiceStatus(kafka_node.name, "starting", pid, kafka_node.address,
                             "broker not answering metadata requests")
    return ServiceStatus(kafka_node.name, "running", pid, kafka_node.address, "")


def status(settings: Settings) -> list[ServiceStatus]:
    """One row per node; the detail says the mode, and on a cluster how many partitions lack a replica."""
    rows = [_node_status(settings, n) for n in nodes(settings)]
    security = ", SASL/SCRAM" if settings.kafka_sasl == "scram" else ""
    if settings.kafka_brokers == 1:
        rows[0].address = settings.bootstrap_servers
        if rows[0].up:
            rows[0].detail = f"KRaft, {settings.kafka_partitions} partitions{security}"
        return rows
    replicas, min_insync = replication(settings)
    detail = f"KRaft node {{}} of {len(rows)}, RF {replicas}, min ISR {min_insync}{security}"
    lagging = _under_replicated_count(settings) if any(row.up for row in rows) else None
    for number, row in enumerate(rows, start=1):
        if row.up:
            row.detail = detail.format(number) + (f", {lagging} under-replicated partitions"
                                                  if lagging is not None else "")
    return rows


def _under_replicated_count(settings: Settings) -> int | None:
    try:
        return len(under_replicated(kafka_client_config(settings), timeout=3.0))
    except Exception:  # noqa: BLE001 - status shows what it can
        return None
