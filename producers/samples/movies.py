"""Movies sample: a film and series catalogue exported one JSON file per title, plus a genre list.

Faithful to the dirt such catalogue exports carry: a movie's unknown release
date is ``""`` while a series' unknown first air date is ``null``; a movie's
collection is an object or ``null``; nested arrays of companies, cast and
crew; HTML entities (``&amp;``) in names; bare ``\\r`` line breaks in
overviews; series whose last air date is before their first; non-ASCII
titles; budgets of 0 meaning unknown; and movie and series ids drawn from
separate sequences that overlap. A few files cannot be read or do not fit the
contract: they must become rejects, the rest must still land.

Every dirty case sits at a position computed from the title's number (see the
``is_…`` predicates), so tests count them from the same rules.
"""
from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

MOVIES_PER_SCALE = 240
SERIES_PER_SCALE = 120
PEOPLE_PER_SCALE = 400

# The genre lists of the two kinds, merged: ids are shared where the genre is.
GENRES = [
    (28, "Action"), (12, "Adventure"), (16, "Animation"), (35, "Comedy"), (80, "Crime"),
    (99, "Documentary"), (18, "Drama"), (10751, "Family"), (14, "Fantasy"), (36, "History"),
    (27, "Horror"), (10402, "Music"), (9648, "Mystery"), (10749, "Romance"), (878, "Science Fiction"),
    (53, "Thriller"), (10752, "War"), (37, "Western"), (10759, "Action &amp; Adventure"),
    (10762, "Kids"), (10763, "News"), (10764, "Reality"), (10765, "Sci-Fi &amp; Fantasy"),
    (10766, "Soap"), (10767, "Talk"), (10768, "War &amp; Politics"),
]
MOVIE_GENRES = [g for g, _ in GENRES if g < 10759]
SERIES_GENRES = [16, 35, 80, 99, 18, 10751, 9648, 37, 10759, 10762, 10763, 10764, 10765, 10766, 10767, 10768]

COMPANIES = [
    "Paramount", "Warner Bros. Pictures", "Universal Pictures", "Studio Ghibli", "Gaumont", "Toho",
    "Pathé", "Мосфильм", "Lions &amp; Tigers Pictures", "A24", "Canal+", "StudioCanal", "Constantin Film",
    "Film i Väst", "Nordisk Film", "Zentropa", "Working Title", "Blumhouse", "Legendary", "Amblin",
    "Lucasfilm", "Pixar", "Aardman", "Bavaria Film", "Wild Bunch", "Les Films du Losange", "Tōhokushinsha",
    "Shochiku", "CJ Entertainment", "Barunson E&amp;A", "Yash Raj Films", "Dharma Productions",
    "El Deseo", "Telecinco Cinema", "Rai Cinema", "Cattleya", "HBO", "BBC Studios", "Netflix",
    "Sony Pictures",
]
COMPANY_COUNTRIES = ["US", "US", "US", "JP", "FR", "JP", "FR", "RU", "US", "US", "FR", "FR", "DE", "SE", "DK",
                     "DK", "GB", "US", "US", "US", "US", "US", "GB", "DE", "FR", "FR", "JP", "JP", "KR", "KR",
                     "IN", "IN", "ES", "ES", "IT", "IT", "US", "GB", "US", "US"]
FIRST = ["Ana", "Björn", "Chloé", "Dev", "Élodie", "Fatima", "Goran", "Hana", "Ivan", "Jun", "Kofi", "Lena",
         "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Søren", "Tariq", "Uma", "Vera", "Wei", "Yara",
         "Zoë", "Ōta", "Aleksandr", "Inés", "Jürgen", "Małgorzata"]
LAST = ["Almeida", "Brandt", "Cohen", "Dubois", "Eze", "Fischer", "García", "Haddad", "Itō", "Jensen",
        "Kowalski", "Larsen", "Müller", "Nakamura", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Urban",
        "Østergaard", "Nuñez", "Çelik", "Smith", "O'Brien"]
WORDS = ["Night", "River", "Last", "Summer", "Ghost", "City", "Silent", "Red", "Long", "Road", "Winter",
         "Light", "Dark", "Garden", "Storm", "Stone", "Blue", "House", "Time", "Star"]
FOREIGN_TITLES = ["Amélie à Paris", "千と千尋の神隠し", "Крик в ночи", "Şahsiyet", "La Cité des enfants perdus",
                  "Tōkyō Monogatari", "El laberinto del fauno", "Das Leben der Anderen", "Ça commence aujourd'hui",
                  "괴물", "Smultronstället", "Ladri di biciclette"]
LANGUAGES = ["en", "en", "en", "en", "fr", "ja", "ru", "tr", "es", "de", "ko", "sv", "it"]
CHARACTERS = ["Herself", "Himself", "Detective", "The Captain", "Narrator (voice)", "Mother", "Young Anna",
              "Dr. Marsh", "Stranger", "Mayor"]
