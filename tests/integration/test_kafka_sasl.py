"""The pipeline on a broker that asks for SASL/SCRAM-SHA-512, and the broker refusing who cannot log in.

The module brings up a Postgres + Kafka of its own (stack/throwaway.py) with
``STREAMMART_KAFKA_SASL=scram``: the broker's client listener speaks SASL_PLAINTEXT,
the SCRAM users are created when its storage is formatted, the passwords are
generated into the throwaway home's secrets file.

The producer is the real ``producers run`` CLI and the worker the real
``stream-processors worker``: both are given only the throwaway stack's
``STREAMMART_*`` settings and find their login through ``kafka_client_config``.
Airflow is not started (its start-up would double the module's time): the test runs
the event-driven DAG's own asset-watcher trigger (``airflow_dags.event_driven``, a
``MessageQueueTrigger`` over the Kafka provider's ``AwaitMessageTrigger``) in this
process, with the ``streammart_kafka`` connection the stack hands to Airflow
(``stack.airflow.kafka_connection``) — the coroutine Airflow's triggerer would run.
"""
from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from collections.abc import Iterator

import pytest
from confluent_kafka import KafkaError, Producer

from stack.airflow import kafka_connection
from stack.throwaway import ThrowawayStack, throwaway_stack
from stream_processors.lag import high_watermarks, landing_lag
from streammart.contract import CONTROL_TOPIC, dead_letter_topic
from streammart.topics import ensure_topics
from tests.integration.conftest import BIN, SAMPLE, Scratch, Worker, orders_landing_counts, orders_source, wait_for
from streammart.settings import PROJECT_ROOT

pytestmark = pytest.mark.services
TRIGGER_TIMEOUT = 90.0


@pytest.fixture(scope="module")
def sasl_stack() -> Iterator[ThrowawayStack]:
    with throwaway_stack("streammart-sasl-", {"kafka_sasl": "scram"}) as own:
        yield own


def produced(own: ThrowawayStack, topic: str) -> int:
    return sum(high_watermarks(own.kafka_config, topic).values())


def first_trigger_event(monkeypatch: pytest.MonkeyPatch, own: ThrowawayStack) -> dict:
    """The payload of the first event the event-driven DAG's asset watcher fires."""
    monkeypatch.setenv("AIRFLOW_CONN_STREAMMART_KAFKA", kafka_connection(own.settings))
    from airflow_dags.event_driven import landed

    async def first() -> dict:
        # the Kafka provider's own trigger: the watcher's MessageQueueTrigger serializes to it, and the
        # triggerer runs that one (whose cleanup closes its consumer; the wrapper's does not)
        trigger = landed.watchers[0].trigger.trigger
        events = trigger.run()
        try:
            return (await asyncio.wait_for(anext(events), TRIGGER_TIMEOUT)).payload
        finally:
            await events.aclose()
            await trigger.cleanup()

    return asyncio.run(first())


def test_producer_worker_and_airflow_trigger_log_in_with_scram(sasl_stack, tmp_path, monkeypatch):
    own = sasl_stack
    assert own.kafka_config["security.protocol"] == "SASL_PLAINTEXT"
    assert own.kafka_config["sasl.mechanism"] == "SCRAM-SHA-512"
    scratch = Scratch("tsasl", tmp_path)
    topic = scratch.topic("orders")
    pipeline = scratch.pipeline_of(orders_source(scratch.domain, SAMPLE / "orders.csv"))
    result = subprocess.run([BIN / "producers", "--config", str(pipeline), "run", "--rejects-dir",
                             str(tmp_path / "rejects"), "--no-progress"], env=own.env, capture_output=True,
                            text=True, timeout=180, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    events = produced(own, topic)
    assert events > 0

    poison = Producer(own.kafka_config)  # one undecodable event: the dead-letter path logs in too
    poison.produce(topic, key=b"poison", value=b"not avro")
    assert poison.flush(30) == 0
    ensure_topics(own.kafka_config, [dead_letter_topic(topic)], 1)

    log = tmp_path / "worker.log"
    with Worker(pipeline, scratch.app_id, log, env=own.env) as worker:
        wait_for(lambda: worker.alive() and own.query(lambda c: landing_lag(c, own.kafka_config, [topic])[topic]) == 0,
                 120, f"{topic} to be landed (log: {log})", interval=0.5)
        wait_for(lambda: produced(own, CONTROL_TOPIC) > 0 and produced(own, dead_letter_topic(topic)) == 1, 30,
                 f"the worker's landed signal and dead letter on Kafka (log: {log})")

    rows, _, positions = own.query(lambda conn: orders_landing_counts(conn, scratch))
    assert rows == positions == events, "every event landed exactly once"
    payload = first_trigger_event(monkeypatch, own)
    assert f"raw.{scratch.table_name('orders')}" in payload["tables"] and payload["rows"] > 0


def refusals(config: dict[str, str]) -> tuple[list[KafkaError], KafkaError | None]:
    """Errors a producer reports trying to deliver one event, and that event's delivery error (None: delivered)."""
    errors: list[KafkaError] = []
    delivered: list[KafkaError | None] = []
    producer = Producer({**config, "error_cb": errors.append, "logger": logging.getLogger("refused-client"),
                         "message.timeout.ms": 8_000})
    producer.produce("refused", value=b"x", on_delivery=lambda error, _message: delivered.append(error))
    deadline = time.monotonic() + 20
    while not delivered and time.monotonic() < deadline:
        producer.poll(0.2)
    assert delivered, "no delivery report within 20 s"
    return errors, delivered[0]


def test_a_client_without_or_with_a_wrong_password_is_refused(sasl_stack):
    login = sasl_stack.kafka_config
    errors, failed = refusals({"bootstrap.servers": login["bootstrap.servers"]})
    assert failed is not None, "a client without credentials delivered an event"
    assert errors and all(e.code() in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN) for e in errors), errors

    errors, failed = refusals({**login, "sasl.password": "not-the-password"})
    assert failed is not None, "a client with a wrong password delivered an event"
    assert any(e.code() == KafkaError._AUTHENTICATION and "invalid credentials" in e.str() for e in errors), errors
