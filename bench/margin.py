"""The margin over the fastest peer: two workers and Debezium's JDBC sink (2 tasks), alternately.

``make bench`` measures every contender once, one after the other, so a change of the
machine's load between two rows moves their ratio. This runs only the two that set
the margin (the fastest peer configuration in every full run so far), in turns on the
same events and Postgres, and prints each round's ratio.

Needs Postgres and Kafka of the local stack:
  .venv/bin/streammart-stack start postgres kafka
  .venv/bin/python -m bench.margin [--rounds 3] [--events 500000]
"""
from __future__ import annotations

import statistics
import tempfile
import uuid
from pathlib import Path

import click

from bench import peers
from bench.landing import ORDERS, clean_up, order, produce, worker_rate
from streammart.contract import topic_name
from streammart.settings import get_settings, kafka_client_config


@click.command()
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--events", type=click.IntRange(min=1000), default=500_000, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=2000, show_default=True)
def main(rounds: int, events: int, batch_size: int) -> None:
    """Two workers against Debezium's JDBC sink with 2 tasks, in turns, and their ratio per round."""
    settings = get_settings()
    values = ORDERS.values(events)
    domains = [f"bench{uuid.uuid4().hex[:8]}" for _ in range(rounds + 1)]
    json_topic = f"{domains[0]}.orders.json"
    ratios = []
    try:
        produce(kafka_client_config(settings), json_topic, [peers.connect_json(order(i)) for i in range(events)])
        for round_, domain in enumerate(domains[1:], 1):
            produce(kafka_client_config(settings), topic_name(domain, "orders", 1), values)
            with tempfile.TemporaryDirectory() as tmp:
                workers = worker_rate(settings, domain, batch_size, 2, Path(tmp))
            clean_up(settings, [domain])
            with tempfile.TemporaryDirectory() as tmp:
                debezium = peers.debezium_rate(settings, json_topic, events, 2, batch_size, Path(tmp))
            ratios.append(workers.rate / debezium.rate)
            print(f"round {round_}: worker ×2 {workers.rate:,.0f}/s, Debezium JDBC 2 tasks {debezium.rate:,.0f}/s, "
                  f"ratio {ratios[-1]:.2f}", flush=True)
    finally:
        clean_up(settings, domains)
        peers.drop_peer_tables(settings.conninfo("admin"))
    print(f"worker ×2 / Debezium 2 tasks, median of {rounds}: {statistics.median(ratios):.2f}x (goal ≥ 1.5x)")


if __name__ == "__main__":
    main()
