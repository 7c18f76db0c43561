"""Airflow for the local stack: scheduler, API server, DAG processor and triggerer.

Like ``airflow standalone``, but each component is a separate process with its own
pidfile and log, so one can be restarted or inspected alone, and every setting is
explicit: LocalExecutor with a small parallelism, the metadata database in the
stack's Postgres, the API server on 127.0.0.1, the log servers off (they bind
every interface and LocalExecutor reads task logs from local files anyway), and
SimpleAuthManager with everyone admin so the loopback UI opens without a login.

:func:`airflow_env` is the one definition of that environment; anything that runs
the ``airflow`` CLI against the stack (``airflow dags test``, ``dags trigger``,
the test suite) should use it, e.g. through :func:`run_airflow`.
"""
from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg

from stack.postgres import AIRFLOW_DATABASE
from stack.processes import (
    LOOPBACK,
    Deadline,
    Port,
    ServiceStatus,
    StackError,
    ensure_dir,
    ensure_ports_free,
    format_log_tail,
    pid_alive,
    port_answers,
    remove_stale_pidfile,
    running_pid,
    spawn,
    terminate,
    wait_until,
)
from stack.secrets import write_private
from streammart.settings import PROJECT_ROOT, Settings, get_settings, kafka_client_config

log = logging.getLogger(__name__)

NAME = "airflow"
COMPONENTS: tuple[str, ...] = ("scheduler", "api-server", "dag-processor", "triggerer")
COMPONENT_ARGS: dict[str, tuple[str, ...]] = {
    "scheduler": ("scheduler", "--skip-serve-logs"),
    "api-server": ("api-server",),
    "dag-processor": ("dag-processor",),
    "triggerer": ("triggerer", "--skip-serve-logs"),
}
#: Components whose process forks the dbt tasks: started with dbt imported (``stack.preloaded``).
PRELOADED_COMPONENTS: frozenset[str] = frozenset({"scheduler"})
HEALTH_PATH = "/api/v2/monitor/health"
HEALTH_COMPONENTS: tuple[str, ...] = ("metadatabase", "scheduler", "triggerer", "dag_processor")
DAGS_FOLDER = PROJECT_ROOT / "airflow_dags"
START_TIMEOUT = 180.0
MIGRATE_TIMEOUT = 300.0
STOP_TIMEOUT = 30.0
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
ADMIN_USER = "admin"


# ------------------------------------------------------------------- paths


def airflow_home(settings: Settings) -> Path:
    return settings.home / "airflow"


def pidfile(settings: Settings, component: str) -> Path:
    return settings.home / "pids" / f"airflow-{component}.pid"


def component_log(settings: Settings, component: str) -> Path:
    return settings.home / "logs" / f"airflow-{component}.log"


def passwords_file(settings: Settings) -> Path:
    """The simple auth manager's users → passwords (JSON, mode 0600), written from the stack's secrets."""
    return airflow_home(settings) / "simple_auth_manager_passwords.json"


def migrate_log(settings: Settings) -> Path:
    return settings.home / "logs" / "airflow-db-migrate.log"


def log_paths(settings: Settings) -> list[Path]:
    return [component_log(settings, c) for c in COMPONENTS]


def ports(settings: Settings) -> list[Port]:
    return [Port(settings.airflow_port, "STREAMMART_AIRFLOW_PORT")]


def venv_bin() -> Path:
    """The bin directory of the running interpreter's environment (holds ``airflow``)."""
    return Path(sys.prefix) / "bin"


def airflow_executable() -> str:
    candidate = venv_bin() / "airflow"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("airflow")
    if not found:
        raise StackError("airflow: the 'airflow' command is not installed in this environment")
    return found


def api_url(settings: Settings) -> str:
    return f"http://{LOOPBACK}:{settings.airflow_port}"


# --------------------------------------------------------------- environment


def sql_alchemy_conn(settings: Settings, driver: str = "psycopg") -> str:
    """SQLAlchemy URL of the metadata DB (``psycopg`` sync, ``psycopg_async`` async)."""
    user = quote(settings.role_name("airflow"), safe="")
    password = quote(settings.password("airflow"), safe="")
    return f"postgresql+{driver}://{user}:{password}@{settings.pg_host}:{settings.pg_port}/{AIRFLOW_DATABASE}"


