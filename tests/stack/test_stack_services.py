"""The running local stack: least-privilege roles, loopback-only listeners, CLI behaviour.

Assumes ``python -m stack start`` ran before the test session (see conftest).
"""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path
from collections.abc import Iterator

import psycopg
import pytest
import requests
from psycopg import errors, sql

from stack import airflow, kafka, postgres, services
from stack.pipeline_processes import dashboard, demo_api, processors
from stack.processes import listeners
from streammart.contract import RAW_SCHEMA
from streammart.settings import PROJECT_ROOT, READ_SECRETS_FILE, ROLES, SECRET_FIELDS, Settings

PIPELINE_PROCESSES = (processors, demo_api, dashboard)

pytestmark = pytest.mark.services


def stack_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stack", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
    )


def connect(settings: Settings, role: str) -> psycopg.Connection:
    return psycopg.connect(settings.conninfo(role), autocommit=True)


@pytest.fixture
def scratch(running_stack: Settings) -> Iterator[str]:
    """A unique name for a schema/table the test creates; dropped afterwards."""
    name = f"stacktest_{uuid.uuid4().hex[:10]}"
    yield name
    with connect(running_stack, "admin") as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(RAW_SCHEMA, name)))


def test_roles_and_databases_exist(running_stack: Settings) -> None:
    with connect(running_stack, "admin") as conn:
        roles = dict(conn.execute(
            "SELECT rolname, rolsuper FROM pg_roles WHERE rolname = ANY(%s)",
            ([running_stack.role_name(r) for r in ROLES],),
        ).fetchall())
        owners = dict(conn.execute(
            "SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname = ANY(%s)",
            (list(postgres.database_owners(running_stack)),),
        ).fetchall())
        raw_owner = conn.execute("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s",
                                 (RAW_SCHEMA,)).fetchone()
    assert roles == {"streammart_admin": True, "ingest": False, "transform": False, "reader": False, "airflow": False}
    assert owners == postgres.database_owners(running_stack)
    assert raw_owner == ("ingest",)


def test_every_role_logs_in_with_its_password_over_loopback(running_stack: Settings) -> None:
    for role in ("ingest", "transform", "reader"):
        with connect(running_stack, role) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (running_stack.role_name(role),)
    with psycopg.connect(running_stack.conninfo("airflow", postgres.AIRFLOW_DATABASE)) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("airflow",)


def test_wrong_password_is_refused(running_stack: Settings) -> None:
    conninfo = running_stack.conninfo("reader") + " password=not-the-password"
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(conninfo)


def test_ingest_cannot_read_schemas_it_does_not_own(running_stack: Settings, scratch: str) -> None:
    ident = sql.Identifier(scratch)
    with connect(running_stack, "transform") as conn:  # as dbt would: transform creates its schemas
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(ident))
        conn.execute(sql.SQL("CREATE TABLE {}.mart AS SELECT 1 AS x").format(ident))
    with connect(running_stack, "ingest") as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(sql.SQL("SELECT * FROM {}.mart").format(ident))
    with connect(running_stack, "reader") as conn:  # reader sees marts only once dbt grants them
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(sql.SQL("SELECT * FROM {}.mart").format(ident))


def test_raw_is_written_by_ingest_read_by_transform_and_closed_to_reader(
    running_stack: Settings, scratch: str
) -> None:
    table = sql.Identifier(RAW_SCHEMA, scratch)
    with connect(running_stack, "ingest") as conn:
        conn.execute(sql.SQL("CREATE TABLE {} (id int)").format(table))
        conn.execute(sql.SQL("INSERT INTO {} VALUES (1)").format(table))
        conn.execute("CREATE TEMPORARY TABLE landing_scratch (id int)")  # landing stages in temp tables
    with connect(running_stack, "transform") as conn:  # default privileges: new raw tables are readable
        assert conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone() == (1,)
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(sql.SQL("INSERT INTO {} VALUES (2)").format(table))
    with connect(running_stack, "reader") as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(sql.SQL("INSERT INTO {} VALUES (3)").format(table))
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(sql.SQL("SELECT * FROM {}").format(table))
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(sql.SQL("CREATE TABLE {} (id int)").format(sql.Identifier(RAW_SCHEMA, scratch + "_r")))


