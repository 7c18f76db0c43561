"""Drug mentions sample: drugs, PubMed articles (CSV and JSON) and clinical trials.

Faithful to the files such projects ship: a drug code of another length, ids
that are numbers in one file and strings in another (and one that is empty),
four date spellings (`1 January 2020`, `25/05/2020`, `01/01/2019` where day and
month cannot be told apart, `2020-01-01`), bytes written out as literal escapes
(`\\xc3\\xb1`) in titles and journals, one trial split across two rows (id and
title in the first, journal in the second), whitespace-only titles, a tab-only
last line and a JSON array with a trailing comma.

The dirt sits at fixed positions for any scale; the constants below say how
many records each kind of dirt makes, and tests rely on them.
"""
from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, timedelta
from pathlib import Path

DRUGS = [
    ("A04AD", "DIPHENHYDRAMINE"),
    ("S03AA", "TETRACYCLINE"),
    ("V03AB", "ETHANOL"),
    ("A03BA", "ATROPINE"),
    ("A01AD", "EPINEPHRINE"),
    ("6302001", "ISOPRENALINE"),  # the code of another length
    ("R01AD", "BETAMETHASONE"),
    ("N02BE", "PARACETAMOL"),
    ("B01AC", "ASPIRIN"),
    ("J01CA", "AMOXICILLIN"),
    ("H02AB", "PREDNISOLONE"),
    ("N05BA", "DIAZEPAM"),
]
# Words that contain a drug's name without being it: a whole-word match must not count them.
NEAR_MISSES = ["norepinephrine", "ethanolamine", "oxytetracycline", "Diazepams-like"]
JOURNALS = [
    "Journal of emergency nursing",
    "The Journal of pediatrics",
    "Journal of food protection",
    "American journal of veterinary research",
    "Psychopharmacology",
    "The journal of allergy and clinical immunology. In practice",
    "Journal of photochemistry and photobiology. B, Biology",
    "The Journal of maternal-fetal & neonatal medicine",
    "Hôpitaux Universitaires de Genève",
]
TOPICS = ["acute pain", "allergic reactions", "sedation before colonoscopy", "ciguatera fish poisoning",
          "myocardial infarction in rats", "bone formation in the Beagle", "postoperative nausea",
          "out-of-hospital cardiac arrest", "alcohol withdrawal", "paediatric asthma", "otitis media"]
