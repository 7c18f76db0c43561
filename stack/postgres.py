"""PostgreSQL for the local stack: a private cluster under ``<home>/postgres``.

Postgres refuses to run as root, so when the shell is root every server-side
command runs as the ``postgres`` OS user (``runuser -u postgres --``) and the data
directory belongs to that user. The cluster listens on 127.0.0.1 and on a socket
in ``<home>/postgres/run``; the OS user running the stack administers it as the
``postgres`` role over that socket (peer auth, mapped in pg_ident.conf), everyone
else logs in with a password over loopback.

Bootstrap (roles, databases, the ``raw`` schema and grants) runs on every start;
it is idempotent and re-applies passwords, so the cluster always agrees with
``secrets.env``.
"""
from __future__ import annotations

import getpass
import glob
import grp
import logging
import os
import pwd
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from stack.config_files import render_template, write_text
from stack.processes import (
    LOOPBACK,
    Deadline,
    Port,
    ServiceStatus,
    StackError,
    ensure_dir,
    ensure_ports_free,
    running_pid,
    wait_until,
)
from stream_processors.raw_tables import BOOKKEEPING_SQL
from streammart.contract import DEAD_LETTERS_TABLE, RAW_SCHEMA
from streammart.settings import ROLES, Settings

log = logging.getLogger(__name__)

NAME = "postgres"
MIN_MAJOR_VERSION = 15
SERVER_OS_USER = "postgres"  # OS user owning the cluster when the shell is root
SUPERUSER_ROLE = "postgres"  # bootstrap superuser, reachable over the socket only
AIRFLOW_DATABASE = "airflow"
START_TIMEOUT = 60.0
INSTALL_HINT = "install it with: bash stack/install-system-packages.sh"


@dataclass(frozen=True)
class PostgresPaths:
    """Where this cluster's files live."""

    root: Path
    data: Path
    run: Path
    log: Path

    @property
    def pidfile(self) -> Path:
        return self.data / "postmaster.pid"


def paths(settings: Settings) -> PostgresPaths:
    root = settings.home / "postgres"
    return PostgresPaths(root=root, data=root / "data", run=root / "run", log=settings.home / "logs" / "postgres.log")


def log_paths(settings: Settings) -> list[Path]:
    return [paths(settings).log]


def ports(settings: Settings) -> list[Port]:
    return [Port(settings.pg_port, "STREAMMART_PG_PORT")]


# ------------------------------------------------------------------ binaries


