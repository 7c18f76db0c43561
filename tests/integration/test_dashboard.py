"""The dashboard serves the marts' figures, read as the read-only `reader` role."""
from __future__ import annotations

import pytest
import requests

from stack.pipeline_processes import dashboard_url
from streammart.dbt_cycle import run_cycle
from tests.integration.conftest import SAMPLE, expected_daily

pytestmark = pytest.mark.services


def test_dashboard_shows_the_marts(retail_landed, running_stack):
    assert run_cycle().ok
    url = dashboard_url(running_stack)  # the stack's own dashboard service
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and "streammart" in page.text
    data = requests.get(f"{url}api/retail", timeout=30).json()

    expected = expected_daily(SAMPLE / "orders.csv")
    by_day: dict[str, float] = {}
    for (_, day), (_, _, _, revenue) in expected.items():
        by_day[day.isoformat()] = by_day.get(day.isoformat(), 0) + float(revenue)
    shown = {row["day"]: row["revenue"] for row in data["revenue_by_day"] if row["day"] in by_day}
    assert shown == pytest.approx(by_day)
    assert data["totals"]["orders"] >= sum(v[0] for v in expected.values())
    assert {s["status"] for s in data["statuses"]} <= {"pending", "paid", "shipped", "delivered", "cancelled",
                                                        "returned"}
    assert len(data["top_customers"]) == 10
    assert data["totals"]["as_of"]
