"""The telehealth page in a real browser against the real stack: the figures it shows are the
marts', it follows them without a reload, and missing or empty marts read as a message."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Page

from dashboard.pages.telehealth import PAGE as TELEHEALTH
from streammart.dbt_cycle import run_cycle
from streammart.settings import Settings
from tests.integration.dashboard.browser import PAGE_TIMEOUT_MS, shoot, state_message, wait_for_state
from tests.integration.dashboard.marts_copy import copy_relation_shape
from tests.integration.telehealth.conftest import telehealth_landed  # noqa: F401 (a fixture)

pytestmark = pytest.mark.services
FUNNEL = "marts.fct_appointment_funnel_weekly"


@pytest.fixture(scope="module")
def telehealth_marts(telehealth_landed, running_stack: Settings) -> Settings:  # noqa: F811
    """The telehealth sample landed and a dbt cycle run, so the telehealth marts hold it."""
    result = run_cycle()
    assert result.ok, result.as_dict()
    return running_stack


def marts_figures(conn: psycopg.Connection) -> dict[str, Any]:
    """What the telehealth page should show, computed here from the marts."""
    booked, confirmed, completed, cancelled, no_shows = (int(v) for v in conn.execute(
        f"SELECT sum(booked_count), sum(confirmed_count), sum(completed_count), sum(cancelled_count), "
        f"sum(no_show_count) FROM {FUNNEL}").fetchone())
    weeks = [week for (week,) in conn.execute(f"SELECT DISTINCT scheduled_week::text FROM {FUNNEL} ORDER BY 1")]
    hours = conn.execute("SELECT scheduled_hour, avg_duration_minutes::float FROM "
                         "marts.fct_consultation_duration_by_hour ORDER BY 1").fetchall()
    buckets = conn.execute("SELECT lead_time_bucket, booked_count FROM marts.fct_booking_lead_time "
                           "ORDER BY bucket_order").fetchall()
    specialties = conn.execute(f"SELECT coalesce(specialty, 'unknown'), sum(booked_count) FROM {FUNNEL} "
                               "GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    return {"booked": booked, "confirmed": confirmed, "completed": completed, "cancelled": cancelled,
            "no_shows": no_shows, "weeks": weeks, "hours": hours, "buckets": buckets, "specialties": specialties}


def shown(page: Page) -> dict[str, Any]:
    """The figures on screen: KPI texts, the data plotted in each chart, the table's cells."""
    return page.evaluate("""() => {
        const text = (id) => document.getElementById(id).innerText.trim();
        const traces = (id) => document.getElementById(id).data;
        return {
            booked: text("kpi-booked"), completed: text("kpi-completed"), no_show: text("kpi-no-show"),
            cancel: text("kpi-cancel"), cancel_sub: text("kpi-cancel-sub"),
            funnel: {stages: traces("chart-funnel")[0].y, counts: traces("chart-funnel")[0].x},
            funnel_bars: document.querySelectorAll("#chart-funnel .point path").length,
            lead_axis: document.getElementById("chart-lead-time")._fullLayout.yaxis.type,
            rate_series: traces("chart-rates").map((t) => t.name), weeks: traces("chart-rates")[0].x,
            hours: {x: traces("chart-duration")[0].x, y: traces("chart-duration")[0].y},
            buckets: {x: traces("chart-lead-time")[0].x, y: traces("chart-lead-time")[0].y},
            specialties: [...document.querySelectorAll("#table-specialties tbody tr")]
                           .map((tr) => [...tr.cells].map((td) => td.innerText.trim())),
        };
    }""")


def percent(text: str) -> float:
    return float(re.fullmatch(r"([\d.]+) %", text).group(1))