CREW_JOBS = [("Directing", "Director"), ("Writing", "Screenplay"), ("Production", "Producer"),
             ("Sound", "Original Music Composer"), ("Camera", "Director of Photography"), ("Editing", "Editor")]
SENTENCES = ["A quiet town hides an old secret.", "Two strangers share a long night.",
             "Nothing is what it seems.", "A family gathers for one last summer.",
             "The war changed everything.", "She never looked back."]

# Rejects the producer must report, by source; tests rely on these counts.
BAD_MOVIE_FILES = 4
BAD_SERIES_FILES = 1
BAD_GENRE_RECORDS = 1

FIRST_YEAR, LAST_YEAR = 1960, 2024


def series_id(n: int) -> int:
    """Series ids start at 102 and step by 2: the even ones up to the last movie id are movie ids too."""
    return 100 + 2 * n


def is_blank_release_date(n: int) -> bool:
    """Movie n's release date is exported as ``""``."""
    return n % 20 == 0


def is_null_first_air_date(n: int) -> bool:
    """Series n's first air date is exported as ``null``."""
    return n % 15 == 0


def has_collection(n: int) -> bool:
    """Movie n belongs to a collection (an object); the others carry ``null``."""
    return n % 4 == 0


def has_entity_in_title(n: int) -> bool:
    """Title n (of either kind) holds an HTML entity."""
    return n % 25 == 0


def has_carriage_returns(n: int) -> bool:
    """Title n's overview separates sentences with bare ``\\r``."""
    return n % 10 == 3


def is_foreign_title(n: int) -> bool:
    """Title n has a non-ASCII (or non-English) title."""
    return n % 8 == 1


def has_inverted_dates(n: int) -> bool:
    """Series n's last air date is before its first air date."""
    return n % 12 == 5 and not is_null_first_air_date(n)


def has_unknown_budget(n: int) -> bool:
    """Movie n's budget and revenue are exported as 0 (unknown)."""
    return n % 9 == 0


def is_unrated(n: int) -> bool:
    """Title n has no votes yet (vote_count 0, vote_average 0)."""
    return n % 30 == 7


