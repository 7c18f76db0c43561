"""The movies sample, landed and built: the star schema's figures equal a computation from the files."""
from __future__ import annotations

from collections import defaultdict

import psycopg
import pytest

from streammart.dbt_cycle import run_cycle
from tests.integration.movies.landing import good_title_files

pytestmark = pytest.mark.services


def rating_band(average: float | None, votes: int | None) -> str:
    """The marts' rating bands, lower bound included; no votes is unrated."""
    if not votes or average is None:
        return "unrated"
    for upper, band in ((5, "under 5"), (6, "5-6"), (7, "6-7"), (8, "7-8")):
        if average < upper:
            return band
    return "8 and up"


def expected_catalogue() -> dict[tuple, tuple[int, int, int, int]]:
    """(genre, year, band, kind) → (titles, budget, revenue, votes), from the title files.

    The rules the marts promise: a title without a start date ("" or null) has no
    year and is left out; a budget or revenue of 0 is unknown (adds nothing); a
    genre listed twice on a title counts once.
    """
    groups: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for document in good_title_files():
        start = document.get("release_date", document.get("first_air_date"))
        if not start:
            continue
        band = rating_band(document["vote_average"], document["vote_count"])
        for genre in set(document["genre_ids"]):
            group = groups[(genre, int(start[:4]), band, document["media_type"])]
            group[0] += 1
            group[1] += document.get("budget") or 0
            group[2] += document.get("revenue") or 0
            group[3] += document["vote_count"] or 0
    return {key: tuple(value) for key, value in groups.items()}


@pytest.fixture(scope="module")
def built(movies_landed, running_stack):
    result = run_cycle(full_refresh=True)
    assert result.status == "success", result.as_dict()
    return running_stack


def test_catalogue_mart_equals_the_files(built):
    with psycopg.connect(built.conninfo("reader")) as conn:
        rows = conn.execute("SELECT genre_id, release_year, rating_band, kind, titles_count, total_budget_usd, "
                            "total_revenue_usd, total_votes FROM marts.fct_catalogue_by_genre_year_rating").fetchall()
    actual = {tuple(row[:4]): tuple(row[4:]) for row in rows}
    expected = expected_catalogue()
    assert len(expected) > 300
    assert actual == expected


def test_title_fact_keeps_kinds_apart_and_counts_the_dirt(built):
    documents = good_title_files()
    with psycopg.connect(built.conninfo("reader")) as conn:
        by_kind = dict(conn.execute("SELECT kind, count(*) FROM marts.fct_titles GROUP BY kind").fetchall())
        shared = conn.execute("SELECT count(*) FROM (SELECT source_id FROM marts.fct_titles GROUP BY source_id "
                              "HAVING count(DISTINCT kind) = 2) AS s").fetchone()[0]
        states = dict(conn.execute("SELECT start_date_state, count(*) FROM marts.fct_titles "
                                   "GROUP BY start_date_state").fetchall())
        inverted, revenue, runtime = conn.execute(
            "SELECT count(*) FILTER (WHERE has_inverted_dates), sum(revenue_usd), sum(runtime_minutes) "
            "FROM marts.fct_titles").fetchone()
        credits = conn.execute("SELECT count(*) FROM marts.bridge_title_people").fetchone()[0]
        entity_titles = conn.execute("SELECT count(*) FROM marts.fct_titles WHERE title LIKE '%&amp;%'").fetchone()[0]

    assert by_kind == {"movie": sum(d["media_type"] == "movie" for d in documents),
                       "series": sum(d["media_type"] == "series" for d in documents)}
    assert shared == 70
    assert states == {"date": len(documents) - 20, "blank": 12, "null": 8}
    assert inverted == sum(1 for d in documents if d.get("first_air_date") and d.get("last_air_date")
                           and d["last_air_date"] < d["first_air_date"])
    assert revenue == sum(d.get("revenue") or 0 for d in documents)
    assert runtime == sum(d.get("runtime") or d.get("episode_run_time") or 0 for d in documents)
    assert credits == sum(len(d["cast"]) + len(d["crew"]) for d in documents)
    assert entity_titles == 0
