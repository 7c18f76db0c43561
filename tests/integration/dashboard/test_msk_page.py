"""The msk page in a real browser against the real stack: it shows the msk marts and the quarantine,
and a database without them reads as a message naming what is missing, then as "no data yet"."""
from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Page

from dashboard.pages.msk import PAGE as MSK
from streammart.dbt_cycle import run_cycle
from streammart.quarantine import rule_counts
from streammart.settings import Settings
from tests.integration.dashboard.browser import shoot, state_message, wait_for_state
from tests.integration.dashboard.marts_copy import copy_relation_rows, copy_relation_shape
from tests.integration.msk_landing import msk_landed  # noqa: F401  (fixture)

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def msk_marts(msk_landed, running_stack: Settings) -> Settings:  # noqa: F811
    """The msk sample landed and its models built, so the msk marts and the quarantine hold it."""
    result = run_cycle(select="source:msk+")
    assert result.ok, result.as_dict()
    return running_stack


def marts_figures(conn: psycopg.Connection) -> dict[str, Any]:
    """What the msk page should show, computed here from the marts."""
    referrals, converted = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE is_converted) FROM marts.fct_msk__referrals").fetchone()
    networks = conn.execute("SELECT coalesce(employer_name, employer_id), is_in_network, conversion_rate "
                            "FROM marts.fct_msk__network_outcomes").fetchall()
    top_npi = conn.execute("SELECT npi FROM marts.fct_msk__provider_outcomes "
                           "ORDER BY referrals_received DESC, adverse_events_count DESC, npi LIMIT 1").fetchone()[0]
    return {"referrals": referrals, "converted": converted, "rules": rule_counts(conn, "msk"),
            "networks": networks, "top_npi": top_npi}


def shown(page: Page) -> dict[str, Any]:
    return page.evaluate("""() => {
        const text = (id) => document.getElementById(id).innerText.trim();
        const data = (id) => document.getElementById(id).data;
        return {
            conversion: text("kpi-conversion"), conversion_sub: text("kpi-conversion-sub"), held: text("kpi-held"),
            rules: {names: data("chart-quarantine")[0].y, held: data("chart-quarantine")[0].x},
            reasons: [...document.querySelectorAll("#table-quarantine tbody tr")].map((tr) => tr.cells[3].innerText),
            network: data("chart-network-conversion").map((t) => ({name: t.name, x: t.x, y: t.y})),
            providers: [...document.querySelectorAll("#table-providers tbody tr")].map((tr) => tr.cells[0].innerText),
            monthly_points: data("chart-monthly")[0].x.length,
        };
    }""")


def test_msk_page_shows_the_marts_and_the_quarantine(msk_marts: Settings, stack_dashboard: str, open_page) -> None:
    page = open_page(f"{stack_dashboard}msk")
    wait_for_state(page, "ok")
    assert page.locator("nav a[aria-current=page]").inner_text() == MSK.title
    with psycopg.connect(msk_marts.conninfo("reader")) as conn:
        figures = marts_figures(conn)
    assert figures["referrals"] > 0 and figures["rules"]
    screen = shown(page)

    rate = float(re.fullmatch(r"([\d.]+) %", screen["conversion"]).group(1))
    assert rate == pytest.approx(100 * figures["converted"] / figures["referrals"], abs=0.05)
    assert screen["conversion_sub"] == f"{figures['converted']:,} of {figures['referrals']:,} referrals"
    assert screen["held"] == f"{sum(r.held for r in figures['rules']):,}"
    assert screen["rules"] == {"names": [r.rule for r in figures["rules"]], "held": [r.held for r in figures["rules"]]}
    assert screen["reasons"] == [r.latest_reason for r in figures["rules"]]
    plotted = {(trace["name"] == "in network", employer): rate
               for trace in screen["network"] for employer, rate in zip(trace["x"], trace["y"])}
    assert plotted == pytest.approx({(in_network, employer): float(rate) if rate is not None else None
                                     for employer, in_network, rate in figures["networks"]})
    assert screen["providers"][0] == figures["top_npi"] and len(screen["providers"]) == 15
    assert screen["monthly_points"] > 0
    print(f"screenshot: {shoot(page, 'msk')}")


def test_msk_page_names_missing_marts_then_says_no_data_yet(msk_marts: Settings, admin: psycopg.Connection,
                                                           scratch_database: str, dashboard_server,
                                                           open_page) -> None:
    page = open_page(f"{dashboard_server(pg_database=scratch_database).url}msk")
    wait_for_state(page, "missing")
    message = state_message(page)
    assert "Marts not built yet" in message and all(mart in message for mart in MSK.marts)
    print(f"screenshot: {shoot(page, 'msk-marts-missing')}")

    reader = msk_marts.role_name("reader")
    with psycopg.connect(msk_marts.conninfo("admin", scratch_database), autocommit=True) as scratch:
        for relation in MSK.marts:
            copy_relation_shape(admin, scratch, relation, reader)
        wait_for_state(page, "empty")
        assert "No data yet" in state_message(page)
        print(f"screenshot: {shoot(page, 'msk-no-data-yet')}")

        with psycopg.connect(msk_marts.conninfo("admin")) as source:
            for relation in MSK.marts:
                copy_relation_rows(source, scratch, relation)
        wait_for_state(page, "ok")
        with psycopg.connect(msk_marts.conninfo("reader", scratch_database)) as conn:
            held = sum(r.held for r in rule_counts(conn, "msk"))
        assert held > 0 and shown(page)["held"] == f"{held:,}"
