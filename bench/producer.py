"""The producer alone: ``producers run`` of a ~1M-row orders CSV beside fastavro encoding alone, in turns.

``make bench`` has one producer row; this repeats just that pair, each round
measuring encoding alone right before the replay, so every ratio compares two
figures taken on the same machine at the same moment.

Needs Kafka (and Postgres, for the bench's clean-up) of the local stack:
  .venv/bin/streammart-stack start postgres kafka
  .venv/bin/python -m bench.producer [--rounds 3] [--csv-rows 1000000]
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import click

from bench.landing import encode_alone_rate, orders_csv, producer_rate
from streammart.settings import get_settings


@click.command()
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--csv-rows", type=click.IntRange(min=1000), default=1_000_000, show_default=True)
def main(rounds: int, csv_rows: int) -> None:
    """Events/s of ``producers run`` and its ratio to fastavro encoding alone, per round."""
    settings = get_settings()
    with tempfile.TemporaryDirectory() as tmp:
        csv, events = orders_csv(csv_rows, Path(tmp))  # once: writing ~1M rows takes longer than replaying them
        for round_ in range(1, rounds + 1):
            alone = encode_alone_rate(200_000)
            rate = producer_rate(settings, csv, events, Path(tmp))
            print(f"round {round_}: producers run {rate:,.0f} events/s ({events:,} events), fastavro encoding "
                  f"alone {alone:,.0f}/s, ratio {rate / alone:.2f}", flush=True)


if __name__ == "__main__":
    main()
