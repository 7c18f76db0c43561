"""Where the services are and how to reach them.

Every value comes from the environment (prefix ``STREAMMART_``) so that secrets
never live in committed files. The local stack writes the passwords it generates
to ``<home>/secrets.env`` (mode 0600); that file is read as a fallback, so a shell
that started the stack and one that did not see the same values.

Processes the stack starts get only the credentials of their own Postgres role
(:meth:`Settings.child_env`) and are told not to read that file
(``STREAMMART_READ_SECRETS_FILE=false``): the dashboard holds the ``reader``
password, never the superuser's; only Kafka clients get the Kafka password.

Every Kafka client (producers, worker, Faust, dead-letter replay, Airflow's
trigger, the stack's admin calls) takes its settings from :func:`kafka_client_config`,
so pointing the pipeline at a managed cluster is a matter of environment variables.
"""
from __future__ import annotations

import os
from collections.abc import Collection
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOME = PROJECT_ROOT / ".stack"

ROLES = ("admin", "ingest", "transform", "reader", "airflow")
SCRAM_MECHANISM = "SCRAM-SHA-512"
KAFKA_CLIENT_USER = "streammart"
READ_SECRETS_FILE = "STREAMMART_READ_SECRETS_FILE"
KAFKA_CLUSTER_SIZES = (1, 3)
#: Node N of a local cluster listens on kafka_port + STEP*(N-1) (controller: kafka_controller_port + STEP*(N-1)),
#: so a 3-node cluster stays inside the block of ten ports each stack keeps for Kafka (19092-19101, 19102-19111...).
KAFKA_NODE_PORT_STEP = 2


def _home() -> Path:
    return Path(os.environ.get("STREAMMART_HOME", DEFAULT_HOME))


def secrets_file(home: Path | None = None) -> Path:
    return (home or _home()) / "secrets.env"


