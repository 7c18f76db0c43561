"""Landing throughput: the worker against the in-process landing path, in one run.

Side by side (this machine is noisy; compare ratios, not absolute numbers):
  1. in-process ceiling: decode + ``land_batch`` of the same events, no Kafka,
     in 1 and 2 processes, with the decoding before ``RowDecoder`` (``legacy_decode_row``,
     kept here as the baseline) and with ``RowDecoder``, into the same raw table as the
     worker's (key and lookup indexes), and once without the lookup indexes (their cost);
  2. the real ``stream-processors worker``, 1 and 2 processes in one group, draining a
     topic of N events, with its resident memory sampled while it lands;
  3. the same ceiling for a wide, nested contract (``bench/contracts``);
  4. the producer (``producers run`` of a CSV) against fastavro encoding alone;
  5. what users pick instead, on the same events and Postgres (``bench/peers.py``):
     Debezium's JDBC sink on Kafka Connect and Quix Streams' ``PostgreSQLSink``.

Needs Postgres and Kafka of the local stack:
  .venv/bin/streammart-stack start postgres kafka
  .venv/bin/python -m bench.landing [--events 500000] [--csv-rows 1000000] [--skip-peers]
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import psycopg
from confluent_kafka import ConsumerGroupState, KafkaException, Producer
from confluent_kafka.admin import AdminClient
from psycopg import sql
from psycopg.types.json import Jsonb

from bench import peers, profiles
from schemas import load_registry
from schemas.registry import SchemaRegistry
from schemas.wire import WireFormatError, decode, encode
from stream_processors.decoding import DeadLetter, LandingTarget, RowDecoder, header_map
from stream_processors.lag import high_watermarks, landed_offsets
from stream_processors.landing import Batch, land_batch
from stream_processors.raw_tables import RawTable, ensure_raw_tables, lookup_indexes
from streammart.contract import OFFSETS_TABLE, RAW_SCHEMA, event_time_value, raw_table_name, topic_name
from streammart.settings import PROJECT_ROOT, get_settings, kafka_client_config

BENCH_CONTRACTS = Path(__file__).parent / "contracts"


@dataclass(frozen=True)
class Contract:
    """A contract to measure: where its schema lives, its event-time and key fields, a record maker."""

    schema: str
    event_time: str
    key: tuple[str, ...]
    directory: Path | None = None  # None: the project's schemas/

    def registry(self) -> SchemaRegistry:
        return load_registry(self.directory) if self.directory else load_registry()

    def values(self, n: int) -> list[bytes]:
        schema = self.registry().get(self.schema)
        make = order if self.schema.startswith("retail.orders") else title
        return [encode(schema, make(i)) for i in range(n)]


START = datetime(2024, 6, 1, tzinfo=timezone.utc)


def order(i: int) -> dict[str, Any]:
    return {"order_id": f"B{i:07d}", "customer_id": f"C{i % 997}", "product_id": "P1",
            "order_ts": START + timedelta(seconds=i), "quantity": 1 + i % 5,
            "unit_price": Decimal("9.99"), "amount": Decimal(f"{19.98 + i % 50:.2f}"), "currency": "USD",
            "status": "paid"}


def title(i: int) -> dict[str, Any]:
    return {"title_id": f"tt{i:08d}", "title_type": "movie", "primary_title": f"A Film Called {i}",
            "original_title": None if i % 3 else f"Un film {i}", "is_adult": False, "start_year": 1950 + i % 70,
            "end_year": None, "runtime_minutes": 80 + i % 60, "genres": ["Drama", "Comedy"][: 1 + i % 2],
            "average_rating": 5 + (i % 50) / 10, "num_votes": i * 7, "budget": Decimal(f"{1000000 + i % 977}.50"),
            "gross": None if i % 4 else Decimal("2500000.00"), "release_date": date(1950, 1, 1) + timedelta(days=i % 25000),
            "updated_at": START + timedelta(seconds=i), "languages": ["en", "fr"], "countries": ["US"],
            "directors": [f"nm{i % 5000:07d}"], "writers": [f"nm{i % 3000:07d}", f"nm{i % 7000:07d}"],
            "principals": [{"person_id": f"nm{(i + k) % 9000:07d}", "category": "actor", "ordering": k,
                            "characters": [f"Role {k}"]} for k in range(4)],
            "akas": [{"title": f"Title {i}", "region": "DE", "language": None},
                     {"title": f"Titre {i}", "region": "FR", "language": "fr"}],
            "ratings": {"imdb": 6.5, "critics": 70 + i % 30, "audience": None},
            "keywords": {"family": 3, "friendship": 1}, "synopsis": "Someone goes somewhere and learns something."}


ORDERS = Contract("retail.orders.v1", "order_ts", ("order_id",))
TITLES = Contract("bench.titles.v1", "updated_at", ("title_id",), BENCH_CONTRACTS)


@dataclass
class Message:
    value: bytes
    offset: int
    topic: str
    partition: int = 0
    key: bytes = b""
    timestamp: float = 0.0
    headers: list = field(default_factory=list)


def legacy_decode_row(message: Any, target: LandingTarget, registry: SchemaRegistry) -> tuple | DeadLetter:
    """The decoding before ``RowDecoder`` (kept as the baseline): fastavro's logical types, a dict per event."""
    headers = header_map(message.headers)
    try:
        schema, record = decode(message.value, registry)
    except WireFormatError as exc:
        return DeadLetter(message.topic, message.partition, message.offset, message.key, message.value, headers,
                          str(exc))
    values = {c.name: Jsonb(record.get(c.name)) if c.is_json and record.get(c.name) is not None
              else record.get(c.name) for c in target.table.business}
    event_time = event_time_value(record.get(target.event_time_field), target.event_time_zone)
    values.update({"_event_id": headers.get("event_id") or hashlib.sha256(message.value).hexdigest()[:32],
                   "_topic": message.topic, "_partition": message.partition, "_offset": message.offset,
                   "_key": message.key.decode("utf-8", "replace"), "_schema_fingerprint": schema.fingerprint_hex,
                   "_event_time": event_time,
                   "_produced_at": datetime.fromtimestamp(message.timestamp, timezone.utc),
                   "_source_position": headers.get("source_position")})
    return target.table.row(values)