def kafka_connection(settings: Settings) -> str:
    """The ``streammart_kafka`` connection (JSON form) the event-driven DAG's trigger consumes with.

    ``earliest``: a trigger starting for the first time also sees the signals sent
    before it subscribed (at worst one extra, empty, dbt cycle).
    """
    extra = {**kafka_client_config(settings), "group.id": "streammart-airflow-landed",
             "auto.offset.reset": "earliest"}
    return json.dumps({"conn_type": "kafka", "extra": extra})


def _prepend_path(first: str, existing: str | None) -> str:
    return f"{first}{os.pathsep}{existing}" if existing else first


# DAG tasks run dbt as ``transform`` and read the marts they export as ``reader``;
# Airflow's own components use the ``airflow`` role through the SQLAlchemy URLs below,
# and need no other Postgres credential.
TASK_ROLES = ("transform", "reader")


def airflow_env(settings: Settings | None = None) -> dict[str, str]:
    """Variables to lay over ``os.environ`` to run any ``airflow`` command on the stack.

    ``subprocess.run(["airflow", ...], env={**os.environ, **airflow_env(settings)})``.
    Carries ``AIRFLOW_HOME``, every ``AIRFLOW__*`` option the stack sets, the
    ``STREAMMART_*`` settings (DAG tasks reach Postgres and Kafka with them), PATH
    with this environment's ``bin`` first (Airflow spawns ``airflow`` by name) and
    PYTHONPATH with the project root (DAGs import project modules).
    """
    settings = settings or get_settings()
    if not settings.airflow_jwt_secret:
        raise StackError("airflow: no JWT secret; start the stack once (it writes secrets.env) "
                         "or set STREAMMART_AIRFLOW_JWT_SECRET")
    env = settings.as_env(TASK_ROLES, kafka=True)
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home(settings)),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": str(settings.airflow_dags_paused),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url(settings)}/execution/",
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file(settings)),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_alchemy_conn(settings, "psycopg"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": sql_alchemy_conn(settings, "psycopg_async"),
            "AIRFLOW__API__HOST": LOOPBACK,
            "AIRFLOW__API__PORT": str(settings.airflow_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": settings.airflow_jwt_secret,
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW_CONN_STREAMMART_KAFKA": kafka_connection(settings),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "PATH": _prepend_path(str(venv_bin()), os.environ.get("PATH")),
            "PYTHONPATH": _prepend_path(str(PROJECT_ROOT), os.environ.get("PYTHONPATH")),
        }
    )
    if settings.airflow_fernet_key:
        env["AIRFLOW__CORE__FERNET_KEY"] = settings.airflow_fernet_key
    return env


def airflow_process_env(settings: Settings | None = None) -> dict[str, str]:
    """The whole environment of an Airflow process: ours, minus every secret it has no use for."""
    settings = settings or get_settings()
    return {**settings.child_env(TASK_ROLES, kafka=True), **airflow_env(settings)}


def run_airflow(
    args: Sequence[str],
    settings: Settings | None = None,
    *,
    check: bool = True,
    capture_output: bool = False,
    timeout: float | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``airflow <args>`` with the stack's environment, e.g. ``run_airflow(["dags", "list"])``."""
    env = {**airflow_process_env(settings), **(extra_env or {})}
    return subprocess.run(
        [airflow_executable(), *args],
        env=env,
        check=check,
        capture_output=capture_output,
        text=True,
        timeout=timeout,
        cwd=PROJECT_ROOT,
    )


def installed_version() -> str:
    """Version of the installed apache-airflow (read from package metadata, no import)."""
    return importlib.metadata.version("apache-airflow")


def _migrated_marker(settings: Settings) -> Path:
    return airflow_home(settings) / "metadata-db.version"


def _database_revision(settings: Settings) -> str | None:
    """Alembic revision of the metadata DB (None when it was never migrated)."""
    try:
        with psycopg.connect(settings.conninfo("airflow", AIRFLOW_DATABASE), connect_timeout=5) as conn:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.OperationalError):
        return None
    return row[0] if row else None


