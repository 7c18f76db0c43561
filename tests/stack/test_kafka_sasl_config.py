"""The local broker's SASL/SCRAM mode, as rendered (no services)."""
from __future__ import annotations

from pathlib import Path

import pytest

from stack import kafka
from stack.processes import StackError
from streammart.settings import Settings


def scram_settings(home: Path, **secrets: str) -> Settings:
    return Settings(home=home, kafka_port=29192, kafka_controller_port=29193, kafka_sasl="scram", **secrets)


def test_scram_mode_puts_the_client_listener_behind_a_login(tmp_path: Path) -> None:
    settings = scram_settings(tmp_path, kafka_sasl_password="client-pw", kafka_broker_password="broker-pw")
    text = kafka.render_server_properties(settings)
    last = {key: value for key, _, value in (line.partition("=") for line in text.splitlines()
                                             if line and not line.startswith("#"))}
    assert last["listener.security.protocol.map"] == "CONTROLLER:PLAINTEXT,PLAINTEXT:SASL_PLAINTEXT"
    assert last["sasl.enabled.mechanisms"] == last["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    assert 'username="broker" password="broker-pw";' in last["listener.name.plaintext.scram-sha-512.sasl.jaas.config"]
    assert "client-pw" not in text  # the clients' password lives in the broker's log, hashed
    assert kafka.scram_users(settings) == ["--add-scram", "SCRAM-SHA-512=[name=broker,password=broker-pw]",
                                           "--add-scram", "SCRAM-SHA-512=[name=streammart,password=client-pw]"]
    plain = kafka.render_server_properties(Settings(home=tmp_path, kafka_port=29192, kafka_controller_port=29193))
    assert "sasl" not in plain.lower()


def test_scram_mode_without_passwords_or_on_plain_storage_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="STREAMMART_KAFKA_BROKER_PASSWORD"):
        kafka.render_server_properties(scram_settings(tmp_path))
    settings = scram_settings(tmp_path, kafka_sasl_password="c", kafka_broker_password="b")
    data = kafka.nodes(settings)[0].data
    data.mkdir(parents=True)
    (data / "meta.properties").write_text("formatted without SCRAM users\n")
    with pytest.raises(StackError, match="stop --purge"):
        kafka.check_scram_storage(settings)
