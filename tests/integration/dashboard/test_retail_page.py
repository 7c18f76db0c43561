"""The retail page in a real browser against the real stack: the figures it shows are the
marts', it follows them without a reload, and every broken state reads as a message."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Page

from dashboard.pages.retail import PAGE as RETAIL
from streammart.settings import Settings
from tests.integration.dashboard.browser import PAGE_TIMEOUT_MS, shoot, state_message, wait_for_state
from tests.integration.dashboard.marts_copy import copy_relation_rows, copy_relation_shape
from tests.integration.dashboard.servers import free_port
from tests.integration.dashboard.tcp_proxy import TcpProxy

pytestmark = pytest.mark.services


def marts_figures(conn: psycopg.Connection) -> dict[str, Any]:
    """What the retail page should show, computed here from the marts."""
    orders, cancelled, revenue, customers, unknown = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE is_cancelled), sum(amount) FILTER (WHERE NOT is_cancelled), "
        "count(DISTINCT customer_id), count(*) FILTER (WHERE NOT is_known_customer) FROM marts.fct_orders").fetchone()
    by_day = conn.execute("SELECT order_date::text, sum(revenue) FROM marts.fct_customer_daily_orders "
                          "GROUP BY 1 ORDER BY 1").fetchall()
    statuses = dict(conn.execute("SELECT status, count(*) FROM marts.fct_orders GROUP BY 1").fetchall())
    top = conn.execute(
        "SELECT d.customer_id, coalesce(min(c.customer_name), 'unknown customer'), coalesce(min(c.country), '–'), "
        "sum(d.orders_count), sum(d.revenue) FROM marts.fct_customer_daily_orders d "
        "LEFT JOIN marts.dim_customers c USING (customer_id) GROUP BY 1 ORDER BY 5 DESC, 1 LIMIT 10").fetchall()
    return {"orders": orders, "cancelled": cancelled, "revenue": revenue or Decimal(0), "customers": customers,
            "unknown": unknown, "by_day": by_day, "statuses": statuses, "top": top}


def dollars(amount: Decimal) -> str:
    """How the page writes money: whole dollars, half up, thousands separated."""
    return f"${amount.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}"


def shown(page: Page) -> dict[str, Any]:
    """The figures on screen: KPI texts, the data plotted in each chart, the table's cells."""
    return page.evaluate("""() => {
        const text = (id) => document.getElementById(id).innerText.trim();
        const trace = (id) => document.getElementById(id).data[0];
        const bars = (id) => document.querySelectorAll(`#${id} .point path`).length;
        return {
            revenue: text("kpi-revenue"), orders: text("kpi-orders"), orders_sub: text("kpi-orders-sub"),
            customers: text("kpi-customers"), cancel: text("kpi-cancel"), cancel_sub: text("kpi-cancel-sub"),
            days: {x: trace("chart-revenue-by-day").x, y: trace("chart-revenue-by-day").y},
            day_bars: bars("chart-revenue-by-day"),
            statuses: {names: trace("chart-statuses").y, counts: trace("chart-statuses").x},
            status_bars: bars("chart-statuses"),
            top: [...document.querySelectorAll("#table-top-customers tbody tr")]
                   .map((tr) => [...tr.cells].map((td) => td.innerText.trim())),
        };
    }""")


def assert_shows(page: Page, figures: dict[str, Any]) -> None:
    screen = shown(page)
    assert screen["revenue"] == dollars(figures["revenue"])
    assert screen["orders"] == f"{figures['orders']:,}"
    assert screen["orders_sub"].startswith(f"{figures['unknown']:,} ")
    assert screen["customers"] == f"{figures['customers']:,}"
    rate = float(re.fullmatch(r"([\d.]+) %", screen["cancel"]).group(1))
    assert rate == pytest.approx(100 * figures["cancelled"] / figures["orders"], abs=0.05)
    assert screen["cancel_sub"] == f"{figures['cancelled']:,} cancelled"
    assert screen["days"]["x"] == [day for day, _ in figures["by_day"]]
    assert screen["days"]["y"] == pytest.approx([float(revenue) for _, revenue in figures["by_day"]])
    assert screen["day_bars"] == len(figures["by_day"])
    assert dict(zip(screen["statuses"]["names"], screen["statuses"]["counts"])) == figures["statuses"]
    assert screen["status_bars"] == len(figures["statuses"])
    assert screen["top"] == [[customer, name, country, f"{orders:,}", dollars(revenue)]
                             for customer, name, country, orders, revenue in figures["top"]]


