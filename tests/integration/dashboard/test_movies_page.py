"""The movies page in a real browser against the real stack: it shows the movies marts' figures,
follows them without a reload, and reads as a message when they are missing, empty or unreachable."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Page

from dashboard.pages.movies import PAGE as MOVIES
from streammart.dbt_cycle import run_cycle
from streammart.settings import Settings
from tests.integration.dashboard.browser import PAGE_TIMEOUT_MS, shoot, state_message, wait_for_state
from tests.integration.dashboard.marts_copy import copy_relation_rows, copy_relation_shape
from tests.integration.dashboard.servers import free_port
from tests.integration.movies.landing import movies_landed  # noqa: F401  (a fixture)

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def movies_marts(movies_landed, running_stack: Settings) -> Settings:  # noqa: F811
    """The movies sample landed and a dbt cycle run, so the movies marts hold it."""
    result = run_cycle()
    assert result.ok, result.as_dict()
    return running_stack


def marts_figures(conn: psycopg.Connection) -> dict[str, Any]:
    """What the movies page should show, computed here from the marts."""
    titles, movies, series, undated, revenue, rating = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE kind = 'movie'), count(*) FILTER (WHERE kind = 'series'), "
        "count(*) FILTER (WHERE start_date IS NULL), sum(revenue_usd), "
        "avg(vote_average) FILTER (WHERE vote_count > 0) FROM marts.fct_titles").fetchone()
    years = conn.execute("SELECT release_year, count(*) FILTER (WHERE kind = 'movie'), "
                         "count(*) FILTER (WHERE kind = 'series') FROM marts.fct_titles "
                         "WHERE release_year IS NOT NULL GROUP BY 1 ORDER BY 1").fetchall()
    genres = dict(conn.execute(
        "SELECT g.genre_name, count(t.title_key) FROM marts.dim_genres g "
        "LEFT JOIN marts.bridge_title_genres b USING (genre_id) "
        "LEFT JOIN marts.fct_titles t ON t.title_key = b.title_key AND t.release_year IS NOT NULL "
        "GROUP BY 1").fetchall())
    bands = dict(conn.execute("SELECT rating_band, count(*) FROM marts.fct_titles GROUP BY 1").fetchall())
    top = conn.execute("SELECT title, kind, vote_count FROM marts.fct_titles "
                       "ORDER BY vote_count DESC, title_key LIMIT 10").fetchall()
    return {"titles": titles, "movies": movies, "series": series, "undated": undated,
            "revenue": Decimal(revenue or 0), "rating": rating, "years": years, "genres": genres, "bands": bands,
            "top": top}


def shown(page: Page) -> dict[str, Any]:
    """The figures on screen: KPI texts, the data plotted in each chart, the table's cells."""
    return page.evaluate("""() => {
        const text = (id) => document.getElementById(id).innerText.trim();
        const traces = (id) => document.getElementById(id).data;
        const sum = (id) => {
            const [movies, series] = traces(id), horizontal = movies.orientation === "h";
            const names = horizontal ? movies.y : movies.x;
            const counts = (t) => (horizontal ? t.x : t.y);
            return Object.fromEntries(names.map((n, i) => [n, counts(movies)[i] + counts(series)[i]]));
        };
        return {
            titles: text("kpi-titles"), titles_sub: text("kpi-titles-sub"), rating: text("kpi-rating"),
            revenue: text("kpi-revenue"), undated: text("kpi-undated"),
            years: traces("chart-by-year")[0].x.map((year, i) =>
                [year, traces("chart-by-year")[0].y[i], traces("chart-by-year")[1].y[i]]),
            genres: sum("chart-by-genre"), bands: sum("chart-by-rating"),
            top: [...document.querySelectorAll("#table-top-titles tbody tr")]
                   .map((tr) => [...tr.cells].map((td) => td.innerText.trim())),
        };
    }""")


def assert_shows(page: Page, figures: dict[str, Any]) -> None:
    screen = shown(page)
    assert screen["titles"] == f"{figures['titles']:,}"
    assert screen["titles_sub"] == f"{figures['movies']:,} movies · {figures['series']:,} series"
    assert float(screen["rating"]) == pytest.approx(figures["rating"], abs=0.005)
    assert screen["revenue"] == f"${figures['revenue'].quantize(Decimal(1), rounding=ROUND_HALF_UP):,}"
    assert screen["undated"] == f"{figures['undated']:,}"
    assert [tuple(y) for y in screen["years"]] == figures["years"]
    assert screen["genres"] == figures["genres"]
    assert screen["bands"] == figures["bands"]
    assert [(row[0], row[1], row[4]) for row in screen["top"]] == [
        (title, kind, f"{votes:,}") for title, kind, votes in figures["top"]]


