"""The pipeline page in a real browser against the real stack: a worker's landing figures and
dead letters, the dbt cycles and mart freshness, a stale mart in red; and the stack's /metrics."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone

import pytest
import requests
from confluent_kafka import Producer
from playwright.sync_api import Page
from prometheus_client.parser import text_string_to_metric_families

from streammart.dbt_cycle import CyclePaths
from streammart.topics import ensure_topics
from tests.integration.conftest import Worker, caught_up, order, orders_source, produce, wait_for
from tests.integration.dashboard.browser import PAGE_TIMEOUT_MS, shoot, wait_for_state
from tests.integration.dashboard.servers import free_port

pytestmark = pytest.mark.services
ORDERS = 120


def cells(page: Page, table: str) -> list[list[str]]:
    return page.evaluate("""(id) => [...document.querySelectorAll(`#${id} tbody tr`)]
        .map((tr) => [...tr.cells].map((td) => td.innerText.trim()))""", table)


def text(page: Page, element: str) -> str:
    return page.locator(f"#{element}").inner_text().strip()


def test_the_page_shows_a_workers_landing_its_dead_letters_and_the_dbt_cycles(
        retail_marts, scratch, admin, kafka_config, dashboard_server, open_page):
    topic = scratch.topic("orders")
    ensure_topics(kafka_config, [topic], 3)
    produce(kafka_config, topic, "retail.orders.v1", [order(i) for i in range(ORDERS)], "order_id")
    poison = Producer(kafka_config)
    poison.produce(topic, key=b"bad", value=b"\x00 not an event")
    assert poison.flush(30) == 0
    metrics_port = free_port()
    pipeline = scratch.pipeline_of(orders_source(scratch.domain, scratch.tmp / "unused.csv"))
    with Worker(pipeline, scratch.app_id, scratch.tmp / "worker.log",
                extra_args=["--metrics-port", str(metrics_port)]) as worker:
        wait_for(lambda: worker.alive() and caught_up(admin, kafka_config, topic)(), 120, "the orders to land")
        server = dashboard_server(worker_metrics_port=metrics_port)
        page = open_page(f"{server.url}pipeline")
        wait_for_state(page, "ok")
        page.wait_for_function("() => document.getElementById('chart-lag').data?.[0]?.x.length >= 1",
                               timeout=PAGE_TIMEOUT_MS)
        shoot(page, "pipeline")

        assert f"{ORDERS:,} landed since the worker started" in text(page, "kpi-rate-sub")
        assert text(page, "kpi-lag") == "0"
        letters = cells(page, "table-dead-letters")
        assert any(row[0] == topic and row[1] == "decode" and row[3] == "1" for row in letters), letters
        lag_traces = page.evaluate("() => document.getElementById('chart-lag').data.map((t) => t.name)")
        assert lag_traces == [topic]
    cycles = cells(page, "table-cycles")
    assert cycles and cycles[0][1] in ("success", "nothing_to_do"), cycles
    freshness = {row[0]: row[1] for row in cells(page, "table-freshness")}
    assert {"fct_orders", "dim_customers", "fct_customer_daily_orders"} <= set(freshness)
    assert not any("stale" in age for age in freshness.values()), freshness


def test_a_stale_mart_turns_red_and_the_stack_metrics_say_why(running_stack, dashboard_server, open_page, tmp_path):
    """A dashboard of its own home: the last cycle failed 5 minutes ago, the last good one was 20 minutes ago."""
    stack_paths = CyclePaths.for_settings(running_stack)
    home = tmp_path / "home"
    paths = CyclePaths.for_settings(running_stack.model_copy(update={"home": home}))
    paths.state_dir.mkdir(parents=True)
    shutil.copy(stack_paths.state_dir / "manifest.json", paths.state_dir / "manifest.json")
    now = datetime.now(timezone.utc)
    history = [
        {"started_at": (now - timedelta(minutes=20)).isoformat(), "seconds": 12.5, "status": "success",
         "models_built": ["fct_orders"], "tests_passed": 40, "tests_failed": 0},
        {"started_at": (now - timedelta(minutes=5)).isoformat(), "seconds": 7.0, "status": "failed",
         "models_built": [], "models_failed": ["fct_orders"], "tests_passed": 38, "tests_failed": 2},
    ]
    paths.history_file.write_text("".join(json.dumps(c) + "\n" for c in history))
    server = dashboard_server(home=home, worker_metrics_port=free_port())

    page = open_page(f"{server.url}pipeline")
    wait_for_state(page, "ok")
    page.wait_for_function("() => document.querySelectorAll('#table-freshness tbody tr.bad').length > 0",
                           timeout=PAGE_TIMEOUT_MS)
    shoot(page, "pipeline-stale-mart")
    assert text(page, "kpi-cycle") == "failed"
    assert "tests 38 passed, 2 failed" in text(page, "kpi-cycle-sub")
    assert "worker metrics unreachable" in text(page, "kpi-rate-sub")
    freshness = {row[0]: row[1] for row in cells(page, "table-freshness")}
    assert freshness["fct_orders"].endswith("· stale") and freshness["fct_orders"].startswith("20 min")

    scraped = {(s.name, tuple(s.labels.values())): s.value for family in text_string_to_metric_families(
        requests.get(f"{server.url}metrics", timeout=5).text) for s in family.samples}
    assert scraped[("streammart_dbt_last_cycle_success", ())] == 0
    assert scraped[("streammart_dbt_last_cycle_tests", ("failed",))] == 2
    assert scraped[("streammart_dbt_cycles", ("failed",))] == 1
    assert 20 * 60 - 60 < scraped[("streammart_mart_freshness_seconds", ("fct_orders",))] < 21 * 60
