"""What users pick instead of the worker, landing the same events in the same Postgres.

Called from ``bench/landing.py`` (``make bench``) so that every rate is measured in one
run beside the worker's, on the same machine load:

- Debezium's JDBC sink connector on a standalone Kafka Connect worker (the stack's Kafka
  version, jars from Maven Central through ``bench/connect/*.pom.xml``), upserting on
  ``order_id`` into its own table, with 1 and 2 tasks. Its converters do not read the
  project's Avro encoding, so it gets a copy of the same events as JSON with schemas.
- Quix Streams' ``PostgreSQLSink`` (``bench/quix_sink.py`` in ``bench/.venv-quix``),
  reading the very Avro events the worker lands, 1 and 2 processes, plain inserts.

A rate is steady-state: rows after the first landed row over the time to the last, the
way the worker's is measured (start-up of a JVM or of a consumer group excluded).
"""
from __future__ import annotations

import base64
import hashlib
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

BENCH = Path(__file__).resolve().parent
CONNECT_POMS = BENCH / "connect"
QUIX_VENV = BENCH / ".venv-quix"
QUIX_LOCK = BENCH / "requirements-quix.lock"
PEERS_SCHEMA = "bench_peers"
# Connect brings these itself; a second copy in the plugin folder breaks its ServiceLoader
# (``Jdk8Module not a subtype`` when the task starts).
CONNECT_PROVIDES = ("jackson-core-", "jackson-databind-", "jackson-annotations-", "slf4j-api-")
TIMEOUT = 900

DEBEZIUM_GUARANTEE = "effectively-once by key (upsert), at-least-once delivery"
QUIX_GUARANTEE = "at-least-once (a replay inserts again)"

ORDERS_COLUMNS = sql.SQL("""order_id text NOT NULL, customer_id text NOT NULL, product_id text,
    order_ts timestamptz NOT NULL, quantity integer NOT NULL, unit_price numeric(12, 2) NOT NULL,
    amount numeric(14, 2) NOT NULL, currency text NOT NULL, status text NOT NULL""")

_DECIMAL = {"type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1,
            "parameters": {"scale": "2"}, "optional": False}
ORDERS_CONNECT_SCHEMA = {"type": "struct", "name": "retail.orders", "optional": False, "fields": [
    {"field": "order_id", "type": "string", "optional": False},
    {"field": "customer_id", "type": "string", "optional": False},
    {"field": "product_id", "type": "string", "optional": True},
    {"field": "order_ts", "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1,
     "optional": False},
    {"field": "quantity", "type": "int32", "optional": False},
    {"field": "unit_price", **_DECIMAL},
    {"field": "amount", **_DECIMAL},
    {"field": "currency", "type": "string", "optional": False},
    {"field": "status", "type": "string", "optional": False}]}


@dataclass(frozen=True)
class PeerRun:
    """One peer configuration's steady rate and what it left in its table."""

    what: str
    rate: float
    rows: int
    distinct_keys: int
    guarantee: str


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_connect(home: Path) -> tuple[Path, Path]:
    """(runtime jar folder, plugin path) of Kafka Connect with the Debezium JDBC sink, fetched once per pom."""
    root = home / "bench" / "connect"
    runtime, plugins = root / "runtime", root / "plugins"
    for pom, folder in ((CONNECT_POMS / "runtime.pom.xml", runtime),
                        (CONNECT_POMS / "debezium-jdbc.pom.xml", plugins / "debezium-jdbc")):
        marker = folder / ".pom-sha256"
        if marker.exists() and marker.read_text() == _digest(pom):
            continue
        result = subprocess.run(["mvn", "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
                                 f"-DoutputDirectory={folder}"], capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"mvn could not fetch {pom.name}:\n{result.stdout}{result.stderr}")
        for jar in folder.glob("*.jar"):
            if folder.parent == plugins and jar.name.startswith(CONNECT_PROVIDES):
                jar.unlink()
        marker.write_text(_digest(pom))
    return runtime, plugins


