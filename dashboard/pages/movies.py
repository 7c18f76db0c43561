"""Movies catalogue: titles by year, genre and rating band from the movies star schema."""
from __future__ import annotations

from typing import Any

import psycopg

from dashboard.pages import Page
from dashboard.reading import rows

TOTALS = """
SELECT count(*) AS titles,
       count(*) FILTER (WHERE kind = 'movie') AS movies,
       count(*) FILTER (WHERE kind = 'series') AS series,
       count(*) FILTER (WHERE start_date IS NULL) AS undated,
       coalesce(sum(revenue_usd), 0) AS revenue,
       count(revenue_usd) AS earning_titles,
       round((avg(vote_average) FILTER (WHERE vote_count > 0))::numeric, 2) AS average_rating,
       count(*) FILTER (WHERE vote_count > 0) AS rated_titles,
       max(_max_landed_at) AS as_of
FROM marts.fct_titles
"""
BY_YEAR = """
SELECT release_year AS year,
       count(*) FILTER (WHERE kind = 'movie') AS movies,
       count(*) FILTER (WHERE kind = 'series') AS series
FROM marts.fct_titles
WHERE release_year IS NOT NULL
GROUP BY release_year ORDER BY release_year
"""
BY_GENRE = """
SELECT g.genre_name AS genre,
       coalesce(sum(c.titles_count) FILTER (WHERE c.kind = 'movie'), 0) AS movies,
       coalesce(sum(c.titles_count) FILTER (WHERE c.kind = 'series'), 0) AS series
FROM marts.dim_genres AS g
LEFT JOIN marts.fct_catalogue_by_genre_year_rating AS c USING (genre_id)
GROUP BY g.genre_name
ORDER BY coalesce(sum(c.titles_count), 0) DESC, genre
"""
BY_RATING_BAND = """
SELECT rating_band AS band,
       count(*) FILTER (WHERE kind = 'movie') AS movies,
       count(*) FILTER (WHERE kind = 'series') AS series
FROM marts.fct_titles
GROUP BY rating_band
ORDER BY array_position(ARRAY['unrated', 'under 5', '5-6', '6-7', '7-8', '8 and up'], rating_band)
"""
TOP_TITLES = """
SELECT title, kind, release_year AS year, vote_average AS rating, vote_count AS votes, revenue_usd AS revenue
FROM marts.fct_titles
ORDER BY vote_count DESC, title_key LIMIT 10
"""


def overview(conn: psycopg.Connection) -> dict[str, Any]:
    """KPIs, titles by release year, by genre and by rating band, and the most voted titles."""
    totals = rows(conn, TOTALS)[0]
    return {
        "as_of": totals.pop("as_of"),
        "totals": totals,
        "by_year": rows(conn, BY_YEAR),
        "by_genre": rows(conn, BY_GENRE),
        "by_rating_band": rows(conn, BY_RATING_BAND),
        "top_titles": rows(conn, TOP_TITLES),
    }


PAGE = Page(
    domain="movies",
    title="Movies",
    heading="Film catalogue",
    marts=("marts.fct_titles", "marts.fct_catalogue_by_genre_year_rating", "marts.dim_genres"),
    overview=overview,
    position=30,
)
