"""The drug mentions page in a real browser against the real stack: the graph and the journal ranking it
shows are the marts', it follows them without a reload, and missing or empty marts read as messages."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Page

from dashboard.pages.drug_mentions import PAGE as DRUG_MENTIONS
from streammart.settings import Settings
from tests.integration.dashboard.browser import PAGE_TIMEOUT_MS, shoot, state_message, wait_for_state
from tests.integration.dashboard.marts_copy import copy_relation_rows, copy_relation_shape
from tests.integration.drug_mentions.conftest import drug_mentions_landed, drug_mentions_marts  # noqa: F401

pytestmark = pytest.mark.services
NEW_JOURNAL = "zt Journal of page tests"


def marts_figures(conn: psycopg.Connection) -> dict[str, Any]:
    """What the page should show, computed here from the marts."""
    drugs, mentions, publications = conn.execute(
        "SELECT count(DISTINCT atccode), count(*), count(DISTINCT (publication_kind, publication_id)) "
        "FROM marts.fct_drug_mentions").fetchone()
    edges = conn.execute("SELECT drug_name, journal, pubmed_mentions_count > 0, clinical_trial_mentions_count > 0 "
                         "FROM marts.fct_drug_journal_mentions").fetchall()
    journals = conn.execute("SELECT journal, distinct_drugs_count, distinct_drugs_rank FROM marts.dim_journals "
                            "ORDER BY distinct_drugs_rank, journal").fetchall()
    return {"drugs": drugs, "mentions": mentions, "publications": publications, "edges": edges,
            "journals": journals, "top": [j for j, _, rank in journals if rank == 1]}


def shown(page: Page) -> dict[str, Any]:
    """The figures on screen: KPI texts, the graph's edges and nodes, the journal bars, the table."""
    return page.evaluate("""() => {
        const text = (id) => document.getElementById(id).innerText.trim();
        const traces = document.getElementById("chart-graph").data;
        const nodes = (name) => traces.find((t) => t.name === name);
        const journals = document.getElementById("chart-journals").data[0];
        return {
            drugs: text("kpi-drugs"), drugs_sub: text("kpi-drugs-sub"), publications: text("kpi-publications"),
            journals: text("kpi-journals"), top: text("kpi-top-journal"), top_sub: text("kpi-top-journal-sub"),
            edges: Object.fromEntries(traces.filter((t) => t.mode === "lines")
                                             .map((t) => [t.name, t.x.filter((x) => x === 0).length])),
            drug_nodes: nodes("drugs").text, journal_nodes: nodes("journals").customdata.map((c) => c[0]),
            journal_bars: {names: journals.customdata.map((c) => c[0]), counts: journals.x},
            table_rows: document.querySelectorAll("#table-drugs tbody tr").length,
        };
    }""")


def assert_shows(page: Page, figures: dict[str, Any]) -> None:
    screen = shown(page)
    assert screen["drugs"] == f"{figures['drugs']:,}"
    assert screen["drugs_sub"] == f"{figures['mentions']:,} mentions"
    assert screen["publications"] == f"{figures['publications']:,}"
    assert screen["journals"] == f"{len(figures['journals']):,}"
    assert screen["top_sub"] == " · ".join(figures["top"])
    assert screen["top"] == f"{figures['journals'][0][1]:,}"
    kinds = {"PubMed only": (True, False), "trials only": (False, True), "both": (True, True)}
    assert screen["edges"] == {name: sum((p, c) == kind for _, _, p, c in figures["edges"])
                               for name, kind in kinds.items()}
    assert sum(screen["edges"].values()) == len(figures["edges"])
    assert screen["drug_nodes"] == sorted({drug for drug, *_ in figures["edges"]})
    assert screen["journal_nodes"] == [j for j, _, _ in figures["journals"]]
    assert screen["journal_bars"] == {"names": [j for j, _, _ in figures["journals"]],
                                      "counts": [n for _, n, _ in figures["journals"]]}
    assert screen["table_rows"] == figures["drugs"]


def test_drug_mentions_page_shows_the_graph_and_top_journals(drug_mentions_marts: Settings, stack_dashboard: str,
                                                             open_page) -> None:
    page = open_page(f"{stack_dashboard}drug_mentions")
    wait_for_state(page, "ok")
    assert page.locator("nav a[aria-current=page]").inner_text() == DRUG_MENTIONS.title
    with psycopg.connect(drug_mentions_marts.conninfo("reader")) as conn:
        figures = marts_figures(conn)
    assert figures["mentions"] > 0 and figures["top"] == ["Psychopharmacology"]
    assert_shows(page, figures)
    assert "newest row landed" in page.locator("#freshness").inner_text()
    print(f"screenshot: {shoot(page, 'drug_mentions')}")


@pytest.fixture
def new_top_journal(drug_mentions_marts: Settings, admin: psycopg.Connection) -> Iterator[str]:
    """A journal ranked first in dim_journals (as a dbt cycle would write it); removed afterwards."""
    yield NEW_JOURNAL
    admin.execute("DELETE FROM marts.dim_journals WHERE journal = %s", (NEW_JOURNAL,))


def test_drug_mentions_page_follows_the_marts_without_reload(drug_mentions_marts: Settings, stack_dashboard: str,
                                                             open_page, admin: psycopg.Connection,
                                                             new_top_journal: str) -> None:
    page = open_page(f"{stack_dashboard}drug_mentions")
    wait_for_state(page, "ok")
    page.evaluate("window.sameDocument = true")
    admin.execute("INSERT INTO marts.dim_journals SELECT %s, 99, 1, 99, 99, 0, first_mentioned_on, "
                  "last_mentioned_on, _max_landed_at FROM marts.dim_journals ORDER BY journal LIMIT 1",
                  (new_top_journal,))
    page.wait_for_function("(name) => document.getElementById('kpi-top-journal-sub').innerText.includes(name)",
                           arg=new_top_journal, timeout=PAGE_TIMEOUT_MS)
    assert page.evaluate("window.sameDocument") is True
    with psycopg.connect(drug_mentions_marts.conninfo("reader")) as conn:
        assert_shows(page, marts_figures(conn))
    print(f"screenshot: {shoot(page, 'drug_mentions-updated')}")


def test_drug_mentions_page_names_missing_marts_then_says_no_data_yet(
        drug_mentions_marts: Settings, admin: psycopg.Connection, scratch_database: str, dashboard_server,
        open_page) -> None:
    page = open_page(f"{dashboard_server(pg_database=scratch_database).url}drug_mentions")
    wait_for_state(page, "missing")
    message = state_message(page)
    assert "Marts not built yet" in message and all(mart in message for mart in DRUG_MENTIONS.marts)
    print(f"screenshot: {shoot(page, 'drug_mentions-marts-missing')}")

    reader = drug_mentions_marts.role_name("reader")
    with psycopg.connect(drug_mentions_marts.conninfo("admin", scratch_database), autocommit=True) as scratch:
        for relation in DRUG_MENTIONS.marts:
            copy_relation_shape(admin, scratch, relation, reader)
        wait_for_state(page, "empty")
        assert "No data yet" in state_message(page)
        assert page.locator("#content").is_hidden()
        print(f"screenshot: {shoot(page, 'drug_mentions-no-data-yet')}")

        with psycopg.connect(drug_mentions_marts.conninfo("admin")) as source:
            for relation in DRUG_MENTIONS.marts:
                copy_relation_rows(source, scratch, relation)
        wait_for_state(page, "ok")
        with psycopg.connect(drug_mentions_marts.conninfo("reader", scratch_database)) as conn:
            assert_shows(page, marts_figures(conn))
