"""The pipeline page: landing rate and lag over the last hour, dead letters, dbt cycles, mart freshness.

It reads no mart. Landing figures come from the worker's ``/metrics``, sampled
every few seconds by the dashboard server for the hour charts; dbt figures from
the cycle history; dead-letter reasons from ``raw._dead_letters`` (the reader
role may read its position, stage, error and time columns, never the payload).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import psycopg

from dashboard.pages import Page
from dashboard.reading import rows
from streammart.pipeline_status import (
    FRESHNESS_THRESHOLD_SECONDS,
    WorkerFigures,
    dbt_figures,
    worker_figures,
)
from streammart.settings import get_settings

log = logging.getLogger(__name__)
SAMPLE_SECONDS = 10.0
HOUR_OF_SAMPLES = int(3600 / SAMPLE_SECONDS)

DEAD_LETTER_REASONS = """
SELECT topic, stage, split_part(error, E'\\n', 1) AS reason, count(*) AS letters, max(at) AS latest
FROM raw._dead_letters GROUP BY 1, 2, 3 ORDER BY latest DESC LIMIT 10
"""


@dataclass
class WorkerSampler:
    """Reads the worker's metrics every SAMPLE_SECONDS and keeps the last hour of them."""

    samples: deque = field(default_factory=lambda: deque(maxlen=HOUR_OF_SAMPLES))
    latest: WorkerFigures | None = None
    _thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="worker-sampler", daemon=True)
            self._thread.start()

    def sample(self) -> WorkerFigures:
        figures = worker_figures(get_settings())
        self.latest = figures
        if figures.error is None:
            self.samples.append({"at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                 "events_per_second": {t: f.events_per_second for t, f in figures.topics.items()},
                                 "lag": {t: f.lag for t, f in figures.topics.items()}})
        return figures

    def _run(self) -> None:
        while True:
            try:
                self.sample()
            except Exception:  # noqa: BLE001 - the sampler must outlive any one bad reading
                log.exception("sampling the worker's metrics failed")
            time.sleep(SAMPLE_SECONDS)


sampler = WorkerSampler()


def _dead_letter_reasons(conn: psycopg.Connection) -> tuple[list[dict[str, Any]], str | None]:
    try:
        with conn.transaction():  # a savepoint: a refusal here leaves the snapshot usable
            return rows(conn, DEAD_LETTER_REASONS), None
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedTable) as exc:
        return [], f"dead letters cannot be read here: {str(exc).splitlines()[0]}"


def overview(conn: psycopg.Connection) -> dict[str, Any]:
    worker = sampler.latest if sampler.running and sampler.latest else sampler.sample()
    dbt = dbt_figures(get_settings(), limit=10)
    letters, letters_note = _dead_letter_reasons(conn)
    stale = set(dbt.stale())
    return {
        "as_of": None,  # the header's "newest row landed" is about marts; this page dates each figure itself
        "worker_error": worker.error,
        "topics": [{"topic": t, "events_per_second": f.events_per_second, "landed": f.landed, "lag": f.lag,
                    "dead_letters": sum(f.dead_letters.values())} for t, f in worker.topics.items()],
        "mean_batch_seconds": worker.mean_batch_seconds,
        "history": list(sampler.samples),
        "dead_letters": letters,
        "dead_letters_note": letters_note,
        "cycles": [{"ended_at": c.ended_at, "status": c.status, "mode": c.mode, "seconds": c.seconds,
                    "models_built": len(c.models_built), "tests_passed": c.tests_passed,
                    "tests_failed": c.tests_failed} for c in dbt.cycles],
        "freshness": [{"mart": m, "age_seconds": age, "stale": m in stale} for m, age in dbt.freshness.items()],
        "freshness_threshold_seconds": FRESHNESS_THRESHOLD_SECONDS,
    }


PAGE = Page(domain="pipeline", title="Pipeline", heading="Pipeline health", marts=(), overview=overview,
            position=1000, background=sampler.start)