def ensure_quix() -> Path:
    """Python of ``bench/.venv-quix``, synced to ``bench/requirements-quix.lock`` when that changed."""
    python = QUIX_VENV / "bin" / "python"
    marker = QUIX_VENV / ".lock-sha256"
    if python.exists() and marker.exists() and marker.read_text() == _digest(QUIX_LOCK):
        return python
    uv = str(Path(sys.prefix) / "bin" / "uv")
    subprocess.run([uv, "venv", "--quiet", "--allow-existing", "-p", sys.executable, str(QUIX_VENV)], check=True)
    subprocess.run([uv, "pip", "sync", "--quiet", "-p", str(python), str(QUIX_LOCK)], check=True)
    marker.write_text(_digest(QUIX_LOCK))
    return python


def _unscaled(value: Decimal) -> str:
    """A scale-2 decimal as Connect's JSON converter writes it: base64 of the two's-complement unscaled value."""
    unscaled = int(value.scaleb(2))
    return base64.b64encode(unscaled.to_bytes((unscaled.bit_length() + 8) // 8 or 1, "big", signed=True)).decode()


def connect_json(record: dict[str, Any]) -> bytes:
    """An orders record as JSON with its Connect schema, what ``JsonConverter(schemas.enable=true)`` reads."""
    payload = {**record, "order_ts": int(record["order_ts"].timestamp() * 1000),
               "unit_price": _unscaled(record["unit_price"]), "amount": _unscaled(record["amount"])}
    return json.dumps({"schema": ORDERS_CONNECT_SCHEMA, "payload": payload}, separators=(",", ":")).encode()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _table_counts(conn: psycopg.Connection, table: sql.Composable) -> tuple[int, int]:
    return conn.execute(sql.SQL("SELECT count(*), count(DISTINCT order_id) FROM {}").format(table)).fetchone()


def watch_landing(conn: psycopg.Connection, table: sql.Composable, expected: int, problem: Callable[[], str | None],
                  what: str, guarantee: str) -> PeerRun:
    """Poll ``table`` until it holds ``expected`` distinct keys; the rate from the first row seen to the last."""
    deadline = time.monotonic() + TIMEOUT
    first: tuple[float, int] | None = None
    while time.monotonic() < deadline:
        trouble = problem()
        if trouble:
            raise RuntimeError(f"{what}: {trouble}")
        rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0]
        now = time.perf_counter()
        if rows and first is None:
            first = (now, rows)
        if first and rows >= expected and now > first[0]:
            total, distinct = _table_counts(conn, table)
            if distinct >= expected:
                return PeerRun(what, (rows - first[1]) / (now - first[0]), total, distinct, guarantee)
        time.sleep(0.1)
    raise RuntimeError(f"{what}: {expected} keys not landed in {TIMEOUT} s")


@contextmanager
def peer_table(conninfo: str, name: str, keyed: bool) -> Iterator[sql.Composable]:
    """A fresh orders table in the peers' own schema (pre-created: two tasks creating it race on CREATE TABLE).

    ``keyed``: ``order_id`` is the primary key (an upsert needs it; plain inserts would fail on a replay).
    """
    table = sql.Identifier(PEERS_SCHEMA, name)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(PEERS_SCHEMA)))
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        key = sql.SQL(", PRIMARY KEY (order_id)") if keyed else sql.SQL("")
        conn.execute(sql.SQL("CREATE TABLE {} ({}{})").format(table, ORDERS_COLUMNS, key))
    yield table


def _properties(path: Path, values: dict[str, Any]) -> Path:
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return path


def _connector_problem(process: subprocess.Popen, port: int, name: str) -> str | None:
    """Why the Connect worker or its connector is not landing (a dead task leaves the worker running)."""
    if process.poll() is not None:
        return f"the Connect worker exited with {process.returncode}"
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/connectors/{name}/status", timeout=2) as response:
            status = json.load(response)
    except OSError:
        return None  # REST not up yet
    failed = [task.get("trace", "") for task in status.get("tasks", []) if task.get("state") == "FAILED"]
    return f"task failed: {failed[0][:2000]}" if failed else None


