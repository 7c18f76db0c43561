"""The retail page's JSON serves the marts' figures, read as the read-only `reader` role."""
from __future__ import annotations

import pytest
import requests

from tests.integration.conftest import SAMPLE, expected_daily

pytestmark = pytest.mark.services


def test_retail_api_serves_figures_computed_from_the_sample(retail_marts, stack_dashboard):
    answer = requests.get(f"{stack_dashboard}api/retail", timeout=30)
    assert answer.status_code == 200
    body = answer.json()
    assert body["state"] == "ok" and body["message"] is None and body["as_of"]
    data = body["data"]

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