def test_movies_page_shows_the_marts(movies_marts: Settings, stack_dashboard: str, open_page) -> None:
    page = open_page(f"{stack_dashboard}movies")
    wait_for_state(page, "ok")
    assert page.locator("nav a[aria-current=page]").inner_text() == MOVIES.title
    with psycopg.connect(movies_marts.conninfo("reader")) as conn:
        figures = marts_figures(conn)
    assert figures["titles"] > 0 and figures["undated"] > 0
    assert_shows(page, figures)
    assert "newest row landed" in page.locator("#freshness").inner_text()
    print(f"screenshot: {shoot(page, 'movies')}")


@pytest.fixture
def extra_title(movies_marts: Settings, admin: psycopg.Connection) -> Iterator[str]:
    """A key for a title added to fct_titles by the test (as a dbt cycle would); removed after."""
    key = f"zt{uuid.uuid4().hex[:8]}"
    yield key
    admin.execute("DELETE FROM marts.fct_titles WHERE title_key = %s", (key,))


def test_movies_page_follows_the_marts_without_reload(movies_marts: Settings, stack_dashboard: str, open_page,
                                                     admin: psycopg.Connection, extra_title: str) -> None:
    page = open_page(f"{stack_dashboard}movies")
    wait_for_state(page, "ok")
    page.evaluate("window.sameDocument = true")
    changes = {"title_key": extra_title, "title": "Zz Most Voted", "vote_count": 10_000_000, "source_id": -1}
    admin.execute("INSERT INTO marts.fct_titles SELECT (jsonb_populate_record(NULL::marts.fct_titles, "
                  "to_jsonb(t) || %s::jsonb)).* FROM marts.fct_titles t WHERE kind = 'series' "
                  "ORDER BY title_key LIMIT 1", (psycopg.types.json.Jsonb(changes),))
    with psycopg.connect(movies_marts.conninfo("reader")) as conn:
        figures = marts_figures(conn)
    page.wait_for_function("(text) => document.getElementById('kpi-titles').innerText.trim() === text",
                           arg=f"{figures['titles']:,}", timeout=PAGE_TIMEOUT_MS)
    assert page.evaluate("window.sameDocument") is True  # updated in place, not reloaded
    assert_shows(page, figures)
    assert shown(page)["top"][0][:2] == ["Zz Most Voted", "series"]


def test_movies_page_names_missing_marts_then_says_no_data_yet(movies_marts: Settings, admin: psycopg.Connection,
                                                              scratch_database: str, dashboard_server,
                                                              open_page) -> None:
    page = open_page(f"{dashboard_server(pg_database=scratch_database).url}movies")
    wait_for_state(page, "missing")
    message = state_message(page)
    assert "Marts not built yet" in message and all(mart in message for mart in MOVIES.marts)
    print(f"screenshot: {shoot(page, 'movies-marts-missing')}")

    reader = movies_marts.role_name("reader")
    with psycopg.connect(movies_marts.conninfo("admin", scratch_database), autocommit=True) as scratch:
        for relation in MOVIES.marts:
            copy_relation_shape(admin, scratch, relation, reader)
        wait_for_state(page, "empty")
        assert "No data yet" in state_message(page)
        print(f"screenshot: {shoot(page, 'movies-no-data-yet')}")

        with psycopg.connect(movies_marts.conninfo("admin")) as source:
            for relation in MOVIES.marts:
                copy_relation_rows(source, scratch, relation)
        wait_for_state(page, "ok")
        with psycopg.connect(movies_marts.conninfo("reader", scratch_database)) as conn:
            titles = conn.execute("SELECT count(*) FROM marts.fct_titles").fetchone()[0]
        assert shown(page)["titles"] == f"{titles:,}"


def test_movies_page_says_postgres_is_unreachable(running_stack: Settings, dashboard_server, open_page) -> None:
    page = open_page(f"{dashboard_server(pg_port=free_port()).url}movies")  # nothing listens there
    wait_for_state(page, "unreachable")
    assert "Postgres is not reachable" in state_message(page)
    assert page.locator("#content").is_hidden()
    print(f"screenshot: {shoot(page, 'movies-postgres-down')}")
