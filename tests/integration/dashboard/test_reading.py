"""How the dashboard reads a page from the real Postgres: as `reader`, in one repeatable-read,
read-only snapshot, and with a message for every way that can fail."""
from __future__ import annotations

import psycopg
import pytest

from dashboard.pages import Page
from dashboard.reading import read_page
from streammart.settings import Settings

pytestmark = pytest.mark.services


def probe_page(overview) -> Page:
    return Page(domain="probe", title="Probe", heading="Probe", marts=("marts.fct_orders",), overview=overview)


def transaction_seen(conn: psycopg.Connection) -> dict:
    show = lambda name: conn.execute(f"SHOW {name}").fetchone()[0]  # noqa: E731
    return {"user": conn.execute("SELECT current_user").fetchone()[0], "isolation": show("transaction_isolation"),
            "read_only": show("transaction_read_only")}


def test_a_page_is_read_as_reader_in_one_repeatable_read_read_only_snapshot(retail_marts: Settings) -> None:
    state = read_page(retail_marts, probe_page(transaction_seen))
    assert state.state == "ok", state.message
    assert state.data["user"] == retail_marts.role_name("reader")
    assert state.data["isolation"] == "repeatable read" and state.data["read_only"] == "on"


def test_a_relation_the_page_did_not_declare_is_named_as_missing(retail_marts: Settings) -> None:
    state = read_page(retail_marts, probe_page(lambda conn: conn.execute("SELECT * FROM marts.no_such_mart")))
    assert state.state == "missing" and "marts.no_such_mart" in state.message


def test_a_failing_query_is_a_message_and_the_traceback_stays_in_the_log(retail_marts: Settings, caplog) -> None:
    state = read_page(retail_marts, probe_page(lambda conn: conn.execute("SELECT 1 / 0")))
    assert state.state == "error" and state.http_status == 503
    assert "DivisionByZero" in state.message and "Traceback" not in state.message
    assert "Traceback" in caplog.text or any(r.exc_info for r in caplog.records)