def metadata_db_current(settings: Settings) -> bool:
    """True when the last ``db migrate`` of this Airflow version left the DB at its current revision.

    ``airflow db migrate`` costs ~10 s even with nothing to do (importing Airflow
    alone takes ~6 s here); a marker naming version and revision, checked against
    the database, lets a restart skip it safely (a recreated database has another,
    or no, revision).
    """
    marker = _migrated_marker(settings)
    if not marker.exists():
        return False
    recorded = marker.read_text().split()
    revision = _database_revision(settings)
    return revision is not None and recorded == [installed_version(), revision]


def migrate_metadata_db(settings: Settings | None = None, *, force: bool = False) -> float:
    """``airflow db migrate`` on the stack's ``airflow`` database; seconds spent (0 if already current).

    Needs Postgres running (``stack.services.ensure_running(["postgres"])``), not
    the Airflow processes. ``force`` runs the migration even when the database is
    already at this Airflow version's revision.
    """
    settings = settings or get_settings()
    if not force and metadata_db_current(settings):
        return 0.0
    ensure_dir(airflow_home(settings))
    out_path = migrate_log(settings)
    ensure_dir(out_path.parent)
    deadline = Deadline(MIGRATE_TIMEOUT)
    with open(out_path, "a") as out:
        out.write(f"\n---- {time.strftime('%Y-%m-%d %H:%M:%S')} airflow db migrate\n")
        out.flush()
        try:
            result = subprocess.run(
                [airflow_executable(), "db", "migrate"],
                env=airflow_process_env(settings),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=MIGRATE_TIMEOUT,
                cwd=PROJECT_ROOT,
            )
        except subprocess.TimeoutExpired:
            raise StackError(
                f"airflow: db migrate took more than {MIGRATE_TIMEOUT:.0f} s\n{format_log_tail([out_path])}"
            ) from None
    if result.returncode != 0:
        raise StackError(f"airflow: db migrate failed (exit {result.returncode})\n{format_log_tail([out_path])}")
    revision = _database_revision(settings)
    if revision:
        _migrated_marker(settings).write_text(f"{installed_version()} {revision}\n")
    return deadline.elapsed


# ------------------------------------------------------------------ health


def health(settings: Settings, timeout: float = 3.0) -> dict[str, Any]:
    """The API server's ``/api/v2/monitor/health`` document.

    Shape: ``{"metadatabase": {"status": "healthy"}, "scheduler": {"status": ...,
    "latest_scheduler_heartbeat": ...}, "triggerer": {...}, "dag_processor": {...}}``;
    a component that never ran reports status ``null``.
    """
    with urllib.request.urlopen(f"{api_url(settings)}{HEALTH_PATH}", timeout=timeout) as response:
        return json.loads(response.read())


def unhealthy_components(document: Mapping[str, Any]) -> list[str]:
    """Components of a health document that are not ``healthy`` (missing counts)."""
    return [
        name
        for name in HEALTH_COMPONENTS
        if not isinstance(document.get(name), Mapping) or document[name].get("status") != "healthy"
    ]


def is_healthy(settings: Settings) -> bool:
    if not port_answers(settings.airflow_port):
        return False
    return not unhealthy_components(health(settings))


# --------------------------------------------------------------- lifecycle


def component_command(component: str) -> list[str]:
    """The command line of one component; it always contains ``airflow <component>``."""
    if component in PRELOADED_COMPONENTS:
        return [sys.executable, "-m", "stack.preloaded", "airflow", *COMPONENT_ARGS[component]]
    return [airflow_executable(), *COMPONENT_ARGS[component]]


def _marker(component: str) -> str:
    """Text the component's command line always contains (the API server retitles
    itself "airflow api_server -- host:… port:…", the others keep their argv)."""
    return "airflow api" if component == "api-server" else f"airflow {component}"


def running_components(settings: Settings) -> dict[str, int]:
    """Component → pid, for the components whose pidfile names a live Airflow process."""
    found = {}
    for component in COMPONENTS:
        pid = running_pid(pidfile(settings, component), _marker(component))
        if pid is not None:
            found[component] = pid
    return found


