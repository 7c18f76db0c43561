"""The worker's Prometheus metrics: what landed, what was dead-lettered, how long batches take, lag.

Served on loopback by ``stream-processors worker --metrics-port N`` (the stack
gives its worker ``STREAMMART_WORKER_METRICS_PORT``); each worker process has
its own registry and port, so several workers on one host never mix figures.
Events per second are ``rate(streammart_events_landed_total[1m])`` for Prometheus;
``streammart_events_per_second`` (over the last few seconds) is for readers that
scrape once, such as ``streammart-stack status`` and the dashboard.
"""
from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from stream_processors.landing import LandResult

#: Landing a batch takes milliseconds when all is well, seconds when Postgres is slow or a row is refused.
BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class WorkerMetrics:
    """The figures of one worker process, in a registry of its own."""

    def __init__(self, table_topics: dict[str, str]):
        self.table_topics = table_topics  # raw table name → topic, as results count rows by table
        self.registry = CollectorRegistry()
        self.landed = Counter("streammart_events_landed", "Events landed in their raw table", ["topic"],
                              registry=self.registry)
        self.redelivered = Counter("streammart_events_redelivered", "Events read again that had already landed "
                                   "(skipped, not landed twice)", registry=self.registry)
        self.dead_letters = Counter("streammart_dead_letters", "Events that could not land, by the stage that "
                                    "refused them", ["topic", "stage"], registry=self.registry)
        self.batch_seconds = Histogram("streammart_batch_seconds", "Decoding and landing one batch, committed",
                                       buckets=BATCH_BUCKETS, registry=self.registry)
        self.rate = Gauge("streammart_events_per_second", "Events landed per second over the last few seconds",
                          ["topic"], registry=self.registry)
        self._totals: dict[str, float] = {}
        self._last_totals: dict[str, float] = {}
        self._last_time = time.monotonic()
        self.lag = Gauge("streammart_consumer_lag", "Events Kafka holds that this worker has not landed yet, per "
                         "partition it owns", ["topic", "partition"], registry=self.registry)

    def record(self, result: LandResult, seconds: float) -> None:
        for table, rows in result.by_table.items():
            topic = self.table_topics.get(table, table)
            self.landed.labels(topic).inc(rows)
            self._totals[topic] = self._totals.get(topic, 0) + rows
        for letter in result.letters:
            self.dead_letters.labels(letter.topic, letter.stage).inc()
        self.redelivered.inc(result.duplicates)
        self.batch_seconds.observe(seconds)

    def update_rates(self) -> None:
        """Events per second per topic since the previous call."""
        now = time.monotonic()
        elapsed = max(now - self._last_time, 1e-6)
        for topic in set(self.table_topics.values()) | set(self._totals):
            landed = self._totals.get(topic, 0) - self._last_totals.get(topic, 0)
            self.rate.labels(topic).set(round(landed / elapsed, 1))
        self._last_totals, self._last_time = dict(self._totals), now

    def set_lag(self, lag: dict[tuple[str, int], int]) -> None:
        """The lag of the partitions owned now; partitions no longer owned disappear."""
        self.lag.clear()
        for (topic, partition), value in lag.items():
            self.lag.labels(topic, str(partition)).set(value)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        start_http_server(port, addr=host, registry=self.registry)