class Settings(BaseSettings):
    """Connection settings of the pipeline and the local stack."""

    model_config = SettingsConfigDict(env_prefix="STREAMMART_", extra="ignore")

    home: Path = Field(default_factory=_home, description="project-local directory for service data and logs")

    kafka_port: int = 19092
    kafka_controller_port: int = 19093
    kafka_bootstrap: str | None = Field(None, description="overrides 127.0.0.1:<kafka_port>")
    kafka_partitions: int = 6
    kafka_brokers: int = Field(1, description="KRaft nodes of the local stack (1 or 3); 3 nodes replicate every "
                                               "topic 3 times and accept a write once 2 replicas hold it")
    kafka_sasl: Literal["off", "scram"] = Field("off", description="the local broker asks for SASL/SCRAM-SHA-512 "
                                                                     "and clients log in (stack mode)")
    kafka_security_protocol: str | None = Field(None, description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL "
                                                                  "(SASL_PLAINTEXT when kafka_sasl=scram)")
    kafka_sasl_mechanism: str | None = Field(None, description=f"default {SCRAM_MECHANISM}")
    kafka_sasl_username: str | None = Field(None, description=f"default {KAFKA_CLIENT_USER}")
    kafka_sasl_password: str | None = Field(None, description="environment or secrets file only")
    kafka_broker_password: str | None = Field(None, description="the local broker's own SCRAM login (inter-broker)")
    kafka_ssl_ca_location: str | None = Field(None, description="CA bundle that signed the brokers' certificates")

    pg_host: str = "127.0.0.1"
    pg_port: int = 15432
    pg_database: str = "streammart"
    pg_admin_password: str | None = None
    pg_ingest_password: str | None = None
    pg_transform_password: str | None = None
    pg_reader_password: str | None = None
    pg_airflow_password: str | None = None

    airflow_port: int = 18080
    airflow_dags_paused: bool = Field(False, description="new DAGs start paused (the test stack's own cycles "
                                                          "would race the tests' cycles)")
    airflow_jwt_secret: str | None = Field(None, description="Airflow [api_auth] jwt_secret")
    airflow_fernet_key: str | None = Field(None, description="Airflow [core] fernet_key")
    airflow_admin_password: str | None = Field(None, description="password of Airflow's `admin` user (UI, REST API)")
    demo_api_port: int = 18081
    dashboard_port: int = 18085
    worker_metrics_port: int = 18086
    worker_metrics_host: str = Field("127.0.0.1", description="where the worker serves its metrics and where "
                                     "status and the dashboard read them; docker-compose names the worker's "
                                     "container, so they are reachable on the container network only")
    dbt_target: Literal["dev", "ci", "prod"] = Field("dev", description="the output of dbt/profiles.yml dbt uses")

    read_secrets_file: bool = Field(True, description="fall back to <home>/secrets.env for unset secrets "
                                                      "(off in the processes the stack starts)")

    @model_validator(mode="after")
    def _kafka_cluster_fits(self) -> "Settings":
        """A cluster size the stack can run, on ports that collide with nothing else the stack binds."""
        if self.kafka_brokers not in KAFKA_CLUSTER_SIZES:
            raise ValueError(f"kafka_brokers must be one of {KAFKA_CLUSTER_SIZES}, not {self.kafka_brokers}")
        kafka_ports = [port for pair in self.kafka_node_ports for port in pair]
        others = [self.pg_port, self.airflow_port, self.demo_api_port, self.dashboard_port, self.worker_metrics_port]
        if len(set(kafka_ports)) != len(kafka_ports) or set(kafka_ports) & set(others) or max(kafka_ports) > 65535:
            raise ValueError(f"the Kafka nodes' ports {kafka_ports} (client, controller per node: +"
                             f"{KAFKA_NODE_PORT_STEP} per node) collide with each other or with {others}; "
                             "move STREAMMART_KAFKA_PORT or STREAMMART_KAFKA_CONTROLLER_PORT")
        return self

    @property
    def kafka_node_ports(self) -> list[tuple[int, int]]:
        """(client port, controller port) of each local KRaft node, node 1 first."""
        return [(self.kafka_port + KAFKA_NODE_PORT_STEP * n, self.kafka_controller_port + KAFKA_NODE_PORT_STEP * n)
                for n in range(self.kafka_brokers)]

    @property
    def bootstrap_servers(self) -> str:
        """Every client's bootstrap list: ``kafka_bootstrap`` if set, else all the local nodes."""
        return self.kafka_bootstrap or ",".join(f"127.0.0.1:{port}" for port, _ in self.kafka_node_ports)

    @property
    def worker_metrics_url(self) -> str:
        return f"http://{self.worker_metrics_host}:{self.worker_metrics_port}/metrics"

    @property
    def kafka_protocol(self) -> str:
        return self.kafka_security_protocol or ("SASL_PLAINTEXT" if self.kafka_sasl == "scram" else "PLAINTEXT")

    @property
    def kafka_uses_sasl(self) -> bool:
        return self.kafka_protocol.upper().startswith("SASL")

    def kafka_security(self) -> dict[str, str]:
        """librdkafka security properties: protocol, SASL login, CA bundle (empty on plaintext)."""
        config: dict[str, str] = {}
        if self.kafka_protocol.upper() != "PLAINTEXT":
            config["security.protocol"] = self.kafka_protocol
        if self.kafka_uses_sasl:
            if not self.kafka_sasl_password:
                raise RuntimeError("no Kafka SASL password: set STREAMMART_KAFKA_SASL_PASSWORD or start the "
                                   f"local stack with STREAMMART_KAFKA_SASL=scram (it writes {secrets_file(self.home)})")
            config |= {"sasl.mechanism": self.kafka_sasl_mechanism or SCRAM_MECHANISM,
                       "sasl.username": self.kafka_sasl_username or KAFKA_CLIENT_USER,
                       "sasl.password": self.kafka_sasl_password}
        if self.kafka_ssl_ca_location:
            config["ssl.ca.location"] = self.kafka_ssl_ca_location
        return config

    def as_env(self, roles: Collection[str] | None = None, kafka: bool = False) -> dict[str, str]:
        """The settings as ``STREAMMART_*`` variables, so a child process sees the same stack.

        ``roles=None`` exports every secret (an operator's shell). Otherwise only the
        passwords of ``roles`` go out, plus the Kafka login when ``kafka`` and the
        broker asks for one; no other secret does, and the secrets file fallback is
        switched off, so the process cannot pick up the rest from there.
        """
        exported = {key: value for key, value in self.model_dump().items() if value is not None}
        if roles is not None:
            keep = {f"pg_{role}_password" for role in roles}
            if kafka and self.kafka_uses_sasl:
                keep.add("kafka_sasl_password")
            exported = {key: value for key, value in exported.items() if key not in SECRET_FIELDS or key in keep}
            exported["read_secrets_file"] = "false"
        return {f"STREAMMART_{key.upper()}": str(value) for key, value in exported.items()}

    def child_env(self, roles: Collection[str], kafka: bool = False) -> dict[str, str]:
        """The whole environment of a process that acts as ``roles`` (and a Kafka client if ``kafka``).

        The parent's own ``STREAMMART_*`` secrets (an operator may have exported
        them all) are removed before the child's are laid over, and so are the
        ``STREAMMART_KAFKA__*`` client properties of a process that is no Kafka client.
        """
        secret_names = {f"STREAMMART_{key.upper()}" for key in SECRET_FIELDS}
        inherited = {key: value for key, value in os.environ.items() if key not in secret_names
                     and (kafka or not key.startswith(KAFKA_PROPERTY_PREFIX))}
        return {**inherited, **self.as_env(roles, kafka)}

    def role_name(self, role: str) -> str:
        """Postgres role name for one of ROLES (``admin`` is the stack's superuser)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        return "streammart_admin" if role == "admin" else role

    def password(self, role: str) -> str:
        value = getattr(self, f"pg_{role}_password")
        if not value:
            raise RuntimeError(
                f"no password for Postgres role {role!r}: set STREAMMART_PG_{role.upper()}_PASSWORD "
                f"or start the local stack (it writes {secrets_file(self.home)})"
            )
        return value

    def conninfo(self, role: str, database: str | None = None) -> str:
        """libpq connection string for ``role`` (psycopg accepts it as is)."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(
            host=self.pg_host,
            port=self.pg_port,
            dbname=database or self.pg_database,
            user=self.role_name(role),
            password=self.password(role),
            application_name=f"streammart-{role}",
        )