def _target(contract: Contract, domain: str) -> LandingTarget:
    """The same raw table as the worker's (key and lookup indexes included), under another name."""
    schema = contract.registry().get(contract.schema)
    table = RawTable.for_schema(raw_table_name(domain, "inproc"), schema, contract.key)
    return LandingTarget(topic_name(domain, "inproc", 1), table, schema.domain, schema.entity, contract.event_time)


def _land_in_process(conninfo: str, contract: Contract, domain: str, values: list[bytes], partition: int,
                     batch_size: int, legacy: bool) -> tuple[float, float, float]:
    """(start, end, decode seconds) of decode + land_batch of ``values`` as partition ``partition``, in this process."""
    registry = contract.registry()
    target = _target(contract, domain)
    decoder = RowDecoder(target, registry)
    now = time.time()

    async def run() -> tuple[float, float, float]:
        conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        started, decoding = time.time(), 0.0
        for first in range(0, len(values), batch_size):
            batch = Batch()
            tick = time.perf_counter()
            for offset in range(first, min(first + batch_size, len(values))):
                message = Message(values[offset], offset, target.topic, partition, b"k", now)
                row = (legacy_decode_row(message, target, registry) if legacy else
                       decoder.row(target.topic, partition, offset, b"k", message.value, message.headers, now))
                batch.add_row(target.table.name, row, message)
                batch.track(target.topic, partition, offset)
            decoding += time.perf_counter() - tick
            await land_batch(conn, {target.table.name: target.table}, batch)
        ended = time.time()
        await conn.close()
        return started, ended, decoding

    return asyncio.run(run())


