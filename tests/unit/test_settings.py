import pytest

from streammart.settings import Settings, kafka_client_config


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