def test_retail_page_shows_the_marts(retail_marts: Settings, stack_dashboard: str, open_page) -> None:
    page = open_page(stack_dashboard)  # "/" lands on the first page: retail
    wait_for_state(page, "ok")
    assert page.url.endswith("/retail")
    assert page.locator("nav a[aria-current=page]").inner_text() == RETAIL.title
    with psycopg.connect(retail_marts.conninfo("reader")) as conn:
        figures = marts_figures(conn)
    assert figures["orders"] > 0
    assert_shows(page, figures)
    assert "newest row landed" in page.locator("#freshness").inner_text()
    print(f"screenshot: {shoot(page, 'retail')}")


@pytest.fixture
def extra_order(retail_marts: Settings, admin: psycopg.Connection) -> Iterator[dict[str, Any]]:
    """Adds one large paid order of a new customer to the retail marts (as a dbt cycle would); removed after."""
    tag = f"zt{uuid.uuid4().hex[:8]}"
    extra = {"order_id": f"{tag}-1", "customer_id": f"{tag}-C", "amount": Decimal("50000.00")}
    yield extra
    admin.execute("DELETE FROM marts.fct_orders WHERE order_id = %s", (extra["order_id"],))
    admin.execute("DELETE FROM marts.fct_customer_daily_orders WHERE customer_id = %s", (extra["customer_id"],))


def add_order(admin: psycopg.Connection, order: dict[str, Any]) -> None:
    """Copies a paid order's row in both facts, under the new order's ids and amount, in one transaction."""
    changes = {"order_id": order["order_id"], "customer_id": order["customer_id"], "amount": str(order["amount"]),
               "status": "paid", "is_cancelled": False, "is_known_customer": False}
    daily = {"customer_id": order["customer_id"], "orders_count": 1, "cancelled_count": 0,
             "revenue": str(order["amount"])}
    with admin.transaction():
        added = admin.execute(
            "INSERT INTO marts.fct_orders SELECT (jsonb_populate_record(NULL::marts.fct_orders, "
            "to_jsonb(o) || %s::jsonb)).* FROM marts.fct_orders o WHERE NOT is_cancelled "
            "ORDER BY order_id LIMIT 1 RETURNING order_date", (psycopg.types.json.Jsonb(changes),)).fetchone()
        admin.execute(
            "INSERT INTO marts.fct_customer_daily_orders SELECT (jsonb_populate_record("
            "NULL::marts.fct_customer_daily_orders, to_jsonb(d) || %s::jsonb)).* "
            "FROM marts.fct_customer_daily_orders d WHERE order_date = %s LIMIT 1",
            (psycopg.types.json.Jsonb(daily), added[0]))


def test_retail_page_follows_the_marts_without_reload(retail_marts: Settings, stack_dashboard: str, open_page,
                                                     admin: psycopg.Connection, extra_order) -> None:
    page = open_page(f"{stack_dashboard}retail")
    wait_for_state(page, "ok")
    page.evaluate("window.sameDocument = true")
    add_order(admin, extra_order)
    with psycopg.connect(retail_marts.conninfo("reader")) as conn:
        figures = marts_figures(conn)
    page.wait_for_function("(text) => document.getElementById('kpi-orders').innerText.trim() === text",
                           arg=f"{figures['orders']:,}", timeout=PAGE_TIMEOUT_MS)
    assert page.evaluate("window.sameDocument") is True  # updated in place, not reloaded
    assert_shows(page, figures)
    assert shown(page)["top"][0][:2] == [extra_order["customer_id"], "unknown customer"]
    print(f"screenshot: {shoot(page, 'retail-updated')}")


