"""Rendered service configuration, Airflow environment, secrets and CLI plumbing (no services)."""
from __future__ import annotations

import os
import pwd
import shlex
import stat
import string
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from stack import airflow, kafka, postgres, services
from stack.cli import cli
from stack.processes import StackError
from stack.secrets import GENERATORS, ensure_secrets, read_env_file
from streammart.contract import RAW_SCHEMA
from streammart.settings import PROJECT_ROOT, ROLES, Settings, get_settings, load_settings, secrets_file


def properties(text: str) -> dict[str, str]:
    pairs = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


@pytest.fixture
def custom_settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "h",
        kafka_port=29192,
        kafka_controller_port=29193,
        kafka_partitions=3,
        pg_port=25999,
        airflow_port=28999,
        airflow_dags_paused=False,
        pg_admin_password="a",
        pg_ingest_password="i",
        pg_transform_password="t",
        pg_reader_password="r",
        pg_airflow_password="p@ss/w:rd%",
        airflow_jwt_secret="jwt",
        airflow_fernet_key="fernet",
    )


# --------------------------------------------------------------------- kafka


def test_kafka_server_properties_single_loopback_node(custom_settings: Settings) -> None:
    text = kafka.render_server_properties(custom_settings)
    assert "${" not in text
    conf = properties(text)
    assert conf["process.roles"] == "broker,controller"
    assert conf["listeners"] == "PLAINTEXT://127.0.0.1:29192,CONTROLLER://127.0.0.1:29193"
    assert conf["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29192"
    assert conf["controller.quorum.voters"] == "1@127.0.0.1:29193"
    assert conf["num.partitions"] == "3"
    assert conf["log.dirs"] == str(custom_settings.home / "kafka" / "data")
    assert conf["auto.create.topics.enable"] == "true"
    assert conf["group.initial.rebalance.delay.ms"] == "0"
    for key in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor",
                "default.replication.factor", "transaction.state.log.min.isr"):
        assert conf[key] == "1", key


def test_kafka_log4j_and_java_command(custom_settings: Settings) -> None:
    text = kafka.render_log4j_properties(custom_settings)
    assert "${" not in text and "log4j.rootLogger=INFO, stdout" in text
    assert "kafka.network.RequestChannel$=" in text  # $$ in the template is a literal $
    cmd = kafka.java_command(custom_settings, kafka.MAIN_CLASS, "server.properties")
    assert "-Xmx512m" in cmd and "-Xms256m" in cmd
    assert cmd[-2:] == [kafka.MAIN_CLASS, "server.properties"]


def test_kafka_cluster_renders_three_loopback_nodes_of_one_quorum(custom_settings: Settings) -> None:
    cluster = custom_settings.model_copy(update={"kafka_brokers": 3})
    nodes = kafka.nodes(cluster)
    confs = [properties(kafka.render_server_properties(cluster, node)) for node in nodes]
    assert [c["node.id"] for c in confs] == ["1", "2", "3"]
    assert {c["controller.quorum.voters"] for c in confs} == {
        "1@127.0.0.1:29193,2@127.0.0.1:29195,3@127.0.0.1:29197"}
    assert [c["listeners"] for c in confs] == [f"PLAINTEXT://127.0.0.1:{2 * n + 29192},CONTROLLER://127.0.0.1:"
                                               f"{2 * n + 29193}" for n in range(3)]
    assert len({c["log.dirs"] for c in confs}) == 3 and all(c["log.dirs"].startswith(
        str(cluster.home / "kafka" / "node-")) for c in confs)
    assert len({n.pidfile for n in nodes} | {n.log for n in nodes}) == 6
    for conf in confs:
        for key in ("default.replication.factor", "offsets.topic.replication.factor",
                    "transaction.state.log.replication.factor"):
            assert conf[key] == "3", key
        assert conf["min.insync.replicas"] == conf["transaction.state.log.min.isr"] == "2"
    assert cluster.bootstrap_servers == "127.0.0.1:29192,127.0.0.1:29194,127.0.0.1:29196"
    assert [n.number for n in kafka.ports(cluster)] == [29192, 29193, 29194, 29195, 29196, 29197]


