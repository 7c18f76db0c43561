"""Small files: replaying thousands of one-object JSON files against one big file of the same records.

A catalogue exported one JSON file per title must not cost much more per event
than the same records in one JSON array: the goal is at most 1.5x the big
file's time per event. Both contenders run the real replay path (glob, read,
parse with the movies titles rules, Avro encode, publish to Kafka, flush) into
scratch topics, alternately for a few rounds; the best round of each is
compared (this 2-core machine is noisy). The files are written just before,
so they are read from the page cache, as a replay right after an export would.

Needs Kafka of the local stack:
  .venv/bin/streammart-stack start postgres kafka
  .venv/bin/python -m bench.small_files [--files 12000] [--rounds 3]
"""
from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import click
from confluent_kafka.admin import AdminClient

from producers.publisher import Publisher
from producers.replay import SourceReplay
from producers.samples import movies
from streammart.pipeline import SourceConfig
from streammart.settings import get_settings, kafka_client_config
from streammart.topics import ensure_topics

GOAL = 1.5  # files' time per event / big file's, at most


@dataclass
class Round:
    contender: str
    events: int
    seconds: float  # wall clock, from the first read to the last delivery report
    cpu_seconds: float  # this process's CPU (librdkafka's threads included): what other load cannot inflate

    @property
    def micros_per_event(self) -> float:
        return 1e6 * self.seconds / self.events

    @property
    def cpu_micros_per_event(self) -> float:
        return 1e6 * self.cpu_seconds / self.events


def title_texts(count: int, seed: int = 7) -> list[str]:
    """``count`` movie files' text as the sample generator writes them (dirt included, all valid)."""
    rng = random.Random(seed)
    cast_pool = movies.people(rng, movies.PEOPLE_PER_SCALE)
    return [json.dumps(movies.movie(rng, n, cast_pool), ensure_ascii=False, indent=1) for n in range(1, count + 1)]


def write_inputs(folder: Path, texts: list[str]) -> tuple[Path, Path]:
    """One file per record under ``folder/titles`` and all of them as one JSON array in ``folder/titles.json``."""
    titles = folder / "titles"
    titles.mkdir()
    for n, text in enumerate(texts, start=1):
        (titles / f"movie-{n:05d}.json").write_text(text + "\n", encoding="utf-8")
    big = folder / "titles.json"
    big.write_text("[\n" + ",\n".join(texts) + "\n]\n", encoding="utf-8")
    return titles / "movie-*.json", big


def source(name: str, domain: str, path: Path, per_file: bool) -> SourceConfig:
    """The movies title source (pipeline.yml's renames and rules) reading ``path``."""
    return SourceConfig.model_validate({
        "name": name, "domain": domain, "entity": "titles", "schema": "movies.titles.v1", "format": "json",
        "path": str(path), "record_per_file": per_file, "key": ["kind", "id"],
        "columns": {"media_type": "kind", "release_date": "start_date", "belongs_to_collection": "collection"},
        "fields": {"start_date": {"blanks": "keep"}}})


def replay(config: SourceConfig, kafka: dict[str, str], rejects: Path) -> Round:
    cpu = time.process_time()
    summary = SourceReplay(config, Publisher(kafka), rejects).run()
    cpu = time.process_time() - cpu
    if summary.failure or summary.rejected or not summary.accounted:
        raise RuntimeError(f"{config.name}: {summary.failure or f'{summary.rejected} rejects'}")
    return Round(config.name, summary.produced, summary.elapsed, cpu)


def delete_topics(kafka: dict[str, str], domain: str) -> None:
    admin = AdminClient(kafka)
    topics = [t for t in admin.list_topics(timeout=10).topics if t.startswith(f"{domain}.")]
    for future in (admin.delete_topics(topics).values() if topics else []):
        future.result(timeout=30)


@click.command()
@click.option("--files", type=click.IntRange(min=100), default=12_000, show_default=True)
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True)
def main(files: int, rounds: int) -> None:
    """Replay N one-object files and one file of the same N records; print per-event times and their ratio."""
    settings = get_settings()
    kafka = kafka_client_config(settings)
    domain = f"bench{uuid.uuid4().hex[:8]}"
    results: list[Round] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pattern, big = write_inputs(folder, title_texts(files))
        contenders = [source("small_files", domain, pattern, True), source("one_file", domain, big, False)]
        try:
            ensure_topics(kafka, [contenders[0].topic], settings.kafka_partitions)
            for number in range(1, rounds + 1):
                for config in contenders:
                    results.append(replay(config, kafka, folder / "rejects"))
                    click.echo(f"round {number}: {config.name} {results[-1].micros_per_event:.1f} µs/event", err=True)
        finally:
            delete_topics(kafka, domain)
    best = {c.name: min((r for r in results if r.contender == c.name), key=lambda r: r.seconds)
            for c in contenders}
    small, one = best["small_files"], best["one_file"]
    print(f"records: {files:,} (movies.titles.v1), rounds: {rounds}, best round of each (wall clock)")
    print(f"{'contender':<34}{'events':>8}{'seconds':>10}{'µs/event':>10}{'events/s':>10}{'CPU µs/event':>14}")
    for label, r in ((f"{files:,} files, one object each", small), ("one file, a JSON array", one)):
        print(f"{label:<34}{r.events:>8,}{r.seconds:>10.2f}{r.micros_per_event:>10.1f}{r.events / r.seconds:>10,.0f}"
              f"{r.cpu_micros_per_event:>14.1f}")
    ratio = small.micros_per_event / one.micros_per_event
    paired = [a.seconds / b.seconds for a, b in zip(results[::2], results[1::2])]
    cpu_ratio = small.cpu_micros_per_event / one.cpu_micros_per_event
    print(f"ratio files / one file, per event: {ratio:.2f}x (goal <= {GOAL}x: {'met' if ratio <= GOAL else 'NOT met'})")
    print(f"  same round, median of {rounds}: {statistics.median(paired):.2f}x; CPU per event: {cpu_ratio:.2f}x")
    if ratio > GOAL:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