def _major_version(pg_ctl: Path) -> int:
    out = subprocess.run([str(pg_ctl), "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else 0


def find_bin_dir() -> Path:
    """Directory holding initdb, pg_ctl and pg_isready of PostgreSQL 15 or later.

    ``initdb``/``pg_ctl`` on PATH win (symlinks resolved, so pg_isready comes from
    the same version); otherwise the newest ``/usr/lib/postgresql/*/bin``.
    """
    candidates: list[Path] = []
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        candidates.append(Path(on_path).resolve().parent)
    versioned = sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versioned)
    for bin_dir in candidates:
        pg_ctl = bin_dir / "pg_ctl"
        if pg_ctl.exists() and (bin_dir / "initdb").exists() and _major_version(pg_ctl) >= MIN_MAJOR_VERSION:
            return bin_dir
    raise StackError(f"postgres: no PostgreSQL {MIN_MAJOR_VERSION}+ initdb/pg_ctl found; {INSTALL_HINT}")


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _server_account() -> pwd.struct_passwd:
    """The OS account that owns and runs the cluster."""
    if not _running_as_root():
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam(SERVER_OS_USER)
    except KeyError:
        raise StackError(
            f"postgres: running as root needs the '{SERVER_OS_USER}' OS user (created by the "
            f"Debian postgresql package); {INSTALL_HINT}"
        ) from None


def _as_server_user(cmd: list[str]) -> list[str]:
    if _running_as_root():
        return ["runuser", "-u", SERVER_OS_USER, "--", *cmd]
    return cmd


def _run_server_command(cmd: list[str], what: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, cwd=cwd)
    if result.returncode != 0:
        raise StackError(f"postgres: {what} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}")
    return result


def _chown_to_server(*targets: Path) -> None:
    if not _running_as_root():
        return
    account = _server_account()
    for target in targets:
        os.chown(target, account.pw_uid, account.pw_gid)


# ------------------------------------------------------------------- config


def render_config(settings: Settings) -> dict[str, str]:
    """File name (inside the data dir) → text, for every file the stack manages."""
    p = paths(settings)
    os_user = getpass.getuser()
    return {
        "streammart.conf": render_template(
            "postgresql.conf", port=settings.pg_port, socket_dir=p.run, log_file=p.log
        ),
        "pg_hba.conf": render_template("pg_hba.conf"),
        "pg_ident.conf": render_template("pg_ident.conf", os_user=os_user),
    }


INCLUDE_LINE = "include 'streammart.conf'"


def _write_config(settings: Settings) -> None:
    p = paths(settings)
    for name, text in render_config(settings).items():
        target = p.data / name
        write_text(target, text, mode=0o600)
        _chown_to_server(target)
    main_conf = p.data / "postgresql.conf"
    if INCLUDE_LINE not in main_conf.read_text():
        with open(main_conf, "a") as fh:
            fh.write(f"\n# settings of the streammart local stack\n{INCLUDE_LINE}\n")


def blocked_ancestor(path: Path, account: pwd.struct_passwd) -> Path | None:
    """The first directory above ``path`` that ``account`` may not enter, or None when all are open.

    As root, the cluster runs as the ``postgres`` OS user, who must be able to walk
    down to its data directory; a project cloned under a 0700 directory (root's
    home, say) makes initdb fail with a bare "Permission denied".
    """
    groups = {g.gr_gid for g in grp.getgrall() if account.pw_name in g.gr_mem} | {account.pw_gid}
    for directory in reversed(path.resolve().parents):
        if not directory.exists():
            return None  # the stack creates the rest, open to others (ensure_dir)
        info = directory.stat()
        if info.st_uid == account.pw_uid:
            bit = stat.S_IXUSR
        elif info.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return directory
    return None


def _check_reachable(settings: Settings) -> None:
    if not _running_as_root():
        return
    account = _server_account()
    blocked = blocked_ancestor(settings.home / "postgres", account)
    if blocked is not None:
        raise StackError(
            f"postgres: the cluster would live under {settings.home}, but the '{account.pw_name}' OS user that "
            f"runs it cannot enter {blocked} (mode {stat.filemode(blocked.stat().st_mode)}, owner "
            f"{pwd.getpwuid(blocked.stat().st_uid).pw_name}). Put the stack's data elsewhere "
            f"(STREAMMART_HOME=/var/tmp/streammart, say), clone the project outside {blocked}, or let others "
            f"enter it (chmod o+x {blocked})."
        )


def _prepare_directories(settings: Settings) -> None:
    p = paths(settings)
    _check_reachable(settings)
    ensure_dir(settings.home)
    ensure_dir(p.root)
    ensure_dir(p.log.parent)
    ensure_dir(p.run, mode=0o755)
    _chown_to_server(p.run)
    p.log.touch(exist_ok=True)
    p.log.chmod(0o640)
    _chown_to_server(p.log)


def _init_cluster(settings: Settings, bin_dir: Path) -> None:
    """initdb once; a data dir with PG_VERSION is an existing cluster."""
    p = paths(settings)
    if (p.data / "PG_VERSION").exists():
        return
    p.data.mkdir(mode=0o700, exist_ok=True)
    _chown_to_server(p.data)
    log.info("postgres: initialising a new cluster in %s", p.data)
    _run_server_command(
        [
            str(bin_dir / "initdb"),
            "--pgdata", str(p.data),
            "--username", SUPERUSER_ROLE,
            "--auth-local", "peer",
            "--auth-host", "scram-sha-256",
            "--encoding", "UTF8",
            "--no-locale",
            "--no-instructions",
        ],
        "initdb",
        cwd=p.root,
    )


# ---------------------------------------------------------------- bootstrap


def superuser_conninfo(settings: Settings, database: str = "postgres") -> str:
    """Socket connection as the bootstrap superuser (only the stack's OS user may use it)."""
    return make_conninfo(
        host=str(paths(settings).run), port=settings.pg_port, dbname=database, user=SUPERUSER_ROLE,
        application_name="streammart-stack",
    )


def database_owners(settings: Settings) -> dict[str, str]:
    """Database name → owning role name, as the bootstrap creates them."""
    return {settings.pg_database: settings.role_name("admin"), AIRFLOW_DATABASE: settings.role_name("airflow")}


def role_attributes(role: str) -> sql.SQL:
    if role == "admin":
        return sql.SQL("LOGIN SUPERUSER CREATEDB CREATEROLE")
    return sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")


def grant_statements(settings: Settings) -> list[sql.Composed]:
    """Privileges inside the pipeline database; run in it, in this order.

    ``ingest`` owns ``raw`` (creates and writes the raw tables); ``transform`` reads
    ``raw`` and may create schemas (dbt makes staging/intermediate/marts and grants
    ``reader`` itself); ``reader`` can only connect until dbt grants it marts, and read
    dead letters' positions and reasons (not their payload) for the pipeline page.
    TEMPORARY lets landing and dbt's incremental merges use temp tables.
    """
    ident = sql.Identifier
    db = ident(settings.pg_database)
    ingest, transform, reader = (ident(settings.role_name(r)) for r in ("ingest", "transform", "reader"))
    raw = ident(RAW_SCHEMA)
    q = sql.SQL
    return [
        q("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db),
        q("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}, {}").format(db, ingest, transform),
        q("GRANT CONNECT ON DATABASE {} TO {}").format(db, reader),
        q("GRANT CREATE ON DATABASE {} TO {}").format(db, transform),
        q("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(raw, ingest),
        q("GRANT USAGE ON SCHEMA {} TO {}").format(raw, transform),
        q("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(raw, transform),
        q("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
            ingest, raw, transform
        ),
        # The bookkeeping tables exist from the start (owned by ingest, as the worker makes them), so
        # reader can be given what the pipeline page shows of dead letters: never their payload.
        q("SET ROLE {}").format(ingest),
        *BOOKKEEPING_SQL,
        q("RESET ROLE"),
        q("GRANT USAGE ON SCHEMA {} TO {}").format(raw, reader),
        q('GRANT SELECT (topic, partition, "offset", stage, error, at) ON {} TO {}').format(
            ident(RAW_SCHEMA, DEAD_LETTERS_TABLE), reader
        ),
    ]


def bootstrap(settings: Settings) -> None:
    """Create or update roles, databases and grants (idempotent)."""
    ident = sql.Identifier
    with psycopg.connect(superuser_conninfo(settings), autocommit=True) as conn:
        for role in ROLES:
            name = settings.role_name(role)
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
            verb = sql.SQL("ALTER ROLE") if exists else sql.SQL("CREATE ROLE")
            conn.execute(
                sql.SQL("{} {} WITH {} PASSWORD {}").format(
                    verb, ident(name), role_attributes(role), sql.Literal(settings.password(role))
                )
            )
        for database, owner in database_owners(settings).items():
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
            if exists:
                conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(ident(database), ident(owner)))
            else:
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(ident(database), ident(owner)))
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(ident(AIRFLOW_DATABASE)))
    with psycopg.connect(superuser_conninfo(settings, settings.pg_database), autocommit=True) as conn:
        with conn.transaction():
            for statement in grant_statements(settings):
                conn.execute(statement)


# ---------------------------------------------------------------- lifecycle


def running(settings: Settings) -> int | None:
    """Postmaster pid when our cluster is running (from postmaster.pid)."""
    return running_pid(paths(settings).pidfile, "postgres")


def is_ready(settings: Settings, bin_dir: Path | None = None) -> bool:
    """pg_isready on the loopback port: the server accepts connections."""
    bin_dir = bin_dir or find_bin_dir()
    result = subprocess.run(
        [str(bin_dir / "pg_isready"), "-q", "-h", LOOPBACK, "-p", str(settings.pg_port), "-t", "2"],
        capture_output=True,
    )
    return result.returncode == 0


def start(settings: Settings) -> str:
    """Start (or find running) and bootstrap; return what happened, for the log."""
    clock = Deadline(START_TIMEOUT)
    p = paths(settings)
    bin_dir = find_bin_dir()
    pid = running(settings)
    if pid is not None:
        wait_until(lambda: is_ready(settings, bin_dir), what=NAME, timeout=START_TIMEOUT, log_paths=[p.log])
        bootstrap(settings)
        return f"already running on {LOOPBACK}:{settings.pg_port} (pid {pid})"
    ensure_ports_free(ports(settings), NAME)
    _prepare_directories(settings)
    _init_cluster(settings, bin_dir)
    _write_config(settings)
    # -W: do not wait inside pg_ctl; readiness is polled below with a clear deadline.
    _run_server_command(
        [str(bin_dir / "pg_ctl"), "--pgdata", str(p.data), "--log", str(p.log), "-W", "start"],
        "pg_ctl start",
        cwd=p.root,
    )
    wait_until(lambda: is_ready(settings, bin_dir), what=NAME, timeout=START_TIMEOUT, log_paths=[p.log])
    bootstrap(settings)
    return f"started on {LOOPBACK}:{settings.pg_port} in {clock.elapsed:.1f} s"


def stop(settings: Settings) -> str:
    p = paths(settings)
    pid = running(settings)
    if pid is None:
        return "not running"
    _run_server_command(
        [str(find_bin_dir() / "pg_ctl"), "--pgdata", str(p.data), "--mode", "fast", "--timeout", "60", "-w", "stop"],
        "pg_ctl stop",
        cwd=p.root,
    )
    return f"stopped (pid {pid})"


def status(settings: Settings) -> list[ServiceStatus]:
    pid = running(settings)
    address = f"{LOOPBACK}:{settings.pg_port}"
    if pid is None:
        return [ServiceStatus(NAME, "stopped", address=address)]
    if is_ready(settings):
        return [ServiceStatus(NAME, "running", pid, address, f"{settings.pg_database}, {AIRFLOW_DATABASE}")]
    return [ServiceStatus(NAME, "starting", pid, address, "not accepting connections yet")]
