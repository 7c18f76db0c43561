import pytest

from streammart.settings import READ_SECRETS_FILE, ROLES, SECRET_FIELDS, Settings, kafka_client_config, load_settings


def test_kafka_security_settings_pass_through(monkeypatch):
    monkeypatch.setenv("STREAMMART_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("STREAMMART_KAFKA__SASL_MECHANISMS", "SCRAM-SHA-512")
    config = kafka_client_config(Settings(kafka_port=29092))
    assert config == {"bootstrap.servers": "127.0.0.1:29092", "security.protocol": "SASL_SSL",
                      "sasl.mechanisms": "SCRAM-SHA-512"}


def test_missing_password_says_how_to_provide_it(monkeypatch, tmp_path):
    monkeypatch.delenv("STREAMMART_PG_INGEST_PASSWORD", raising=False)
    settings = Settings(home=tmp_path)
    with pytest.raises(RuntimeError, match="STREAMMART_PG_INGEST_PASSWORD"):
        settings.conninfo("ingest")
    with pytest.raises(ValueError, match="unknown role"):
        settings.role_name("root")


def test_as_env_round_trips_through_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("STREAMMART_PG_ADMIN_PASSWORD", raising=False)
    original = Settings(home=tmp_path, pg_port=25432, pg_reader_password="s3cret")
    for key, value in original.as_env().items():
        monkeypatch.setenv(key, value)
    again = Settings()
    assert (again.home, again.pg_port, again.pg_reader_password) == (tmp_path, 25432, "s3cret")
    assert "STREAMMART_PG_ADMIN_PASSWORD" not in original.as_env()  # unset secrets are not exported


def test_a_child_gets_only_the_passwords_of_its_roles(monkeypatch, tmp_path):
    everything = {f"pg_{role}_password": f"pw-{role}" for role in ROLES} | {
        "airflow_jwt_secret": "jwt", "airflow_fernet_key": "fernet", "airflow_admin_password": "web"}
    settings = Settings(home=tmp_path, **everything)
    monkeypatch.setenv("STREAMMART_PG_ADMIN_PASSWORD", "exported-by-the-operator")
    monkeypatch.setenv("UNRELATED", "kept")
    env = settings.child_env(["reader"])
    secrets = {key for key in env if key.lower().removeprefix("streammart_") in SECRET_FIELDS}
    assert secrets == {"STREAMMART_PG_READER_PASSWORD"}
    assert env["STREAMMART_PG_READER_PASSWORD"] == "pw-reader" and env["UNRELATED"] == "kept"
    assert env[READ_SECRETS_FILE] == "false"
    assert settings.as_env()["STREAMMART_PG_ADMIN_PASSWORD"] == "pw-admin"  # an operator's shell: all


def test_a_child_told_so_ignores_the_secrets_file(monkeypatch, tmp_path):
    (tmp_path / "secrets.env").write_text("STREAMMART_PG_ADMIN_PASSWORD=from-file\n")
    monkeypatch.setenv("STREAMMART_HOME", str(tmp_path))
    monkeypatch.delenv("STREAMMART_PG_ADMIN_PASSWORD", raising=False)
    assert load_settings().pg_admin_password == "from-file"
    monkeypatch.setenv(READ_SECRETS_FILE, "false")
    assert load_settings().pg_admin_password is None


def test_scram_mode_logs_every_client_in_and_plaintext_stays_bare(tmp_path):
    assert kafka_client_config(Settings(home=tmp_path, kafka_port=29092, kafka_sasl_password="pw")) == {
        "bootstrap.servers": "127.0.0.1:29092"}
    scram = Settings(home=tmp_path, kafka_port=29092, kafka_sasl="scram", kafka_sasl_password="pw")
    assert kafka_client_config(scram) == {"bootstrap.servers": "127.0.0.1:29092", "security.protocol": "SASL_PLAINTEXT",
                                          "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "streammart",
                                          "sasl.password": "pw"}
    with pytest.raises(RuntimeError, match="STREAMMART_KAFKA_SASL_PASSWORD"):
        Settings(home=tmp_path, kafka_sasl="scram").kafka_security()


def test_a_managed_cluster_is_environment_variables_only(monkeypatch, tmp_path):
    for name, value in {"KAFKA_BOOTSTRAP": "b-1.example:9096,b-2.example:9096", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256", "KAFKA_SASL_USERNAME": "svc",
                        "KAFKA_SASL_PASSWORD": "pw", "KAFKA_SSL_CA_LOCATION": "/etc/ca.pem"}.items():
        monkeypatch.setenv(f"STREAMMART_{name}", value)
    monkeypatch.setenv("STREAMMART_HOME", str(tmp_path))
    assert kafka_client_config(load_settings()) == {
        "bootstrap.servers": "b-1.example:9096,b-2.example:9096", "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": "svc", "sasl.password": "pw",
        "ssl.ca.location": "/etc/ca.pem"}


def test_only_kafka_clients_get_the_kafka_login(monkeypatch, tmp_path):
    settings = Settings(home=tmp_path, kafka_sasl="scram", kafka_sasl_password="kafka-pw",
                        kafka_broker_password="broker-pw", pg_reader_password="pw-reader")
    monkeypatch.setenv("STREAMMART_KAFKA__SSL_KEY_PASSWORD", "exported-by-the-operator")
    client = settings.child_env(["ingest"], kafka=True)
    assert client["STREAMMART_KAFKA_SASL_PASSWORD"] == "kafka-pw"
    assert client["STREAMMART_KAFKA__SSL_KEY_PASSWORD"] == "exported-by-the-operator"
    assert "STREAMMART_KAFKA_BROKER_PASSWORD" not in client
    dashboard = settings.child_env(["reader"])
    assert not any(key.startswith("STREAMMART_KAFKA__") or key == "STREAMMART_KAFKA_SASL_PASSWORD" for key in dashboard)
    plaintext = Settings(home=tmp_path, kafka_sasl_password="kafka-pw").as_env(["ingest"], kafka=True)
    assert "STREAMMART_KAFKA_SASL_PASSWORD" not in plaintext  # no broker asks for it


def test_a_local_cluster_from_the_environment_bootstraps_every_client_from_all_nodes(monkeypatch, tmp_path):
    monkeypatch.delenv("STREAMMART_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("STREAMMART_KAFKA_BROKERS", "3")
    monkeypatch.setenv("STREAMMART_KAFKA_PORT", "29092")
    monkeypatch.setenv("STREAMMART_KAFKA_CONTROLLER_PORT", "29093")
    config = kafka_client_config(Settings(home=tmp_path))
    assert config["bootstrap.servers"] == "127.0.0.1:29092,127.0.0.1:29094,127.0.0.1:29096"
    monkeypatch.setenv("STREAMMART_KAFKA_BOOTSTRAP", "broker-a:9092")
    assert kafka_client_config(Settings(home=tmp_path))["bootstrap.servers"] == "broker-a:9092"


def test_worker_metrics_are_read_where_they_are_served(tmp_path):
    assert Settings(home=tmp_path, worker_metrics_port=28086).worker_metrics_url == "http://127.0.0.1:28086/metrics"
    assert Settings(home=tmp_path, worker_metrics_host="processors", worker_metrics_port=18086).worker_metrics_url \
        == "http://processors:18086/metrics"