def _title(rng: random.Random, n: int) -> str:
    if is_foreign_title(n):
        return FOREIGN_TITLES[n // 8 % len(FOREIGN_TITLES)]
    first, second = rng.sample(WORDS, 2)
    joiner = " &amp; " if has_entity_in_title(n) else " "
    return f"The {first}{joiner}{second}" if rng.random() < 0.4 else f"{first}{joiner}{second}"


def _overview(rng: random.Random, n: int) -> str:
    sentences = rng.sample(SENTENCES, rng.randint(2 if has_carriage_returns(n) else 1, 3))
    return ("\r" if has_carriage_returns(n) else " ").join(sentences)


def _day(rng: random.Random) -> date:
    """A release day, recent years more likely (catalogues grow)."""
    year = FIRST_YEAR + int((LAST_YEAR - FIRST_YEAR) * rng.random() ** 0.6)
    return date(year, 1, 1) + timedelta(days=rng.randrange(365))


def _votes(rng: random.Random, n: int) -> tuple[float, int]:
    if is_unrated(n):
        return 0.0, 0
    average = round(min(10.0, max(1.0, rng.gauss(6.4, 1.1))), 1)
    return average, int(rng.lognormvariate(6, 1.5)) + 1


def _companies(rng: random.Random) -> list[dict]:
    picked = rng.sample(range(len(COMPANIES)), rng.choices([0, 1, 2, 3], [1, 5, 3, 1])[0])
    return [{"id": 1000 + i, "name": COMPANIES[i], "origin_country": COMPANY_COUNTRIES[i] if i % 7 else None}
            for i in picked]


def _credits(rng: random.Random, people: list[str]) -> tuple[list[dict], list[dict]]:
    cast_ids = rng.sample(range(len(people)), rng.randint(3, 8))
    cast = [{"person_id": 5000 + p, "name": people[p], "character": rng.choice(CHARACTERS) if order % 5 else None,
             "order": order} for order, p in enumerate(cast_ids)]
    jobs = rng.sample(CREW_JOBS, rng.randint(2, 4))
    crew_people = [cast_ids[0] if rng.random() < 0.1 else rng.randrange(len(people)) for _ in jobs]
    crew = [{"person_id": 5000 + p, "name": people[p], "department": department, "job": job}
            for p, (department, job) in zip(crew_people, jobs)]
    return cast, crew


def people(rng: random.Random, count: int) -> list[str]:
    return [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(count)]


def movie(rng: random.Random, n: int, cast_pool: list[str]) -> dict:
    """Movie number n (1-based) as the export writes it."""
    released = _day(rng)
    average, count = _votes(rng, n)
    budget = 0 if has_unknown_budget(n) else int(rng.lognormvariate(16.5, 1.2)) // 1000 * 1000
    revenue = 0 if has_unknown_budget(n) else int(budget * rng.lognormvariate(0.6, 1.0)) // 1000 * 1000
    cast, crew = _credits(rng, cast_pool)
    title = _title(rng, n)
    return {
        "media_type": "movie",
        "id": n,
        "title": title,
        "original_title": title,
        "original_language": rng.choice(LANGUAGES),
        "overview": _overview(rng, n),
        "status": "Released",
        "release_date": "" if is_blank_release_date(n) else released.isoformat(),
        "runtime": max(62, int(rng.gauss(106, 18))),
        "budget": budget,
        "revenue": revenue,
        "vote_average": average,
        "vote_count": count,
        "popularity": round(rng.lognormvariate(2.5, 1.0), 3),
        "genre_ids": rng.sample(MOVIE_GENRES, rng.randint(1, 3)),
        "belongs_to_collection": {"id": 9000 + n // 8, "name": f"{title} Collection"} if has_collection(n) else None,
        "production_companies": _companies(rng),
        "cast": cast,
        "crew": crew,
    }


def series(rng: random.Random, n: int, cast_pool: list[str]) -> dict:
    """Series number n (1-based) as the export writes it: other names for the same facts."""
    first = _day(rng)
    last = first + timedelta(days=rng.randrange(60, 3000))
    if has_inverted_dates(n):
        last = first - timedelta(days=rng.randrange(30, 700))
    average, count = _votes(rng, n)
    cast, crew = _credits(rng, cast_pool)
    title = _title(rng, n)
    ended = rng.random() < 0.6
    return {
        "media_type": "series",
        "id": series_id(n),
        "name": title,
        "original_name": title,
        "original_language": rng.choice(LANGUAGES),
        "overview": _overview(rng, n),
        "status": "Ended" if ended else "Returning Series",
        "first_air_date": None if is_null_first_air_date(n) else first.isoformat(),
        "last_air_date": last.isoformat() if ended or has_inverted_dates(n) else None,
        "episode_run_time": rng.choice([22, 25, 30, 42, 45, 50, 58, 60]),
        "number_of_seasons": rng.randint(1, 9),
        "vote_average": average,
        "vote_count": count,
        "popularity": round(rng.lognormvariate(2.8, 1.0), 3),
        "genre_ids": rng.sample(SERIES_GENRES, rng.randint(1, 3)),
        "production_companies": _companies(rng),
        "cast": cast,
        "crew": crew,
    }


def bad_movie_files(first: int) -> dict[str, str]:
    """Files of the movie glob that must be rejected, by name: numbers after the last good movie."""
    no_kind = json.dumps({"id": first + 3, "title": "No Kind"})
    return {
        f"movie-{first:05d}.json": "",  # an empty file
        f"movie-{first + 1:05d}.json": '{"media_type": "movie", "id": %d, "title": "Cut Off", "cast": [' % (first + 1),
        f"movie-{first + 2:05d}.json": json.dumps({"media_type": "movie", "id": "tt0012", "title": "Wrong Id"}),
        f"movie-{first + 3:05d}.json": no_kind,  # kind is required
    }


def bad_series_files(first: int) -> dict[str, str]:
    return {f"series-{first:05d}.json": json.dumps(
        {"media_type": "series", "id": series_id(first), "name": "Many Votes", "vote_count": "n/a"})}


def genres_document() -> dict:
    """The genre list as the export writes it; one entry has no id (a reject)."""
    items = [{"id": g, "name": name} for g, name in GENRES]
    items.insert(10, {"id": "", "name": "Uncategorised"})
    return {"genres": items}


def title_documents(scale: int = 1, seed: int = 7) -> dict[str, str]:
    """Every title file's name and text, good and bad, in name order."""
    rng = random.Random(seed)
    cast_pool = people(rng, PEOPLE_PER_SCALE * scale)
    movies, shows = MOVIES_PER_SCALE * scale, SERIES_PER_SCALE * scale
    files = {f"movie-{n:05d}.json": json.dumps(movie(rng, n, cast_pool), ensure_ascii=False, indent=1)
             for n in range(1, movies + 1)}
    files |= {f"series-{n:05d}.json": json.dumps(series(rng, n, cast_pool), ensure_ascii=False, indent=1)
              for n in range(1, shows + 1)}
    files |= bad_movie_files(movies + 1) | bad_series_files(shows + 1)
    return dict(sorted(files.items()))


def write_sample(out: Path, scale: int = 1, seed: int = 7) -> dict[Path, int]:
    """Write titles/*.json (one title a file) and genres.json under ``out``; returns records per file or folder."""
    titles = out / "titles"
    titles.mkdir(parents=True, exist_ok=True)
    for old in titles.glob("*.json"):
        old.unlink()
    documents = title_documents(scale, seed)
    for name, text in documents.items():
        (titles / name).write_text(text + ("\n" if text else ""), encoding="utf-8")
    genres_path = out / "genres.json"
    genres = genres_document()
    genres_path.write_text(json.dumps(genres, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return {titles: len(documents), genres_path: len(genres["genres"])}
