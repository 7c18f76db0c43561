"""The pipeline's figures in one place: the worker's metrics, the last dbt cycles, mart freshness.

``streammart-stack status`` prints them; the dashboard serves them as its
``/metrics`` (dbt and freshness; the worker serves its own) and on its pipeline page.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

import requests
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from streammart.cycle_history import CycleRecord, mart_freshness, marts_of, recent_cycles
from streammart.dbt_cycle import CyclePaths
from streammart.settings import Settings

#: A mart older than this is shown as stale (red on the dashboard): a few missed 2-minute cycles.
FRESHNESS_THRESHOLD_SECONDS = 600.0


@dataclass
class TopicFigures:
    events_per_second: float = 0.0
    landed: float = 0.0
    lag: float = 0.0
    dead_letters: dict[str, float] = field(default_factory=dict)  # by stage


@dataclass
class WorkerFigures:
    """What the worker's ``/metrics`` says; ``error`` when it could not be read."""

    topics: dict[str, TopicFigures] = field(default_factory=dict)
    lag_by_partition: dict[tuple[str, str], float] = field(default_factory=dict)
    batches: float = 0.0
    batch_seconds_sum: float = 0.0
    error: str | None = None

    @property
    def mean_batch_seconds(self) -> float | None:
        return self.batch_seconds_sum / self.batches if self.batches else None


def parse_worker_metrics(text: str) -> WorkerFigures:
    figures = WorkerFigures()
    topics: dict[str, TopicFigures] = defaultdict(TopicFigures)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            topic = sample.labels.get("topic")
            if sample.name == "streammart_events_landed_total":
                topics[topic].landed = sample.value
            elif sample.name == "streammart_events_per_second":
                topics[topic].events_per_second = sample.value
            elif sample.name == "streammart_dead_letters_total":
                topics[topic].dead_letters[sample.labels["stage"]] = sample.value
            elif sample.name == "streammart_consumer_lag":
                topics[topic].lag += sample.value
                figures.lag_by_partition[(topic, sample.labels["partition"])] = sample.value
            elif sample.name == "streammart_batch_seconds_count":
                figures.batches = sample.value
            elif sample.name == "streammart_batch_seconds_sum":
                figures.batch_seconds_sum = sample.value
    figures.topics = dict(sorted(topics.items()))
    return figures


def worker_figures(settings: Settings, timeout: float = 2.0) -> WorkerFigures:
    url = settings.worker_metrics_url
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
    except requests.RequestException as exc:
        return WorkerFigures(error=f"worker metrics unreachable at {url} ({type(exc).__name__})")
    return parse_worker_metrics(response.text)


@dataclass
class DbtFigures:
    cycles: list[CycleRecord]  # newest first
    freshness: dict[str, float | None]  # seconds per mart

    def stale(self, threshold: float = FRESHNESS_THRESHOLD_SECONDS) -> list[str]:
        return [m for m, age in self.freshness.items() if age is None or age > threshold]


def dbt_figures(settings: Settings, limit: int = 50, now: datetime | None = None) -> DbtFigures:
    paths = CyclePaths.for_settings(settings)
    cycles = recent_cycles(paths.history_file)
    marts = marts_of(paths.state_dir / "manifest.json") or marts_of(paths.target_dir / "manifest.json")
    return DbtFigures(cycles[:limit], mart_freshness(cycles, marts, now or datetime.now(timezone.utc)))


class CycleCollector:
    """dbt and mart freshness as Prometheus metrics, read from the cycle history at each scrape."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def collect(self):
        dbt = dbt_figures(self.settings, limit=10**6)
        cycles = GaugeMetricFamily("streammart_dbt_cycles", "dbt cycles in the kept history, by status",
                                   labels=["status"])
        for status in sorted({c.status for c in dbt.cycles}):
            cycles.add_metric([status], sum(1 for c in dbt.cycles if c.status == status))
        yield cycles
        if dbt.cycles:
            last = dbt.cycles[0]
            yield GaugeMetricFamily("streammart_dbt_last_cycle_seconds", "Duration of the last dbt cycle",
                                    value=last.seconds)
            yield GaugeMetricFamily("streammart_dbt_last_cycle_success", "1 when the last dbt cycle did not fail",
                                    value=0 if last.status == "failed" else 1)
            yield GaugeMetricFamily("streammart_dbt_last_cycle_end_timestamp_seconds",
                                    "When the last dbt cycle ended (Unix time)", value=last.ended_at.timestamp())
            tests = GaugeMetricFamily("streammart_dbt_last_cycle_tests", "Tests of the last dbt cycle, by result",
                                      labels=["result"])
            tests.add_metric(["passed"], last.tests_passed)
            tests.add_metric(["failed"], last.tests_failed)
            yield tests
        freshness = GaugeMetricFamily("streammart_mart_freshness_seconds",
                                      "Seconds since the mart was last left current by a dbt cycle", labels=["mart"])
        for mart, age in dbt.freshness.items():
            if age is not None:
                freshness.add_metric([mart], age)
        yield freshness


def stack_metrics_registry(settings: Settings) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(CycleCollector(settings))
    return registry
