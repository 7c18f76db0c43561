"""A 3-node KRaft cluster (replication factor 3, min.insync.replicas=2) losing a broker and healing.

The module brings up a Postgres + 3-node Kafka of its own (stack/throwaway.py with
``kafka_brokers=3``), through the real ``streammart-stack`` command; the worker is
the real ``stream-processors worker``, given only that stack's settings (its
bootstrap list names the three nodes). Each test gives the lost node back before
it ends, so the other starts on a whole cluster.
"""
from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from confluent_kafka.admin import AdminClient

from stack import kafka
from stack.processes import pid_alive
from stack.throwaway import ThrowawayStack, throwaway_stack
from stream_processors.lag import landing_lag
from streammart.topics import ensure_topics
from tests.integration.conftest import Scratch, Worker, landed_orders, orders_landing_counts, produce_orders, wait_for

pytestmark = pytest.mark.services
NODES = 3
EVENTS = 60_000
PARTITIONS = 6
FENCED_WITHIN = 60  # a killed broker is fenced after broker.session.timeout.ms (9 s by default)
HEALED_WITHIN = 60  # from the restarted broker being back in the cluster to every ISR whole again
STOPPED_WITHIN = 30  # a controlled shutdown takes the broker out of the ISRs as it goes


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThrowawayStack]:
    with throwaway_stack("streammart-cluster-", {"kafka_brokers": str(NODES)}) as own:
        yield own


def partitions(own: ThrowawayStack, topic: str | None = None) -> list:
    """Partition metadata (leader, replicas, isrs) of ``topic``, or of every topic."""
    metadata = AdminClient(own.kafka_config).list_topics(topic, timeout=10)
    return [p for t in metadata.topics.values() for p in t.partitions.values()]


def leaders(own: ThrowawayStack, topic: str) -> dict[int, int]:
    return {p.id: p.leader for p in partitions(own, topic)}


def kill_9(own: ThrowawayStack, node_id: int) -> None:
    """SIGKILL one node: no controlled shutdown, its leaderships move only once the quorum fences it."""
    pid = kafka.running(own.settings, node_id)
    assert pid is not None, f"kafka-{node_id} is not running"
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(pid), 10, f"kafka-{node_id} (pid {pid}) to die")


def lagging(own: ThrowawayStack) -> list[tuple[str, int]]:
    return kafka.under_replicated(own.kafka_config)


def test_a_broker_killed_mid_stream_loses_and_duplicates_nothing(cluster, tmp_path):
    own = cluster
    scratch = Scratch("tcluster", tmp_path)
    topic = scratch.topic("orders")
    half = EVENTS // 2
    ensure_topics(own.kafka_config, [topic], PARTITIONS)
    assert {len(p.replicas) for p in partitions(own, topic)} == {NODES}, "the pipeline's topic is not replicated 3x"
    produce_orders(own.kafka_config, topic, half)
    pipeline = scratch.pipeline(scratch.tmp / "unused.csv", "http://127.0.0.1:9/unused")

    def landed() -> int:
        return own.query(lambda conn: landed_orders(conn, scratch))

    log = scratch.tmp / "worker.log"
    victim = None
    try:
        with Worker(pipeline, scratch.app_id, log, env=own.env) as worker:
            wait_for(lambda: worker.alive() and landed() > 0, 120, "landing to make progress", interval=0.05)
            victim = leaders(own, topic)[0]  # the leader of partition 0: the stream's events must move leaders
            landed_before = landed()
            with ThreadPoolExecutor(max_workers=1) as producer:  # the rest of the stream flows while the broker dies
                second_half = producer.submit(produce_orders, own.kafka_config, topic, EVENTS - half, first=half)
                kill_9(own, victim)
                second_half.result(timeout=120)  # every event acknowledged by the two replicas left
            wait_for(lambda: worker.alive() and own.query(lambda c: landing_lag(c, own.kafka_config, [topic])[topic])
                     == 0, 240, f"{topic} to be landed with kafka-{victim} down (log: {log})", interval=0.5)
            wait_for(lambda: bool(lagging(own)), FENCED_WITHIN, f"kafka-{victim} to drop out of the ISRs")
            led_after = leaders(own, topic)
    finally:
        if victim is not None:
            own.run("start-broker", str(victim))

    assert landed_before < half, "the broker died after landing had finished: the test proved nothing"
    assert re.search(r"connect(ion)?\b.*\b(refused|failed|closed)", log.read_text(errors="replace"), re.IGNORECASE), \
        "the worker never lost a broker: the test proved nothing"
    assert victim not in led_after.values() and -1 not in led_after.values(), led_after
    assert own.query(lambda conn: orders_landing_counts(conn, scratch)) == (EVENTS, EVENTS, EVENTS)


def test_a_restarted_broker_catches_up_and_the_cluster_heals(cluster):
    own = cluster
    node_id = NODES  # any node; the last one is never the only bootstrap address
    topic = "tclusterheal.orders.v1"
    ensure_topics(own.kafka_config, [topic], PARTITIONS)
    wait_for(lambda: not lagging(own), HEALED_WITHIN, "a whole cluster before the test")
    try:
        own.run("stop-broker", str(node_id))
        produce_orders(own.kafka_config, topic, 5_000)  # acks=all: two in-sync replicas are enough
        wait_for(lambda: (topic, 0) in lagging(own), STOPPED_WITHIN, f"kafka-{node_id} to leave the ISRs of {topic}")

        own.run("start-broker", str(node_id))  # returns once the node is an unfenced broker again
        wait_for(lambda: not lagging(own), HEALED_WITHIN, f"kafka-{node_id} to rejoin every ISR")
    finally:
        own.run("start-broker", str(node_id))  # no-op when it runs

    whole = partitions(own)
    assert whole and all(len(p.isrs) == len(p.replicas) == NODES for p in whole), \
        [(p.id, p.replicas, p.isrs) for p in whole if len(p.isrs) < NODES]