def test_pipeline_roles_cannot_reach_the_airflow_database(running_stack: Settings) -> None:
    for role in ("ingest", "transform", "reader"):
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            psycopg.connect(running_stack.conninfo(role, postgres.AIRFLOW_DATABASE))


def test_nothing_listens_beyond_loopback_on_stack_ports(running_stack: Settings) -> None:
    ports = [running_stack.pg_port, running_stack.kafka_port, running_stack.kafka_controller_port]
    if "api-server" in airflow.running_components(running_stack):
        ports.append(running_stack.airflow_port)
    for port in ports:
        found = listeners(port)
        assert found, f"nothing listens on {port}"
        assert all(item.address == "127.0.0.1" for item in found), (port, found)


def test_stack_processes_listen_only_on_loopback(running_stack: Settings) -> None:
    """No stray server (e.g. Airflow's log servers) opens a port on all interfaces."""
    from stack.processes import socket_owner

    ours = {kafka.running(running_stack), postgres.running(running_stack),
            *airflow.running_components(running_stack).values()}
    for item in listeners():
        if item.loopback_only:
            continue
        owner = socket_owner(item.inode)
        if owner is None:
            continue
        pid = owner[0]
        family = {pid}
        try:  # parent chain up to pid 1
            while pid > 1:
                pid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
                family.add(pid)
        except OSError:
            pass
        assert not (family & ours), f"{owner} listens on {item.address}:{item.port}"


def test_kafka_auto_creates_topics_with_configured_partitions(running_stack: Settings) -> None:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient

    topic = f"stacktest.probe.v1.{uuid.uuid4().hex[:8]}"
    producer = Producer({"bootstrap.servers": running_stack.bootstrap_servers, "acks": "all"})
    delivered: list[object] = []
    producer.produce(topic, key=b"k", value=b"v", on_delivery=lambda err, msg: delivered.append(err or msg))
    assert producer.flush(30) == 0
    assert delivered and not isinstance(delivered[0], Exception), delivered
    admin = AdminClient({"bootstrap.servers": running_stack.bootstrap_servers})
    try:
        metadata = admin.list_topics(topic=topic, timeout=10)
        assert len(metadata.topics[topic].partitions) == running_stack.kafka_partitions
    finally:
        for future in admin.delete_topics([topic], operation_timeout=10).values():
            future.result(timeout=30)


def test_airflow_health_reports_every_component_healthy(running_airflow: Settings) -> None:
    document = airflow.health(running_airflow)
    assert airflow.unhealthy_components(document) == [], document


def test_airflow_api_refuses_callers_who_have_not_logged_in(running_airflow: Settings) -> None:
    """Anyone on the host used to be admin: create variables and connections, trigger DAGs."""
    base = airflow.api_url(running_airflow)
    anonymous = requests.post(f"{base}/api/v2/variables", json={"key": "x", "value": "y"}, timeout=10)
    assert anonymous.status_code in (401, 403), anonymous.text
    assert requests.get(f"{base}/auth/token", timeout=10).status_code == 403  # no token without credentials
    wrong = requests.post(f"{base}/auth/token", json={"username": airflow.ADMIN_USER, "password": "guess"}, timeout=10)
    assert wrong.status_code == 401
    login = requests.post(f"{base}/auth/token", timeout=10,
                          json={"username": airflow.ADMIN_USER, "password": running_airflow.airflow_admin_password})
    assert login.status_code == 201, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert requests.get(f"{base}/api/v2/dags", headers=headers, timeout=10).status_code == 200
    assert stat.S_IMODE(airflow.passwords_file(running_airflow).stat().st_mode) == 0o600


