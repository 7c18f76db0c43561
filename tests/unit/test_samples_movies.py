"""The movies sample: reproducible, and carrying each kind of dirt where the generator says."""
import json
from pathlib import Path

import pytest

from producers.parsing import FieldError, RecordParser
from producers.samples import movies
from streammart.pipeline import load_pipeline
from streammart.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "data" / "movies"
TITLES = SHIPPED / "titles"


def _documents(prefix: str) -> dict[int, dict]:
    """Good title files of one kind by their number in the file name."""
    found = {}
    for path in sorted(TITLES.glob(f"{prefix}-*.json")):
        number = int(path.stem.split("-")[1])
        if prefix == "movie" and number > movies.MOVIES_PER_SCALE or prefix == "series" and \
                number > movies.SERIES_PER_SCALE:
            continue
        found[number] = json.loads(path.read_text(encoding="utf-8"))
    return found


@pytest.fixture(scope="module")
def shipped_movies() -> dict[int, dict]:
    return _documents("movie")


@pytest.fixture(scope="module")
def shipped_series() -> dict[int, dict]:
    return _documents("series")


def _parser(name: str) -> RecordParser:
    source = next(s for s in load_pipeline(PROJECT_ROOT / "pipeline.yml").sources if s.name == name)
    return RecordParser(source)


def test_generator_reproduces_the_shipped_sample(tmp_path):
    movies.write_sample(tmp_path)
    shipped = sorted(p.relative_to(SHIPPED) for p in SHIPPED.rglob("*.json"))
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json"))
    assert written == shipped
    for relative in shipped:
        assert (tmp_path / relative).read_bytes() == (SHIPPED / relative).read_bytes(), relative


def test_rewriting_at_another_scale_leaves_no_stale_files(tmp_path):
    movies.write_sample(tmp_path, scale=2)
    counts = movies.write_sample(tmp_path, scale=1)
    assert len(list((tmp_path / "titles").glob("*.json"))) == counts[tmp_path / "titles"]


def test_one_file_per_title_of_each_kind(shipped_movies, shipped_series):
    assert len(shipped_movies) == movies.MOVIES_PER_SCALE
    assert len(shipped_series) == movies.SERIES_PER_SCALE
    bad = len(list(TITLES.glob("*.json"))) - len(shipped_movies) - len(shipped_series)
    assert bad == movies.BAD_MOVIE_FILES + movies.BAD_SERIES_FILES


def test_missing_dates_are_blank_for_movies_and_null_for_series(shipped_movies, shipped_series):
    blank = {n for n, d in shipped_movies.items() if d["release_date"] == ""}
    null = {n for n, d in shipped_series.items() if d["first_air_date"] is None}
    assert blank == {n for n in shipped_movies if movies.is_blank_release_date(n)} and len(blank) == 12
    assert null == {n for n in shipped_series if movies.is_null_first_air_date(n)} and len(null) == 8
    assert all(d["release_date"] is not None for d in shipped_movies.values())


def test_collection_is_an_object_or_null(shipped_movies):
    kinds = {n: type(d["belongs_to_collection"]).__name__ for n, d in shipped_movies.items()}
    assert {n for n, k in kinds.items() if k == "dict"} == {n for n in shipped_movies if movies.has_collection(n)}
    assert set(kinds.values()) == {"dict", "NoneType"}


def test_text_dirt_sits_where_the_generator_says(shipped_movies, shipped_series):
    for documents, title in ((shipped_movies, "title"), (shipped_series, "name")):
        entities = {n for n, d in documents.items() if "&amp;" in d[title]}
        returns = {n for n, d in documents.items() if "\r" in d["overview"]}
        assert entities == {n for n in documents if movies.has_entity_in_title(n) and not movies.is_foreign_title(n)}
        assert returns == {n for n in documents if movies.has_carriage_returns(n)}
        assert all("\n" not in d["overview"] for d in documents.values())
        assert sum(not d[title].isascii() for d in documents.values()) >= len(documents) // 16


def test_series_with_last_air_date_before_first(shipped_series):
    inverted = {n for n, d in shipped_series.items()
                if d["first_air_date"] and d["last_air_date"] and d["last_air_date"] < d["first_air_date"]}
    assert inverted == {n for n in shipped_series if movies.has_inverted_dates(n)}
    assert len(inverted) == 10


def test_movie_and_series_ids_overlap(shipped_movies, shipped_series):
    shared = {d["id"] for d in shipped_movies.values()} & {d["id"] for d in shipped_series.values()}
    assert len(shared) == 70  # series ids 102, 104 … 240 are movie ids too


def test_nested_credits_and_companies(shipped_movies, shipped_series):
    for document in [*shipped_movies.values(), *shipped_series.values()]:
        assert 3 <= len(document["cast"]) <= 8 and 2 <= len(document["crew"]) <= 4
        assert [c["order"] for c in document["cast"]] == list(range(len(document["cast"])))
    assert any(not d["production_companies"] for d in shipped_movies.values())
    assert any(len(d["production_companies"]) == 3 for d in shipped_movies.values())


def test_config_keeps_blank_dates_apart_from_null_ones(shipped_movies, shipped_series):
    movie = _parser("movies_titles_movies").parse(shipped_movies[20])
    series = _parser("movies_titles_series").parse(shipped_series[15])
    assert movie["kind"] == "movie" and movie["start_date"] == "" and movie["end_date"] is None
    assert series["kind"] == "series" and series["start_date"] is None and series["title"] == shipped_series[15]["name"]
    assert isinstance(_parser("movies_titles_movies").parse(shipped_movies[4])["collection"], dict)


def _rejected(parser: RecordParser, paths: list[Path]) -> list[str]:
    rejected = []
    for path in paths:
        try:
            parser.parse(json.loads(path.read_text(encoding="utf-8")))
        except (FieldError, json.JSONDecodeError):
            rejected.append(path.name)
    return rejected


def test_bad_files_are_the_known_rejects():
    movie_parser, series_parser = _parser("movies_titles_movies"), _parser("movies_titles_series")
    assert len(_rejected(movie_parser, sorted(TITLES.glob("movie-*.json")))) == movies.BAD_MOVIE_FILES
    assert len(_rejected(series_parser, sorted(TITLES.glob("series-*.json")))) == movies.BAD_SERIES_FILES
    genres = json.loads((SHIPPED / "genres.json").read_text(encoding="utf-8"))["genres"]
    genre_parser = _parser("movies_genres")
    assert sum(1 for g in genres if not _parses(genre_parser, g)) == movies.BAD_GENRE_RECORDS


def _parses(parser: RecordParser, record: dict) -> bool:
    try:
        parser.parse(record)
    except FieldError:
        return False
    return True