def test_retail_page_names_missing_marts_then_says_no_data_yet(retail_marts: Settings, admin: psycopg.Connection,
                                                              scratch_database: str, dashboard_server,
                                                              open_page) -> None:
    """A database where the marts are not built, then built but empty, then filled: one page, no reload."""
    page = open_page(f"{dashboard_server(pg_database=scratch_database).url}retail")
    wait_for_state(page, "missing")
    message = state_message(page)
    assert "Marts not built yet" in message
    assert all(mart in message for mart in RETAIL.marts)
    print(f"screenshot: {shoot(page, 'retail-marts-missing')}")

    reader = retail_marts.role_name("reader")
    first, *others = RETAIL.marts
    with psycopg.connect(retail_marts.conninfo("admin", scratch_database), autocommit=True) as scratch:
        copy_relation_shape(admin, scratch, first, reader)
        page.wait_for_function("(name) => !document.getElementById('state').innerText.includes(name)",
                               arg=first, timeout=PAGE_TIMEOUT_MS)
        message = state_message(page)
        assert "Marts not built yet" in message and all(mart in message for mart in others)

        for relation in others:
            copy_relation_shape(admin, scratch, relation, reader)
        wait_for_state(page, "empty")
        assert "No data yet" in state_message(page)
        assert page.locator("#content").is_hidden()
        print(f"screenshot: {shoot(page, 'retail-no-data-yet')}")

        with psycopg.connect(retail_marts.conninfo("admin")) as source:
            for relation in RETAIL.marts:
                copy_relation_rows(source, scratch, relation)
        wait_for_state(page, "ok")
        with psycopg.connect(retail_marts.conninfo("reader", scratch_database)) as conn:
            assert_shows(page, marts_figures(conn))


def test_retail_page_says_postgres_is_unreachable_and_recovers(retail_marts: Settings, dashboard_server,
                                                              open_page) -> None:
    """Postgres goes away under an open page (its figures stay, marked stale), then comes back."""
    proxy = TcpProxy(retail_marts.pg_port).start()
    try:
        page = open_page(f"{dashboard_server(pg_port=proxy.port).url}retail")
        wait_for_state(page, "ok")
        figures_before = shown(page)
        proxy.stop()
        wait_for_state(page, "unreachable")
        message = state_message(page)
        assert "Postgres is not reachable" in message and f"127.0.0.1:{proxy.port}" in message
        assert "Connection refused" in message
        assert "Traceback" not in page.content()
        assert page.locator("#content").is_visible()
        assert "stale" in page.locator("#content").get_attribute("class")
        assert shown(page)["orders"] == figures_before["orders"]
        assert "not updated since" in page.locator("#freshness").inner_text()
        print(f"screenshot: {shoot(page, 'retail-postgres-unreachable')}")
        proxy.start()
        wait_for_state(page, "ok")
        assert page.locator("#state").is_hidden()
    finally:
        proxy.stop()


def test_retail_page_says_postgres_is_unreachable_from_the_start(running_stack: Settings, dashboard_server,
                                                                open_page) -> None:
    page = open_page(f"{dashboard_server(pg_port=free_port()).url}retail")  # nothing listens there
    wait_for_state(page, "unreachable")
    assert "Postgres is not reachable" in state_message(page)
    assert page.locator("#content").is_hidden()
    print(f"screenshot: {shoot(page, 'retail-postgres-down')}")


def test_retail_page_says_when_the_dashboard_server_is_gone(retail_marts: Settings, dashboard_server,
                                                         open_page) -> None:
    server = dashboard_server()
    page = open_page(f"{server.url}retail")
    wait_for_state(page, "ok")
    server.stop()
    wait_for_state(page, "offline")
    assert "dashboard server is not answering" in state_message(page)
    assert page.locator("#content").is_visible()  # the last figures stay, marked stale
    print(f"screenshot: {shoot(page, 'retail-dashboard-server-gone')}")