@pytest.mark.airflow
def test_airflow_cli_runs_with_airflow_env(running_stack: Settings) -> None:
    """airflow_env() alone is enough for the airflow CLI (no Airflow process needed)."""
    result = airflow.run_airflow(["config", "get-value", "core", "executor"], running_stack, capture_output=True,
                                 timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "LocalExecutor"


def test_status_reports_everything_up(running_airflow: Settings) -> None:
    result = stack_cli("status")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("postgres", "kafka", "processors", "demo-api", "dashboard", "airflow scheduler", "airflow api-server",
                 "airflow dag-processor", "airflow triggerer"):
        line = next(line for line in result.stdout.splitlines() if f" {name} " in line)
        assert "running" in line, line


def test_status_exit_code_says_whether_everything_runs(running_stack: Settings) -> None:
    result = stack_cli("status")
    everything_up = all(row.up for row in services.statuses(running_stack))
    assert result.returncode == (0 if everything_up else 3), result.stdout + result.stderr
    assert "postgres" in result.stdout and "kafka" in result.stdout


def test_start_again_is_a_quick_no_op(running_stack: Settings) -> None:
    """`start` on running services changes nothing (same pids) and returns quickly."""
    pids_before = (kafka.running(running_stack), postgres.running(running_stack),
                   airflow.running_components(running_stack))
    running = ["postgres", "kafka"] + (["airflow"] if len(pids_before[2]) == len(airflow.COMPONENTS) else [])
    started = time.monotonic()
    result = stack_cli("start", *running, timeout=60)
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert took < 20, f"start on a running stack took {took:.1f} s"
    for service in running:
        assert f"{service}: already running" in result.stderr
    assert (kafka.running(running_stack), postgres.running(running_stack),
            airflow.running_components(running_stack)) == pids_before


def test_port_conflict_message_names_the_setting(running_stack: Settings, tmp_path) -> None:
    """A second stack (other home) on the same ports refuses to start and says which variable to change."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("STREAMMART_")}
    env["STREAMMART_HOME"] = str(tmp_path / "other-home")
    env["STREAMMART_KAFKA_PORT"] = str(running_stack.kafka_port)
    env["STREAMMART_KAFKA_CONTROLLER_PORT"] = str(running_stack.kafka_controller_port)
    result = subprocess.run([sys.executable, "-m", "stack", "start", "kafka"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert f"port {running_stack.kafka_port}" in result.stderr
    assert "STREAMMART_KAFKA_PORT" in result.stderr


def process_environment(pid: int) -> dict[str, str]:
    """The environment process ``pid`` was started with, as /proc shows it."""
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").partition("=")[::2] for item in raw if b"=" in item)


# Processes that retitle themselves (setproctitle) overwrite the memory /proc reads their
# environment from; their environment is built by the same `child_env` as the others'.
RETITLED = {"processors", "api-server"}


def test_each_process_gets_only_its_own_roles_credentials(running_airflow: Settings) -> None:
    """Dashboard → reader, worker → ingest, demo API → nothing, Airflow → transform; no file fallback."""
    expected = {**{process.name: process.roles for process in PIPELINE_PROCESSES},
                **{component: airflow.TASK_ROLES for component in airflow.COMPONENTS}}
    assert processors.roles == ("ingest",)
    pids = {process.name: process.running(running_airflow) for process in PIPELINE_PROCESSES}
    pids |= airflow.running_components(running_airflow)
    assert set(pids) == set(expected) and all(pids.values()), f"not all running: {pids}"
    secret_names = {f"STREAMMART_{field.upper()}" for field in SECRET_FIELDS}
    for name in set(pids) - RETITLED:
        environment = process_environment(pids[name])
        assert environment["STREAMMART_HOME"] == str(running_airflow.home), name
        assert environment[READ_SECRETS_FILE] == "false", name
        wanted = {f"STREAMMART_PG_{role.upper()}_PASSWORD": running_airflow.password(role) for role in expected[name]}
        assert {key: value for key, value in environment.items() if key in secret_names} == wanted, name