SECRET_FIELDS = frozenset(
    {f"pg_{role}_password" for role in ROLES}
    | {"airflow_jwt_secret", "airflow_fernet_key", "airflow_admin_password"}
    | {"kafka_sasl_password", "kafka_broker_password"}
)
KAFKA_PROPERTY_PREFIX = "STREAMMART_KAFKA__"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, then from the stack's secrets file."""
    return load_settings()


def load_settings() -> Settings:
    env_file = secrets_file()
    use_file = os.environ.get(READ_SECRETS_FILE, "true").lower() != "false" and env_file.exists()
    return Settings(_env_file=env_file if use_file else None)


def kafka_client_config(settings: Settings | None = None) -> dict[str, str]:
    """librdkafka config of every client: bootstrap servers, security settings, pass-through properties.

    The security settings are :meth:`Settings.kafka_security`; any other client
    property passes through: ``STREAMMART_KAFKA__MESSAGE_MAX_BYTES=2000000`` becomes
    ``message.max.bytes=2000000`` (and wins over the named settings).
    """
    settings = settings or get_settings()
    config = {"bootstrap.servers": settings.bootstrap_servers, **settings.kafka_security()}
    prefix = KAFKA_PROPERTY_PREFIX
    for name, value in os.environ.items():
        if name.startswith(prefix):
            config[name[len(prefix):].lower().replace("_", ".")] = value
    return config