def ceiling(settings, contract: Contract, domain: str, values: list[bytes], batch_size: int, processes: int,
            legacy: bool, indexed: bool = True) -> tuple[float, float]:
    """(rows/s, µs of decode per event) of ``processes`` processes landing ``values`` between them, no Kafka.

    Unless ``indexed``, the raw table goes without its lookup indexes: what they cost landing.
    """
    target = _target(contract, domain)
    with psycopg.connect(settings.conninfo("ingest")) as conn:
        ensure_raw_tables(conn, [target.table])
    if not indexed:
        with psycopg.connect(settings.conninfo("admin"), autocommit=True) as conn:
            for name in lookup_indexes(target.table):
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(RAW_SCHEMA, name)))
    share = -(-len(values) // processes)
    with ProcessPoolExecutor(processes) as pool:
        runs = list(pool.map(_land_in_process, [settings.conninfo("ingest")] * processes, [contract] * processes,
                             [domain] * processes, [values[i * share:(i + 1) * share] for i in range(processes)],
                             range(processes), [batch_size] * processes, [legacy] * processes))
    with psycopg.connect(settings.conninfo("admin"), autocommit=True) as conn:
        conn.execute(sql.SQL("TRUNCATE {}").format(target.table.identifier))
        conn.execute(sql.SQL("DELETE FROM {} WHERE topic = %s").format(sql.Identifier(RAW_SCHEMA, OFFSETS_TABLE)),
                     (target.topic,))
    elapsed = max(end for _, end, _ in runs) - min(start for start, _, _ in runs)
    return len(values) / elapsed, sum(d for _, _, d in runs) / len(values) * 1e6


def produce(config: dict[str, str], topic: str, values: list[bytes], first: int = 0) -> float:
    """Events ``values`` keyed like ``order(first + i)``, all acknowledged; returns events/s."""
    producer = Producer({**config, "enable.idempotence": True, "linger.ms": 20, "compression.type": "lz4"})
    started = time.perf_counter()
    for i, value in enumerate(values):
        while True:
            try:
                producer.produce(topic, key=f"B{first + i:07d}".encode(), value=value)
                break
            except BufferError:
                producer.poll(0.05)
    if producer.flush(120):
        raise RuntimeError("events left undelivered")
    return len(values) / (time.perf_counter() - started)


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class WorkerRun:
    rate: float  # rows/s from the moment every worker owns partitions to the last row
    from_first_row: float  # rows/s from the first landed row to the last
    share: float  # share of the events landed after every worker owned partitions
    rss: list[tuple[float, float]]  # (seconds since start, MiB of the first worker)


def members_owning_partitions(admin: AdminClient, group: str) -> int:
    """How many members of ``group`` the broker says own at least one partition (0 while it rebalances)."""
    try:
        description = admin.describe_consumer_groups([group])[group].result(timeout=5)
    except KafkaException:
        return 0
    if description.state != ConsumerGroupState.STABLE:
        return 0
    return sum(1 for member in description.members if member.assignment.topic_partitions)


def worker_rate(settings, domain: str, batch_size: int, workers: int, workdir: Path,
                profile: Path | None = None) -> WorkerRun:
    """Rows/s of ``workers`` real workers (one consumer group) landing the events already in the topic.

    Timed from the moment every worker owns partitions (the group is stable with
    ``workers`` members holding some), counting the rows landed after it, to the
    last row: what the workers land together, without a process's start-up and
    its wait to join the group. The rate from the first landed row is kept beside it.
    Progress is read from the landed positions in ``raw._ingest_offsets`` against
    Kafka's end offsets read once before the workers start: watching must cost the
    two cores next to nothing (a ``count(*)`` of the raw table or a new Kafka client
    ten times a second took a good share of a core from the workers), and the raw
    table is counted once at the end. With ``profile``, py-spy records each worker
    into that folder (``worker<N>x-<i>.txt``).
    """
    pipeline = workdir / "pipeline.yml"
    pipeline.write_text(json.dumps({"sources": [{
        "name": "bench", "domain": domain, "entity": "orders", "schema": ORDERS.schema, "format": "csv",
        "path": str(workdir / "unused.csv"), "key": ["order_id"], "event_time": "order_ts"}]}))
    topic = topic_name(domain, "orders", 1)
    table_name = raw_table_name(domain, "orders")
    group = f"bench-{domain}"
    config = kafka_client_config(settings)
    events = sum(high_watermarks(config, topic).values())
    command = [str(Path(sys.prefix) / "bin" / "stream-processors"), "--config", str(pipeline), "worker",
               "--app-id", group, "--batch-size", str(batch_size)]
    processes = [subprocess.Popen(command, stdout=(workdir / f"worker-{i}.log").open("wb"), stderr=subprocess.STDOUT,
                                  cwd=PROJECT_ROOT) for i in range(workers)]
    spies = [profiles.record(process.pid, profile / f"worker{workers}x-{i}.txt")
             for i, process in enumerate(processes)] if profile else []
    admin = AdminClient({**config, "log_level": 3})
    rss: list[tuple[float, float]] = []
    began = time.perf_counter()
    try:
        with psycopg.connect(settings.conninfo("admin"), autocommit=True) as conn:
            deadline = time.monotonic() + 1200
            first = together = None
            while time.monotonic() < deadline and all(p.poll() is None for p in processes):
                if not rss or time.perf_counter() - began - rss[-1][0] >= 1.0:
                    rss.append((time.perf_counter() - began, rss_mb(processes[0].pid)))
                if together is None and members_owning_partitions(admin, group) == workers:
                    together = (time.perf_counter(), sum(landed_offsets(conn, topic).values()))
                landed = sum(landed_offsets(conn, topic).values())
                if landed and first is None:
                    first = (time.perf_counter(), landed)
                if landed == events:
                    now = time.perf_counter()
                    if together is None:
                        raise RuntimeError("all events landed before every worker owned partitions: use more events")
                    rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
                        sql.Identifier(RAW_SCHEMA, table_name))).fetchone()[0]
                    if rows != events:
                        raise RuntimeError(f"{rows:,} rows landed for {events:,} events")
                    return WorkerRun((landed - together[1]) / (now - together[0]),
                                     (landed - first[1]) / (now - first[0]), 1 - together[1] / landed, rss)
                time.sleep(0.1)
        raise RuntimeError(f"the workers did not finish; see {workdir}/worker-*.log")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        for spy in spies:
            spy.wait(timeout=60)