def test_kafka_cluster_refuses_sizes_and_ports_it_cannot_run(custom_settings: Settings) -> None:
    with pytest.raises(ValueError, match="kafka_brokers must be one of"):
        Settings(home=custom_settings.home, kafka_brokers=2)
    with pytest.raises(ValueError, match="collide"):  # node 2's client port would be node 1's controller port
        Settings(home=custom_settings.home, kafka_brokers=3, kafka_port=29192, kafka_controller_port=29194)
    with pytest.raises(ValueError, match="collide"):  # node 3's client port is Postgres's
        Settings(home=custom_settings.home, kafka_brokers=3, kafka_port=25000, kafka_controller_port=25001,
                 pg_port=25004)
    with pytest.raises(StackError, match="no node 4"):
        kafka.node(custom_settings.model_copy(update={"kafka_brokers": 3}), 4)


def test_kafka_version_is_pinned_in_the_pom() -> None:
    assert kafka.pinned_version() == "3.9.1"


def test_cluster_id_has_kafka_shape_and_is_kept(custom_settings: Settings) -> None:
    for _ in range(200):
        value = kafka.new_cluster_id()
        assert len(value) == 22 and not value.startswith("-")
        assert set(value) <= set(string.ascii_letters + string.digits + "-_")
    first = kafka.cluster_id(custom_settings)
    assert kafka.cluster_id(custom_settings) == first


# ------------------------------------------------------------------ postgres


def test_postgres_config_listens_on_loopback_with_scram(custom_settings: Settings) -> None:
    files = postgres.render_config(custom_settings)
    conf = properties(files["streammart.conf"])
    assert conf["listen_addresses"] == "'127.0.0.1'"
    assert conf["port"] == "25999"
    assert conf["unix_socket_directories"] == f"'{custom_settings.home / 'postgres' / 'run'}'"
    assert conf["password_encryption"] == "'scram-sha-256'"
    assert conf["fsync"] == "on"
    assert conf["shared_buffers"] == "256MB" and conf["max_connections"] == "200"


def test_pg_hba_allows_only_peer_superuser_and_loopback_passwords(custom_settings: Settings) -> None:
    files = postgres.render_config(custom_settings)
    rules = [line.split() for line in files["pg_hba.conf"].splitlines() if line.strip() and not line.startswith("#")]
    assert rules == [
        ["local", "all", "postgres", "peer", "map=stack"],
        ["host", "all", "all", "127.0.0.1/32", "scram-sha-256"],
    ]
    ident = files["pg_ident.conf"]
    assert "stack      postgres         postgres" in ident
    assert "${" not in ident


def test_postgres_bin_dir_is_15_or_later() -> None:
    bin_dir = postgres.find_bin_dir()
    assert (bin_dir / "pg_ctl").exists() and (bin_dir / "initdb").exists() and (bin_dir / "pg_isready").exists()


def test_bootstrap_names(custom_settings: Settings) -> None:
    assert postgres.database_owners(custom_settings) == {"streammart": "streammart_admin", "airflow": "airflow"}
    statements = [s.as_string(None) for s in postgres.grant_statements(custom_settings)]
    assert f'CREATE SCHEMA IF NOT EXISTS "{RAW_SCHEMA}" AUTHORIZATION "ingest"' in statements
    assert 'REVOKE ALL ON DATABASE "streammart" FROM PUBLIC' in statements


# ------------------------------------------------------------------- airflow