def write_passwords_file(settings: Settings) -> None:
    """The admin's password where the simple auth manager reads it, so it never invents (and prints) one.

    Every API and UI caller must log in: without this, any process on the host could
    create variables and connections and trigger DAGs as admin.
    """
    if not settings.airflow_admin_password:
        raise StackError("airflow: no admin password; start the stack once (it writes secrets.env) "
                         "or set STREAMMART_AIRFLOW_ADMIN_PASSWORD")
    write_private(passwords_file(settings), json.dumps({ADMIN_USER: settings.airflow_admin_password}) + "\n")


def start(settings: Settings) -> str:
    home = airflow_home(settings)
    running = running_components(settings)
    missing = [c for c in COMPONENTS if c not in running]
    if not missing:
        wait_until(lambda: is_healthy(settings), what=NAME, timeout=START_TIMEOUT, log_paths=log_paths(settings))
        return f"already running on {api_url(settings)} ({len(running)} components)"
    if "api-server" in missing:
        ensure_ports_free(ports(settings), NAME)
    ensure_dir(home)
    ensure_dir(settings.home / "logs")
    write_passwords_file(settings)
    deadline = Deadline(START_TIMEOUT)
    migrate_took = migrate_metadata_db(settings)
    if migrate_took:
        log.info("airflow: metadata database migrated (db migrate %.1f s)", migrate_took)
    else:
        log.info("airflow: metadata database already at Airflow %s's revision", installed_version())
    env = airflow_process_env(settings)
    pids: dict[str, int] = dict(running)
    for component in missing:
        remove_stale_pidfile(pidfile(settings, component), _marker(component))
        pids[component] = spawn(
            component_command(component),
            env=env,
            log_path=component_log(settings, component),
            pidfile=pidfile(settings, component),
            cwd=home,
        )
    took = wait_until(
        lambda: is_healthy(settings),
        what=NAME,
        timeout=START_TIMEOUT,
        log_paths=log_paths(settings),
        alive=lambda: all(pid_alive(pid) for pid in pids.values()),
        interval=0.5,
    )
    started = ", ".join(missing)
    return f"started {started} on {api_url(settings)} in {deadline.elapsed:.1f} s (healthy after {took:.1f} s)"


def stop(settings: Settings) -> str:
    running = running_components(settings)
    if not running:
        for component in COMPONENTS:
            pidfile(settings, component).unlink(missing_ok=True)
        return "not running"
    # Stop the scheduler first so it does not hand out work while the rest goes away.
    order = [c for c in ("scheduler", "triggerer", "dag-processor", "api-server") if c in running]
    for component in order:
        terminate(running[component], what=f"airflow {component}", timeout=STOP_TIMEOUT)
        pidfile(settings, component).unlink(missing_ok=True)
    return f"stopped {', '.join(order)}"


def _age(timestamp: str | None) -> str:
    """'3 s' for an ISO timestamp 3 seconds old ("" when absent or unreadable)."""
    if not timestamp:
        return ""
    try:
        seconds = (datetime.now(timezone.utc) - datetime.fromisoformat(timestamp)).total_seconds()
    except ValueError:
        return ""
    return f"{max(seconds, 0):.0f} s"


def status(settings: Settings) -> list[ServiceStatus]:
    running = running_components(settings)
    document: Mapping[str, Any] = {}
    problem = ""
    if "api-server" in running:
        try:
            document = health(settings)
        except (OSError, urllib.error.URLError, ValueError) as exc:
            problem = f"health endpoint: {exc}"
    rows = []
    for component in COMPONENTS:
        name = f"airflow {component}"
        pid = running.get(component)
        if pid is None:
            rows.append(ServiceStatus(name, "stopped", address=api_url(settings) if component == "api-server" else None))
            continue
        if component == "api-server":
            state = "running" if document and document.get("metadatabase", {}).get("status") == "healthy" else "starting"
            rows.append(ServiceStatus(name, state, pid, api_url(settings), problem or "UI, REST API"))
            continue
        key = component.replace("-", "_")
        entry = document.get(key) or {}
        state = "running" if entry.get("status") == "healthy" else ("starting" if not document else "unhealthy")
        heartbeat = _age(entry.get(f"latest_{key}_heartbeat"))
        rows.append(ServiceStatus(name, state, pid, None, f"heartbeat {heartbeat} ago" if heartbeat else problem))
    return rows
