"""docker-compose.yml describes the same stack as ``python -m stack`` (Docker cannot run here)."""
from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import SplitResult, urlsplit

import pytest
import yaml

from stack import airflow, postgres
from streammart.settings import PROJECT_ROOT, ROLES, Settings

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
INIT_SCRIPT = PROJECT_ROOT / "stack" / "docker" / "postgres-init.sh"

# Settings whose values legitimately differ inside containers (paths, in-container
# ports and hosts, secrets passed by reference). Everything else must be equal.
CONTAINER_SPECIFIC = {
    "AIRFLOW__CORE__DAGS_FOLDER",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC",
    "AIRFLOW__API__HOST",
    "AIRFLOW__API__PORT",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def defaults(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Default settings (ports as shipped, whatever this shell exports), with placeholder secrets."""
    secrets = {f"pg_{role}_password": f"pw-{role}" for role in ROLES}
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            if key.startswith("STREAMMART_"):
                patch.delenv(key)
        return Settings(
            _env_file=None,
            home=tmp_path_factory.mktemp("home"),
            airflow_jwt_secret="jwt",
            airflow_fernet_key="fernet",
            **secrets,
        )


def published(service: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(host address, host port, container port) of a service's ``ports`` entries."""
    result = []
    for entry in service.get("ports", []):
        host_ip, host_port, container_port = str(entry).split(":")
        result.append((host_ip, int(host_port), int(container_port)))
    return result


def parse_url(url: str) -> SplitResult:
    """Split a SQLAlchemy URL; ``${VAR}`` references count as values, '_' is allowed in the scheme."""
    scheme, _, rest = re.sub(r"\$\{[^}]*\}", "from-env", url).partition("://")
    return urlsplit(f"db://{rest}")._replace(scheme=scheme)


def normalise_sql(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace('"', "")).strip().rstrip(";").lower()


def test_same_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"kafka", "postgres", "airflow", "processors", "dashboard"}


def test_ports_published_on_loopback_with_local_stack_numbers(compose: dict[str, Any], defaults: Settings) -> None:
    services = compose["services"]
    expected = {
        "postgres": {defaults.pg_port},
        "kafka": {defaults.kafka_port},
        "airflow": {defaults.airflow_port},
        "processors": set(),
        "dashboard": {defaults.dashboard_port},
    }
    for name, ports in expected.items():
        entries = published(services[name])
        assert {host_port for _, host_port, _ in entries} == ports, name
        assert all(host_ip == "127.0.0.1" for host_ip, _, _ in entries), name
    assert (defaults.pg_port, 5432) in {(h, c) for _, h, c in published(services["postgres"])}


def test_images_match_pinned_versions(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["kafka"]["image"] == "apache/kafka:3.9.1"
    assert services["postgres"]["image"] == "postgres:15"
    dockerfile = PROJECT_ROOT / services["airflow"]["build"]["dockerfile"]
    assert "FROM apache/airflow:3.3.0-python3.11" in dockerfile.read_text()
    assert services["processors"]["command"][:2] == ["stream-processors", "worker"]
    assert (PROJECT_ROOT / services["processors"]["build"]["dockerfile"]).exists()
    assert services["dashboard"]["image"] == services["processors"]["image"]
    assert services["dashboard"]["command"][0] == "streammart-dashboard"


def test_kafka_matches_local_broker_settings(compose: dict[str, Any], defaults: Settings) -> None:
    env = compose["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert f"EXTERNAL://127.0.0.1:{defaults.kafka_port}" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert str(defaults.kafka_controller_port) in env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert env["KAFKA_NUM_PARTITIONS"] == str(defaults.kafka_partitions)
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "true"
    assert env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == "0"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_HEAP_OPTS"] == "-Xmx512m -Xms256m"


def test_postgres_init_creates_the_same_roles(defaults: Settings) -> None:
    text = INIT_SCRIPT.read_text()
    created = dict(re.findall(r"CREATE ROLE (\w+) WITH ([A-Z ]+?) PASSWORD", text))
    expected = {defaults.role_name(r): postgres.role_attributes(r).as_string(None) for r in ROLES}
    assert created == expected
    for role in ROLES:
        assert f'-v {role}_pw="$STREAMMART_PG_{role.upper()}_PASSWORD"' in text


def test_postgres_init_creates_the_same_databases(defaults: Settings) -> None:
    text = INIT_SCRIPT.read_text()
    created = dict(re.findall(r"CREATE DATABASE (\w+) OWNER (\w+)", text))
    assert created == postgres.database_owners(defaults)


def test_postgres_init_applies_the_same_grants(defaults: Settings) -> None:
    docker_sql = normalise_sql(INIT_SCRIPT.read_text())
    for statement in postgres.grant_statements(defaults):
        assert normalise_sql(statement.as_string(None)) in docker_sql, statement.as_string(None)


def test_postgres_container_gets_every_password(compose: dict[str, Any]) -> None:
    env = compose["services"]["postgres"]["environment"]
    for role in ROLES:
        value = env[f"STREAMMART_PG_{role.upper()}_PASSWORD"]
        assert value.startswith(f"${{STREAMMART_PG_{role.upper()}_PASSWORD:?"), "passwords come from the environment"
    mounts = compose["services"]["postgres"]["volumes"]
    assert any(m.startswith("./stack/docker/postgres-init.sh:/docker-entrypoint-initdb.d/") for m in mounts)


def test_airflow_settings_agree_with_local_stack(compose: dict[str, Any], defaults: Settings) -> None:
    docker_env = {k: str(v) for k, v in compose["services"]["airflow"]["environment"].items()}
    local_env = airflow.airflow_env(defaults)
    local_keys = {k for k in local_env if k.startswith("AIRFLOW__")}
    docker_keys = {k for k in docker_env if k.startswith("AIRFLOW__")}
    assert docker_keys == local_keys
    for key in sorted(local_keys - CONTAINER_SPECIFIC):
        assert docker_env[key] == local_env[key], key
    for key, scheme in (("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg"),
                        ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC", "postgresql+psycopg_async")):
        local, docker = parse_url(local_env[key]), parse_url(docker_env[key])
        assert local.scheme == docker.scheme == scheme
        assert local.username == docker.username == defaults.role_name("airflow")
        assert local.path == docker.path == f"/{postgres.AIRFLOW_DATABASE}"
    assert docker_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].endswith("/execution/")
    assert docker_env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${STREAMMART_AIRFLOW_JWT_SECRET:?")
    assert docker_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"
    assert docker_env["STREAMMART_AIRFLOW_ADMIN_PASSWORD"].startswith("${STREAMMART_AIRFLOW_ADMIN_PASSWORD:?")
    assert "STREAMMART_AIRFLOW_ADMIN_PASSWORD" in " ".join(compose["services"]["airflow"]["command"])
    assert docker_env["AIRFLOW__API__PORT"] == "8080"
    assert published(compose["services"]["airflow"]) == [("127.0.0.1", defaults.airflow_port, 8080)]


def test_processors_reach_kafka_and_postgres_inside_the_network(compose: dict[str, Any]) -> None:
    env = compose["services"]["processors"]["environment"]
    assert env["STREAMMART_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert env["STREAMMART_PG_HOST"] == "postgres"
    assert env["STREAMMART_PG_PORT"] == "5432"
    assert set(compose["services"]["processors"]["depends_on"]) == {"kafka", "postgres"}


def test_dashboard_reads_the_workers_metrics_over_the_compose_network(compose: dict[str, Any],
                                                                     defaults: Settings) -> None:
    """The worker binds its metrics to its container's address, the one the dashboard's container asks for."""
    services = compose["services"]
    command = services["processors"]["command"]
    port = command[command.index("--metrics-port") + 1]
    for name in ("processors", "dashboard"):
        env = services[name]["environment"]
        assert env["STREAMMART_WORKER_METRICS_HOST"] == "processors", name
        assert env["STREAMMART_WORKER_METRICS_PORT"] == port == str(defaults.worker_metrics_port), name
    assert "processors" in services["dashboard"]["depends_on"]
    assert defaults.worker_metrics_host == "127.0.0.1", "the local stack keeps the metrics on loopback"


def test_no_secret_values_committed() -> None:
    text = COMPOSE_FILE.read_text() + INIT_SCRIPT.read_text()
    for match in re.finditer(r"^\s*\w*(?:PASSWORD|SECRET|FERNET_KEY):\s*(.+)$", text, re.MULTILINE):
        assert match.group(1).startswith("${"), match.group(0)
    assert not re.search(r"://\w+:(?!\$\{)[^@\s]+@", COMPOSE_FILE.read_text())


def test_each_service_gets_only_its_own_roles_password(compose: dict[str, Any]) -> None:
    """The same least-privilege split as the local stack's processes."""
    from stack import airflow
    from stack.pipeline_processes import dashboard, processors

    expected = {"processors": processors.roles, "dashboard": dashboard.roles, "airflow": airflow.TASK_ROLES}
    for service, roles in expected.items():
        env = compose["services"][service]["environment"]
        passwords = {key for key in env if key.startswith("STREAMMART_PG_") and key.endswith("_PASSWORD")}
        assert passwords == {f"STREAMMART_PG_{role.upper()}_PASSWORD" for role in roles}, service