def test_airflow_env_points_everything_at_the_stack(custom_settings: Settings) -> None:
    env = airflow.airflow_env(custom_settings)
    assert env["AIRFLOW_HOME"] == str(custom_settings.home / "airflow")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__PARALLELISM"] == "4"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(PROJECT_ROOT / "airflow_dags")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "False"
    paused = custom_settings.model_copy(update={"airflow_dags_paused": True})
    assert airflow.airflow_env(paused)["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "True"
    # every API and UI caller logs in; the admin's password is the stack's, in a private file
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(airflow.passwords_file(custom_settings))
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__API__PORT"] == "28999"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:28999/execution/"
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == "jwt"
    assert env["AIRFLOW__CORE__FERNET_KEY"] == "fernet"
    # the password is URL-quoted, the drivers are the psycopg 3 ones
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == (
        "postgresql+psycopg://airflow:p%40ss%2Fw%3Ard%25@127.0.0.1:25999/airflow"
    )
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"].startswith("postgresql+psycopg_async://airflow:")
    assert env["PATH"].split(os.pathsep)[0] == str(airflow.venv_bin())
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(PROJECT_ROOT)
    # DAG tasks reach the same Postgres/Kafka
    assert env["STREAMMART_PG_PORT"] == "25999"
    assert env["STREAMMART_KAFKA_PORT"] == "29192"
    # ... as the transform role only: no other password, not even Airflow's own in plain form
    assert env["STREAMMART_PG_TRANSFORM_PASSWORD"] == custom_settings.pg_transform_password
    assert "STREAMMART_PG_INGEST_PASSWORD" not in env and "STREAMMART_PG_ADMIN_PASSWORD" not in env
    assert "STREAMMART_AIRFLOW_ADMIN_PASSWORD" not in env
    assert env["STREAMMART_HOME"] == str(custom_settings.home)
    assert all(isinstance(v, str) for v in env.values())


def test_airflow_env_without_secrets_says_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="JWT secret"):
        airflow.airflow_env(Settings(home=tmp_path, airflow_jwt_secret=None))


def test_unhealthy_components_reads_the_health_document() -> None:
    healthy = {name: {"status": "healthy"} for name in airflow.HEALTH_COMPONENTS}
    assert airflow.unhealthy_components(healthy) == []
    assert airflow.unhealthy_components({**healthy, "triggerer": {"status": None}}) == ["triggerer"]
    assert airflow.unhealthy_components({"metadatabase": {"status": "healthy"}}) == [
        "scheduler", "triggerer", "dag_processor"
    ]


# ------------------------------------------------------------------- secrets