OPENINGS = ["Effects of {drugs} on {topic}", "{drugs} in the treatment of {topic}",
            "A randomised trial of {drugs} for {topic}", "Time to {drugs} and the risk of {topic}",
            "Outcomes of {topic} after {drugs}", "Observational study of {topic}"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
FIRST_DAY = date(2019, 1, 1)

# Records each file carries besides its regular ones, and what they become.
PUBMED_JSON_EMPTY_IDS = 1  # rejected: the key is blank
TRIALS_SPLIT_RECORDS = 1  # the second half is rejected (blank key); the first lands without journal
PUBMED_CSV_TAB_LINES = 1  # skipped
WHITESPACE_TITLES = {"pubmed.csv": 1, "clinical_trials.csv": 1}
ESCAPED = {"ñ": "\\xc3\\xb1", "í": "\\xc3\\xad", "é": "\\xc3\\xa9", "ô": "\\xc3\\xb4", "è": "\\xc3\\xa8"}


def escape_bytes(text: str) -> str:
    """``text`` with its non-ASCII letters written as literal UTF-8 escapes, as some exports do."""
    return "".join(ESCAPED.get(char, char) for char in text)


def date_text(rng: random.Random, day: date) -> str:
    """One of the four spellings the files mix, chosen per record."""
    style = rng.randrange(4)
    if style == 0:
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    if style == 1:
        return day.strftime("%d/%m/%Y")
    if style == 2:  # day and month both at most 12: ambiguous to a reader without the file's convention
        return date(day.year, day.month, min(day.day, 12)).strftime("%d/%m/%Y")
    return day.isoformat()


def title(rng: random.Random) -> str:
    """A title naming zero to two drugs in varied case, sometimes beside a near miss."""
    names = [name for _, name in rng.sample(DRUGS, rng.choice([0, 1, 1, 1, 2]))]
    spelled = [rng.choice([name, name.lower(), name.capitalize()]) for name in names]
    drugs = " and ".join(spelled) if spelled else "standard care"
    text = rng.choice(OPENINGS).format(drugs=drugs, topic=rng.choice(TOPICS))
    if rng.random() < 0.15:
        text += f", compared with {rng.choice(NEAR_MISSES)}"
    return text + "."


def articles(rng: random.Random, count: int, first_id: int) -> list[dict[str, str]]:
    return [{"id": str(first_id + n), "title": title(rng),
             "date": date_text(rng, FIRST_DAY + timedelta(days=rng.randrange(600))),
             "journal": rng.choice(JOURNALS)} for n in range(count)]


def pubmed_csv_rows(rng: random.Random, count: int) -> list[dict[str, str]]:
    rows = articles(rng, count, 1)
    rows[count // 3]["title"] = "   "
    rows[count // 2]["title"] = escape_bytes("Señales de EPINEPHRINE en urgencias pediátricas.")
    rows[2 * count // 3]["date"] = "25/05/2020"
    return rows


def pubmed_json_records(rng: random.Random, count: int, first_id: int) -> list[dict]:
    records: list[dict] = articles(rng, count, first_id)
    for n, record in enumerate(records):
        if n % 2 == 0:  # ids as JSON numbers in half the records, strings in the rest
            record["id"] = int(record["id"])
    records.insert(count // 2, {"id": "", "title": "Isoprenaline and atropine in bradycardia.",
                                "date": "01/03/2020", "journal": JOURNALS[6]})
    return records


def trial_rows(rng: random.Random, count: int) -> list[dict[str, str]]:
    rows = [dict(record, id=f"NCT{4000000 + 13 * n:08d}")
            for n, record in enumerate(articles(rng, count, 0))]
    rows[count // 4]["title"] = " \t "
    rows[count // 3].update(title=escape_bytes("Infiltration with Betamethasone o Ropivacaína en laminectomía"),
                            journal=escape_bytes(JOURNALS[-1]))
    split = rows[count // 2]
    split_at = count // 2 + 1
    rows.insert(split_at, {"id": "", "title": "", "date": "", "journal": split["journal"]})
    split["journal"] = ""
    return rows


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    return buffer.getvalue()


def json_text(records: list[dict]) -> str:
    """An indented array whose last element keeps its comma: invalid JSON, as shipped."""
    body = ",\n".join("  " + json.dumps(record, ensure_ascii=False) for record in records)
    return f"[\n{body},\n]\n"


def write_sample(out: Path, scale: int = 1, seed: int = 7) -> dict[Path, int]:
    """Write drugs.csv, pubmed.csv, pubmed.json and clinical_trials.csv; returns records per file."""
    rng = random.Random(seed)
    pubmed_rows = pubmed_csv_rows(rng, 40 * scale)
    pubmed_records = pubmed_json_records(rng, 20 * scale, 40 * scale + 1)
    trials = trial_rows(rng, 30 * scale)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        out / "drugs.csv": (csv_text(["atccode", "drug"], [list(d) for d in DRUGS]), len(DRUGS)),
        out / "pubmed.csv": (csv_text(["id", "title", "date", "journal"], [list(r.values()) for r in pubmed_rows])
                             + "\t", len(pubmed_rows)),
        out / "pubmed.json": (json_text(pubmed_records), len(pubmed_records)),
        out / "clinical_trials.csv": (
            csv_text(["id", "scientific_title", "date", "journal"], [list(r.values()) for r in trials]),
            len(trials)),
    }
    for path, (text, _) in files.items():
        path.write_text(text, encoding="utf-8", newline="")
    return {path: count for path, (_, count) in files.items()}