def clean_up(settings, domains: list[str]) -> None:
    with psycopg.connect(settings.conninfo("admin"), autocommit=True) as conn:
        for domain in domains:
            for entity in ("orders", "inproc"):
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
                    sql.Identifier(RAW_SCHEMA, raw_table_name(domain, entity))))
            conn.execute(sql.SQL("DELETE FROM {} WHERE topic LIKE %s").format(
                sql.Identifier(RAW_SCHEMA, OFFSETS_TABLE)), (f"{domain}.%",))
    admin = AdminClient(kafka_client_config(settings))
    topics = [t for t in admin.list_topics(timeout=10).topics if t.split(".")[0] in domains]
    if topics:
        for future in admin.delete_topics(topics).values():
            future.result(timeout=30)


def encode_alone_rate(n: int) -> float:
    """Events/s of fastavro encoding alone (records already parsed), the producer's floor of work."""
    schema = load_registry().get(ORDERS.schema)
    records = [order(i) for i in range(n)]
    started = time.perf_counter()
    for record in records:
        encode(schema, record)
    return n / (time.perf_counter() - started)


def orders_csv(rows: int, workdir: Path) -> tuple[Path, int]:
    """(path, records) of a ~``rows``-row orders CSV written into ``workdir`` (the retail sample, scaled)."""
    subprocess.run([str(Path(sys.prefix) / "bin" / "producers"), "sample", "retail", "--out", str(workdir),
                    "--scale", str(max(1, rows // 3280))], check=True, capture_output=True, cwd=PROJECT_ROOT)
    path = workdir / "orders.csv"
    with path.open() as handle:
        return path, sum(1 for _ in handle) - 1


def producer_rate(settings, csv: Path, records: int, workdir: Path) -> float:
    """Events/s of ``producers run`` replaying the ``records`` of an orders ``csv`` into a fresh topic."""
    domain = f"bench{uuid.uuid4().hex[:8]}"
    pipeline = workdir / "pipeline.yml"
    pipeline.write_text(json.dumps({"sources": [{
        "name": "orders", "domain": domain, "entity": "orders", "schema": ORDERS.schema, "format": "csv",
        "path": str(csv), "key": ["order_id"], "event_time": "order_ts",
        "date_formats": ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]}]}))
    try:
        started = time.perf_counter()
        result = subprocess.run([str(Path(sys.prefix) / "bin" / "producers"), "--config", str(pipeline), "run",
                                 "--no-progress", "--rejects-dir", str(workdir / "rejects")],
                                capture_output=True, text=True, cwd=PROJECT_ROOT)
        elapsed = time.perf_counter() - started
        if result.returncode:
            raise RuntimeError(f"producers run failed:\n{result.stdout}{result.stderr}")
        return records / elapsed
    finally:
        clean_up(settings, [domain])


@click.command()
@click.option("--events", type=click.IntRange(min=1000), default=500_000, show_default=True,
              help="events per landing run; fewer lets the group's join and the drain's tail weigh "
                   "on the rate (200k is ~4 s of two workers)")
@click.option("--batch-size", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--csv-rows", type=click.IntRange(min=0), default=1_000_000, show_default=True,
              help="rows of the CSV the producer replays (0: skip the producer)")
@click.option("--rss-events", type=click.IntRange(min=0), default=5_000_000, show_default=True,
              help="events one worker lands while its memory is sampled (0: skip)")
@click.option("--skip-peers", is_flag=True, help="leave out Debezium's JDBC sink and Quix Streams (the slow part)")
@click.option("--profile", type=click.Path(file_okay=False, path_type=Path),
              help="record each worker of the 1- and 2-worker runs with py-spy into this folder and print "
                   "where their CPU goes")
def main(events: int, batch_size: int, csv_rows: int, rss_events: int, skip_peers: bool,
         profile: Path | None) -> None:
    """Measure landing throughput and print one table."""
    settings = get_settings()
    if profile:
        profile.mkdir(parents=True, exist_ok=True)
    domains = [f"bench{uuid.uuid4().hex[:8]}" for _ in range(5)]
    lines: list[tuple[str, float, str, str]] = []  # (what, per second, ratio, note)
    guarantees: dict[str, str] = {}  # what -> delivery guarantee, for the landing contenders
    try:
        values = ORDERS.values(events)
        ceilings: dict[tuple[int, bool], float] = {}
        for processes in (1, 2):
            for legacy in (True, False):
                rate, decode_us = ceiling(settings, ORDERS, domains[0], values, batch_size, processes, legacy)
                ceilings[(processes, legacy)] = rate
                lines.append((f"orders ceiling, {processes} process(es), {'old' if legacy else 'new'} decode", rate,
                              f"{rate / ceilings[(processes, True)]:.2f} of old", f"decode {decode_us:.1f} µs/event"))
            bare, _ = ceiling(settings, ORDERS, domains[0], values, batch_size, processes, False, indexed=False)
            lines.append((f"orders ceiling, {processes} process(es), new decode, no lookup indexes", bare,
                          f"{ceilings[(processes, False)] / bare:.2f} with them", "_landed_at and key indexes dropped"))
        for workers, domain in ((1, domains[1]), (2, domains[2])):
            produce(kafka_client_config(settings), topic_name(domain, "orders", 1), values)
            with tempfile.TemporaryDirectory() as tmp:
                run = worker_rate(settings, domain, batch_size, workers, Path(tmp), profile)
            lines.append((f"orders worker ×{workers}", run.rate, f"{run.rate / ceilings[(workers, False)]:.2f} "
                          f"of ceiling", f"{run.rate / ceilings[(workers, True)]:.2f} of old ceiling; timed over "
                          f"{run.share:.0%} of the events, from every worker owning partitions; "
                          f"{run.from_first_row:,.0f}/s from the first row"))
            guarantees[lines[-1][0]] = STREAMMART_GUARANTEE
        if not skip_peers:
            json_topic = f"{domains[1]}.orders.json"
            produce(kafka_client_config(settings), json_topic, [peers.connect_json(order(i)) for i in range(events)])
            for run in peers.measure(settings, topic_name(domains[1], "orders", 1), json_topic,
                                     PROJECT_ROOT / "schemas" / "retail.orders.v1.avsc", events, batch_size):
                lines.append((run.what, run.rate, "", f"rows {run.rows:,}, distinct keys {run.distinct_keys:,}"))
                guarantees[run.what] = run.guarantee
        wide = TITLES.values(events // 2)
        for processes in (1, 2):
            old, old_us = ceiling(settings, TITLES, domains[3], wide, batch_size, processes, True)
            new, new_us = ceiling(settings, TITLES, domains[3], wide, batch_size, processes, False)
            lines.append((f"titles (24 fields, nested) ceiling ×{processes}, old decode", old, "", f"decode {old_us:.1f} µs"))
            lines.append((f"titles (24 fields, nested) ceiling ×{processes}, new decode", new, f"{new / old:.2f} of old",
                          f"decode {new_us:.1f} µs"))
        if csv_rows:
            encode_rate = encode_alone_rate(200_000)
            with tempfile.TemporaryDirectory() as tmp:
                csv, produced = orders_csv(csv_rows, Path(tmp))
                rate = producer_rate(settings, csv, produced, Path(tmp))
            lines.append((f"producers run, {produced:,}-row CSV", rate, f"{rate / encode_rate:.2f} of encode", ""))
            lines.append(("fastavro encode alone", encode_rate, "", ""))
        if rss_events:
            many = ORDERS.values(rss_events)
            produce(kafka_client_config(settings), topic_name(domains[4], "orders", 1), many)
            with tempfile.TemporaryDirectory() as tmp:
                run = worker_rate(settings, domains[4], batch_size, 1, Path(tmp))
            samples = [mb for _, mb in run.rss if mb]
            lines.append((f"worker ×1 landing {rss_events:,} events", run.rate, "",
                          f"RSS MiB min/median/max {min(samples):.0f}/{sorted(samples)[len(samples) // 2]:.0f}/"
                          f"{max(samples):.0f} ({len(samples)} samples)"))
            print("RSS over the run (s, MiB): " + ", ".join(f"{t:.0f}:{mb:.0f}" for t, mb in run.rss[::10]))
    finally:
        clean_up(settings, domains)
        peers.drop_peer_tables(settings.conninfo("admin"))
    print_table(lines, guarantees, events, batch_size)
    for recorded in sorted(profile.glob("worker*.txt")) if profile else []:
        print(profiles.summary(recorded))


STREAMMART_GUARANTEE = "exactly-once, typed columns"


def print_table(lines: list[tuple[str, float, str, str]], guarantees: dict[str, str], events: int,
                batch_size: int) -> None:
    """One Markdown table; every landing contender also as a ratio to two workers, measured in the same run."""
    reference = next((rate for what, rate, _, _ in lines if what == "orders worker ×2"), None)
    print(f"events: {events:,}, batch size: {batch_size}")
    print(f"| {'what':<50} | {'per s':>9} | {'ratio':<22} | vs worker ×2 | delivery | note |")
    print(f"|{'-' * 52}|{'-' * 10}:|{'-' * 24}|-------------:|----------|------|")
    for what, rate, ratio, note in lines:
        versus = f"{rate / reference:.2f}" if what in guarantees and reference else ""
        print(f"| {what:<50} | {rate:>9,.0f} | {ratio:<22} | {versus:>12} | {guarantees.get(what, '')} | {note} |")


if __name__ == "__main__":
    main()