def test_secrets_file_is_private_complete_and_never_overwritten(isolated_home: Path) -> None:
    generated = ensure_secrets(isolated_home)
    path = secrets_file(isolated_home)
    assert sorted(generated) == sorted(GENERATORS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = read_env_file(path)
    assert set(first) == set(GENERATORS) and all(len(v) >= 24 for v in first.values())
    assert len(set(first.values())) == len(first)  # independent values

    assert ensure_secrets(isolated_home) == []
    assert read_env_file(path) == first

    # a removed key is added back, the others stay as they were
    path.write_text("".join(f"{k}={v}\n" for k, v in first.items() if k != "STREAMMART_PG_READER_PASSWORD"))
    assert ensure_secrets(isolated_home) == ["STREAMMART_PG_READER_PASSWORD"]
    second = read_env_file(path)
    assert {k: v for k, v in second.items() if k != "STREAMMART_PG_READER_PASSWORD"} == {
        k: v for k, v in first.items() if k != "STREAMMART_PG_READER_PASSWORD"
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_secrets_already_in_environment_are_not_written(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMMART_PG_INGEST_PASSWORD", "from-env")
    generated = ensure_secrets(isolated_home)
    assert "STREAMMART_PG_INGEST_PASSWORD" not in generated
    assert "STREAMMART_PG_INGEST_PASSWORD" not in read_env_file(secrets_file(isolated_home))
    settings = load_settings()
    assert settings.password("ingest") == "from-env"  # environment wins
    assert settings.password("reader")  # file is the fallback
    assert settings.airflow_jwt_secret


def test_loose_permissions_are_tightened(isolated_home: Path) -> None:
    ensure_secrets(isolated_home)
    path = secrets_file(isolated_home)
    path.chmod(0o644)
    ensure_secrets(isolated_home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_with_secrets_fills_settings_built_for_another_home(isolated_home: Path) -> None:
    ensure_secrets(isolated_home)
    bare = Settings(home=isolated_home, **{f"pg_{role}_password": None for role in ROLES})
    filled = services.with_secrets(bare)
    assert all(filled.password(role) for role in ROLES)


# ----------------------------------------------------------------------- cli


def test_env_command_prints_eval_able_exports(isolated_home: Path) -> None:
    result = CliRunner().invoke(cli, ["env"])
    assert result.exit_code == 0, result.output
    exported = {}
    for line in result.stdout.splitlines():
        assert line.startswith("export "), line
        key, _, value = line.removeprefix("export ").partition("=")
        exported[key] = shlex.split(value)[0] if value else ""
    assert exported["STREAMMART_HOME"] == str(isolated_home)
    assert exported["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert exported["STREAMMART_PG_TRANSFORM_PASSWORD"] == read_env_file(secrets_file(isolated_home))[
        "STREAMMART_PG_TRANSFORM_PASSWORD"
    ]
    get_settings.cache_clear()


def test_help_lists_commands_and_ports() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for word in ("start", "stop", "status", "logs", "env", "STREAMMART_KAFKA_PORT", "15432"):
        assert word in result.output


def test_unknown_service_is_rejected() -> None:
    result = CliRunner().invoke(cli, ["start", "zookeeper"])
    assert result.exit_code == 2 and "zookeeper" in result.output


def test_start_order_and_requirements() -> None:
    assert services.in_start_order(None) == ["postgres", "kafka", "processors", "demo-api", "dashboard", "airflow"]
    assert services.in_start_order(["processors"], with_requirements=True) == ["postgres", "kafka", "processors"]
    assert services.in_start_order(["airflow", "kafka"]) == ["kafka", "airflow"]
    assert services.in_start_order(["airflow"], with_requirements=True) == ["postgres", "airflow"]
    with pytest.raises(StackError):
        services.in_start_order(["redis"])


def test_purge_refuses_dangerous_homes(tmp_path: Path) -> None:
    for home in (Path("/"), PROJECT_ROOT, Path.home()):
        with pytest.raises(StackError, match="refusing to purge"):
            services.purge_data(Settings(home=home), services.SERVICE_NAMES)


def test_purge_of_everything_removes_home(tmp_path: Path) -> None:
    home = tmp_path / "stack-home"
    (home / "kafka" / "data").mkdir(parents=True)
    (home / "secrets.env").write_text("X=1\n")
    services.purge_data(Settings(home=home), services.SERVICE_NAMES)
    assert not home.exists()


def test_logs_command_tails_a_log(isolated_home: Path) -> None:
    log = isolated_home / "logs" / "kafka.log"
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"line {i}\n" for i in range(10)))
    result = CliRunner().invoke(cli, ["logs", "kafka", "-n", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["line 8", "line 9"]


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary directory other OS users may enter (pytest's tmp_path sits under a 0700 one)."""
    with tempfile.TemporaryDirectory(dir="/tmp") as top:
        Path(top).chmod(0o755)
        yield Path(top)


def test_a_home_the_postgres_user_cannot_reach_is_named_before_initdb(open_tmp: Path) -> None:
    account = pwd.getpwnam("postgres")
    closed = open_tmp / "closed"
    home = closed / "project" / ".stack"
    home.mkdir(parents=True)
    closed.chmod(0o700)  # like root's home: only its owner (not postgres) may enter
    assert postgres.blocked_ancestor(home / "postgres", account) == closed
    closed.chmod(0o711)
    assert postgres.blocked_ancestor(home / "postgres", account) is None
    assert postgres.blocked_ancestor(open_tmp / "not" / "there" / "yet", account) is None