def debezium_rate(settings: Any, topic: str, expected: int, tasks: int, batch_size: int, workdir: Path) -> PeerRun:
    """Debezium's JDBC sink with ``tasks`` tasks upserting ``topic`` (JSON with schemas) into its own table."""
    runtime, plugins = ensure_connect(settings.home)
    name = f"debezium-jdbc-{tasks}-{int(time.time())}"
    port = _free_port()
    worker = _properties(workdir / "worker.properties", {
        "bootstrap.servers": settings.bootstrap_servers, "plugin.path": plugins, "listeners": f"http://127.0.0.1:{port}",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "true",
        "offset.storage.file.filename": workdir / "connect.offsets", "consumer.max.poll.records": batch_size})
    log4j = _properties(workdir / "log4j.properties", {
        "log4j.rootLogger": "WARN, file", "log4j.appender.file": "org.apache.log4j.FileAppender",
        "log4j.appender.file.File": workdir / "connect.log",
        "log4j.appender.file.layout": "org.apache.log4j.PatternLayout",
        "log4j.appender.file.layout.ConversionPattern": "%d %p %c: %m%n"})
    conninfo = settings.conninfo("admin")
    with peer_table(conninfo, f"debezium_{tasks}", keyed=True) as table:
        connector = _properties(workdir / "connector.properties", {
            "name": name, "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector", "tasks.max": tasks,
            "topics": topic, "connection.url": f"jdbc:postgresql://{settings.pg_host}:{settings.pg_port}/"
                                               f"{settings.pg_database}",
            "connection.username": settings.role_name("admin"), "connection.password": settings.password("admin"),
            "insert.mode": "upsert", "primary.key.mode": "record_value", "primary.key.fields": "order_id",
            "schema.evolution": "none", "table.name.format": f"{PEERS_SCHEMA}.debezium_{tasks}",
            "batch.size": batch_size})
        command = ["java", "-Xms256m", "-Xmx1g", f"-Dlog4j.configuration=file:{log4j}", "-cp", f"{runtime}/*",
                   "org.apache.kafka.connect.cli.ConnectStandalone", str(worker), str(connector)]
        process = subprocess.Popen(command, stdout=(workdir / "connect.out").open("wb"), stderr=subprocess.STDOUT)
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                return watch_landing(conn, table, expected, lambda: _connector_problem(process, port, name),
                                     f"Debezium JDBC sink, {tasks} task(s), upsert", DEBEZIUM_GUARANTEE)
        finally:
            process.terminate()
            process.wait(timeout=60)


def quix_rate(settings: Any, topic: str, schema_file: Path, expected: int, processes: int, workdir: Path) -> PeerRun:
    """Quix Streams' ``PostgreSQLSink`` in ``processes`` processes (one group) inserting ``topic`` into its table."""
    python = ensure_quix()
    table_name = f"quix_{processes}"
    conninfo = settings.conninfo("admin")
    with peer_table(conninfo, table_name, keyed=False) as table:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL('ALTER TABLE {} ADD COLUMN "timestamp" timestamp, ADD COLUMN __key text')
                         .format(table))
        app_settings = {"broker": settings.bootstrap_servers, "topic": topic, "group": f"quix-{table_name}-"
                        f"{int(time.time())}", "schema": str(schema_file), "host": settings.pg_host,
                        "port": settings.pg_port, "dbname": settings.pg_database, "user": settings.role_name("admin"),
                        "password": settings.password("admin"), "schema_name": PEERS_SCHEMA, "table": table_name}
        apps = []
        for i in range(processes):
            app = subprocess.Popen([str(python), str(BENCH / "quix_sink.py")], stdin=subprocess.PIPE,
                                   stdout=(workdir / f"quix-{i}.log").open("wb"), stderr=subprocess.STDOUT)
            app.stdin.write(json.dumps({**app_settings, "state_dir": str(workdir / f"state-{i}")}).encode())
            app.stdin.close()
            apps.append(app)

        def problem() -> str | None:
            dead = [p for p in apps if p.poll() is not None]
            return f"a Quix process exited with {dead[0].returncode}; see {workdir}" if dead else None

        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                return watch_landing(conn, table, expected, problem,
                                     f"Quix Streams PostgreSQLSink ×{processes}, insert", QUIX_GUARANTEE)
        finally:
            for app in apps:
                app.terminate()
            for app in apps:
                app.wait(timeout=60)


def measure(settings: Any, avro_topic: str, json_topic: str, schema_file: Path, expected: int,
            batch_size: int) -> list[PeerRun]:
    """Every peer configuration, one after the other, each on the same ``expected`` events."""
    runs = []
    for tasks in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(debezium_rate(settings, json_topic, expected, tasks, batch_size, Path(tmp)))
    for processes in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(quix_rate(settings, avro_topic, schema_file, expected, processes, Path(tmp)))
    return runs


def drop_peer_tables(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(PEERS_SCHEMA)))
