"""The movies sample lands exactly its good records, keeping the export's dirt for staging."""
from __future__ import annotations

import json

import pytest
from psycopg import sql

from producers.rejects import load_rejects
from producers.samples import movies
from tests.integration.conftest import count
from tests.integration.movies.landing import SAMPLE, good_title_files, produce_and_land

pytestmark = pytest.mark.services


def test_sample_lands_exactly_its_good_files_and_rejects_the_rest(scratch, settings, admin):
    rejects = produce_and_land(settings, scratch, scratch.app_id)
    good = good_title_files()
    genres = json.loads((SAMPLE / "genres.json").read_text(encoding="utf-8"))["genres"]
    assert len(good) == movies.MOVIES_PER_SCALE + movies.SERIES_PER_SCALE

    assert count(admin, scratch.table("titles")) == len(good)
    assert count(admin, scratch.table("genres")) == len(genres) - movies.BAD_GENRE_RECORDS
    rejected = {name: len(load_rejects(rejects / f"{name}.rejects.jsonl"))
                for name in ("movies_titles_movies", "movies_titles_series", "movies_genres")}
    assert rejected == {"movies_titles_movies": movies.BAD_MOVIE_FILES,
                        "movies_titles_series": movies.BAD_SERIES_FILES, "movies_genres": movies.BAD_GENRE_RECORDS}


def test_landed_titles_keep_kinds_apart_and_blank_dates_apart_from_null(scratch, settings, admin):
    produce_and_land(settings, scratch, scratch.app_id)
    table = scratch.table("titles")
    good = good_title_files()
    by_kind = dict(admin.execute(sql.SQL("SELECT kind, count(*) FROM {} GROUP BY kind").format(table)).fetchall())
    assert by_kind == {"movie": movies.MOVIES_PER_SCALE, "series": movies.SERIES_PER_SCALE}
    shared_ids = admin.execute(sql.SQL("SELECT count(*) - count(DISTINCT id) FROM {}").format(table)).fetchone()[0]
    assert shared_ids == 70

    blank, null = admin.execute(sql.SQL(
        "SELECT count(*) FILTER (WHERE kind = 'movie' AND start_date = ''), "
        "count(*) FILTER (WHERE kind = 'series' AND start_date IS NULL) FROM {}").format(table)).fetchone()
    assert blank == sum(1 for d in good if d.get("release_date") == "")
    assert null == sum(1 for d in good if d["media_type"] == "series" and d["first_air_date"] is None)
    assert (blank, null) == (12, 8)

    cast, crew, companies, collections, returns = admin.execute(sql.SQL(
        "SELECT sum(jsonb_array_length(\"cast\")), sum(jsonb_array_length(crew)), "
        "sum(jsonb_array_length(production_companies)), count(collection), "
        "count(*) FILTER (WHERE overview LIKE '%' || chr(13) || '%') FROM {}").format(table)).fetchone()
    assert cast == sum(len(d["cast"]) for d in good)
    assert crew == sum(len(d["crew"]) for d in good)
    assert companies == sum(len(d["production_companies"]) for d in good)
    assert collections == sum(1 for d in good if d.get("belongs_to_collection"))
    assert returns == sum(1 for d in good if "\r" in d["overview"])