def assert_shows(page: Page, figures: dict[str, Any]) -> None:
    screen = shown(page)
    assert screen["booked"] == f"{figures['booked']:,}"
    assert screen["completed"] == f"{figures['completed']:,}"
    due = figures["completed"] + figures["no_shows"]
    assert percent(screen["no_show"]) == pytest.approx(100 * figures["no_shows"] / due, abs=0.05)
    assert percent(screen["cancel"]) == pytest.approx(100 * figures["cancelled"] / figures["booked"], abs=0.05)
    assert screen["cancel_sub"] == f"{figures['cancelled']:,} cancelled"
    assert screen["funnel"] == {"stages": ["booked", "confirmed", "completed", "cancelled", "no-show"],
                                "counts": [figures["booked"], figures["confirmed"], figures["completed"],
                                           figures["cancelled"], figures["no_shows"]]}
    assert screen["funnel_bars"] == 5
    assert screen["lead_axis"] == "linear"
    assert screen["rate_series"] == ["no-show rate", "cancellation rate"]
    assert screen["weeks"] == figures["weeks"]
    assert screen["hours"]["x"] == [hour for hour, _ in figures["hours"]]
    assert screen["hours"]["y"] == pytest.approx([minutes for _, minutes in figures["hours"]])
    assert list(zip(screen["buckets"]["x"], screen["buckets"]["y"])) == [tuple(b) for b in figures["buckets"]]
    assert [(row[0], row[2]) for row in screen["specialties"]] == [(s, f"{n:,}") for s, n in figures["specialties"]]


def test_telehealth_page_shows_the_marts(telehealth_marts: Settings, stack_dashboard: str, open_page) -> None:
    page = open_page(f"{stack_dashboard}telehealth")
    wait_for_state(page, "ok")
    assert page.locator("nav a[aria-current=page]").inner_text() == TELEHEALTH.title
    with psycopg.connect(telehealth_marts.conninfo("reader")) as conn:
        figures = marts_figures(conn)
    assert figures["booked"] > 0
    assert_shows(page, figures)
    assert "newest row landed" in page.locator("#freshness").inner_text()
    print(f"screenshot: {shoot(page, 'telehealth')}")


@pytest.fixture
def extra_week(telehealth_marts: Settings, admin: psycopg.Connection) -> Iterator[str]:
    """A funnel row for a doctor of a new week, as a dbt cycle would add it; removed after."""
    yield "2031-01-06"
    admin.execute(f"DELETE FROM {FUNNEL} WHERE scheduled_week = '2031-01-06'")


def test_telehealth_page_follows_the_marts_without_reload(telehealth_marts: Settings, stack_dashboard: str,
                                                         open_page, admin: psycopg.Connection, extra_week) -> None:
    page = open_page(f"{stack_dashboard}telehealth")
    wait_for_state(page, "ok")
    page.evaluate("window.sameDocument = true")
    admin.execute(
        f"INSERT INTO {FUNNEL} SELECT (jsonb_populate_record(NULL::{FUNNEL}, to_jsonb(f) || %s::jsonb)).* "
        f"FROM {FUNNEL} f ORDER BY scheduled_week, doctor_id LIMIT 1",
        (psycopg.types.json.Jsonb({"scheduled_week": extra_week, "booked_count": 1000}),))
    with psycopg.connect(telehealth_marts.conninfo("reader")) as conn:
        figures = marts_figures(conn)
    page.wait_for_function("(text) => document.getElementById('kpi-booked').innerText.trim() === text",
                           arg=f"{figures['booked']:,}", timeout=PAGE_TIMEOUT_MS)
    assert page.evaluate("window.sameDocument") is True  # updated in place, not reloaded
    assert_shows(page, figures)
    assert shown(page)["weeks"][-1] == extra_week


def test_telehealth_page_names_missing_marts_then_says_no_data_yet(telehealth_marts: Settings,
                                                                  admin: psycopg.Connection, scratch_database: str,
                                                                  dashboard_server, open_page) -> None:
    page = open_page(f"{dashboard_server(pg_database=scratch_database).url}telehealth")
    wait_for_state(page, "missing")
    message = state_message(page)
    assert "Marts not built yet" in message and all(mart in message for mart in TELEHEALTH.marts)
    print(f"screenshot: {shoot(page, 'telehealth-marts-missing')}")
    reader = telehealth_marts.role_name("reader")
    with psycopg.connect(telehealth_marts.conninfo("admin", scratch_database), autocommit=True) as scratch:
        for relation in TELEHEALTH.marts:
            copy_relation_shape(admin, scratch, relation, reader)
        wait_for_state(page, "empty")
    assert "No data yet" in state_message(page)
    assert page.locator("#content").is_hidden()
    print(f"screenshot: {shoot(page, 'telehealth-no-data-yet')}")
