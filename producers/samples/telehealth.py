"""Telehealth sample: appointments behind a cursor-paginated API, doctors and patients as CSV exports.

Faithful to the dirt such systems carry: the appointments API writes ``scheduled_at`` in three
formats (ISO 8601 with ``Z``, ``YYYY-MM-DD HH:MM:SS``, ``DD/MM/YYYY HH:MM``), lists an
appointment again with changed fields once it moved on (the listing is ordered by
``updated_at``), and gained ``cancellation_reason`` and ``rating`` only in later pages; the
practice-management exports are UTF-16LE with a byte-order mark and CRLF line ends, with
headers of their own. A few records cannot be repaired: they must become rejects (and a
blank line a skip) while the rest lands.

Every dirty case sits at a position derived from the record's number, so tests count them.
"""
from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

FIRST = ["Amara", "Bruno", "Céline", "Dmitri", "Elif", "Felipe", "Grace", "Hiroshi", "Inès", "Jonas", "Kemi",
         "Luca", "Maya", "Nikolai", "Olga", "Pablo", "Rania", "Sofia", "Théo", "Yusuf"]
LAST = ["Abebe", "Bauer", "Costa", "Duarte", "Engel", "Fontaine", "Gómez", "Hoffmann", "Iqbal", "Jovanović",
        "Kim", "Lindqvist", "Moreau", "Novak", "Osei", "Park", "Quintero", "Řezníček", "Schmidt", "Tran"]
CITIES = ["Lyon", "Porto", "Berlin", "Madrid", "Leeds", "Milan", "Gdańsk", "Ghent", "Malmö", "Cork"]
SPECIALTIES = {"general practice": (10, 25), "dermatology": (12, 30), "psychiatry": (35, 55),
               "paediatrics": (12, 28), "cardiology": (18, 40), "nutrition": (20, 45)}
SPECIALTY_WEIGHTS = [40, 12, 15, 13, 10, 10]
CHANNELS = ["video", "phone", "chat"]
CHANNEL_WEIGHTS = [70, 20, 10]
OUTCOMES = ["completed", "no_show", "cancelled", "confirmed", "booked", "rescheduled"]
OUTCOME_WEIGHTS = [62, 9, 14, 8, 4, 3]
CANCELLATION_REASONS = ["patient request", "doctor unavailable", "feeling better", "booked elsewhere"]
START = date(2024, 6, 3)  # a Monday
WEEKS = 8
SNAPSHOT_AT = datetime(2024, 7, 26, tzinfo=timezone.utc)  # when the API listing was taken

DOCTOR_HEADER = ["Doctor ID", "Full Name", "Specialty", "City", "Active Since", "Updated At"]
PATIENT_HEADER = ["Patient ID", "Birth Year", "Sex", "City", "Registered On"]

# Dirty cases, by kind; tests rely on these counts and positions.
BAD_APPOINTMENTS = 2  # an unreadable scheduled_at, a missing status
BAD_DOCTOR_ROWS = 1  # blank doctor id
BAD_PATIENT_ROWS = 1  # birth year "19x5"
BLANK_PATIENT_LINES = 1
LATE_COLUMNS = ("cancellation_reason", "rating")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduled_text(n: int, moment: datetime) -> str:
    """Appointment ``n``'s ``scheduled_at`` in the format the API used for it: d/m/Y every 10th
    (from n = 3), a space-separated timestamp every 5th (from n = 1), else ISO 8601."""
    if n % 10 == 3:
        return moment.strftime("%d/%m/%Y %H:%M")
    if n % 5 == 1:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return _iso(moment)


def doctors(rng: random.Random, count: int) -> list[dict]:
    records = []
    for n in range(1, count + 1):
        since = date(2015, 1, 1) + timedelta(days=rng.randrange(3000))
        records.append({"doctor_id": f"D{n:04d}", "full_name": f"Dr {rng.choice(FIRST)} {rng.choice(LAST)}",
                        "specialty": rng.choices(list(SPECIALTIES), SPECIALTY_WEIGHTS)[0],
                        "city": rng.choice(CITIES), "active_since": since.isoformat(),
                        "updated_at": _iso(datetime(2024, 5, 1, tzinfo=timezone.utc)
                                           + timedelta(minutes=rng.randrange(60 * 24 * 30)))})
    return records


def patients(rng: random.Random, count: int) -> list[dict]:
    return [{"patient_id": f"P{n:05d}", "birth_year": str(rng.randint(1940, 2020)),
             "sex": rng.choice(["F", "M", "F", "M", "X", ""]), "city": rng.choice(CITIES),
             "registered_on": (date(2020, 1, 1) + timedelta(days=rng.randrange(1600))).isoformat()}
            for n in range(1, count + 1)]


def _slot(rng: random.Random) -> datetime:
    """A quarter-hour slot between 07:00 and 20:45 UTC on a day of the sample's weeks."""
    day = START + timedelta(days=rng.randrange(WEEKS * 7))
    return datetime(day.year, day.month, day.day, rng.randint(7, 20), 15 * rng.randrange(4), tzinfo=timezone.utc)


def _evening_overrun(scheduled: datetime) -> int:
    """Minutes evening consultations run over: the day's delays pile up after 17:00."""
    return 3 * max(0, scheduled.hour - 16)


def _versions(rng: random.Random, n: int, doctor: dict, patient_count: int) -> list[dict]:
    """The appointment's versions as the API showed them over time: booked, then its outcome."""
    scheduled = _slot(rng)
    created = scheduled - timedelta(minutes=rng.randrange(30, 60 * 24 * 21))
    outcome = rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0]
    if scheduled > SNAPSHOT_AT - timedelta(days=3) and outcome in ("completed", "no_show"):
        outcome = "confirmed"  # not happened yet when the listing was taken
    booked = {"appointment_id": f"A{n:06d}", "patient_id": f"P{rng.randint(1, patient_count):05d}",
              "doctor_id": doctor["doctor_id"], "specialty": doctor["specialty"],
              "channel": rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0], "status": "booked",
              "scheduled_at": scheduled_text(n, scheduled), "created_at": _iso(created), "updated_at": _iso(created),
              "confirmed_at": None, "duration_minutes": None}
    if outcome == "booked":
        return [booked]
    confirmed_at = created + (scheduled - created) * rng.uniform(0.1, 0.9)
    confirmed = dict(booked, status="confirmed", confirmed_at=_iso(confirmed_at), updated_at=_iso(confirmed_at))
    if outcome == "cancelled":
        was_confirmed = rng.random() < 0.5
        at = created + (scheduled - created) * rng.uniform(0.91, 0.99)
        base = confirmed if was_confirmed else booked
        return [base, dict(base, status="cancelled", updated_at=_iso(at),
                           cancellation_reason=rng.choice(CANCELLATION_REASONS))]
    if outcome == "rescheduled":
        moved = scheduled + timedelta(days=rng.randint(1, 7))
        return [booked, dict(booked, status="rescheduled", scheduled_at=scheduled_text(n, moved),
                             updated_at=_iso(confirmed_at))]
    if outcome == "confirmed":
        return [booked, confirmed]
    low, high = SPECIALTIES[doctor["specialty"]]
    ended = scheduled + timedelta(minutes=high + 15)
    final = dict(confirmed, status=outcome, updated_at=_iso(ended))
    if outcome == "completed":
        final.update(duration_minutes=rng.randint(low, high) + _evening_overrun(scheduled), rating=rng.choices([1, 2, 3, 4, 5], [2, 3, 10, 35, 50])[0])
    return [booked, confirmed, final]


def appointments(rng: random.Random, count: int, doctor_records: list[dict], patient_count: int) -> list[dict]:
    """The API listing, ordered by ``updated_at``: each appointment's latest version, and for every
    7th one (n % 7 == 0) with more than one version also the version before, which the later
    one repeats with changed fields."""
    listing = []
    for n in range(1, count + 1):
        versions = _versions(rng, n, rng.choice(doctor_records), patient_count)
        listing.extend(versions[-2:] if n % 7 == 0 and len(versions) > 1 else versions[-1:])
    listing.sort(key=lambda r: (r["updated_at"], r["appointment_id"]))
    for index, record in enumerate(listing):
        if index < len(listing) // 3:  # the API gained these fields later
            for column in LATE_COLUMNS:
                record.pop(column, None)
        else:
            for column in LATE_COLUMNS:
                record.setdefault(column, None)
    bad = [dict(listing[10], appointment_id=f"A{count + 1:06d}", scheduled_at="tomorrow 10am"),
           dict(listing[20], appointment_id=f"A{count + 2:06d}", status=None)]
    listing.insert(len(listing) // 4, bad[0])
    listing.insert(len(listing) // 2, bad[1])
    return listing


def export_csv(header: list[str], rows: list[list[str]]) -> str:
    """A practice-management export: CRLF line ends (the UTF-16LE + BOM is the writer's job)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def doctor_rows(records: list[dict]) -> list[list[str]]:
    rows = [[r["doctor_id"], r["full_name"], r["specialty"], r["city"], r["active_since"], r["updated_at"]]
            for r in records]
    rows.insert(len(rows) // 2, ["", "Dr Nobody", "dermatology", "Lyon", "2019-01-01", "2024-05-02T10:00:00Z"])
    return rows


def patient_rows(records: list[dict]) -> list[list[str]]:
    rows = [[r["patient_id"], r["birth_year"], r["sex"], r["city"], r["registered_on"]] for r in records]
    rows.insert(len(rows) // 3, [f"P{len(records) + 1:05d}", "19x5", "F", "Porto", "2021-03-04"])
    return rows


def write_utf16(path: Path, text: str) -> None:
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))


def write_sample(out: Path, scale: int = 1, seed: int = 7) -> dict[Path, int]:
    """Write appointments.json, doctors.csv and patients.csv under ``out``; returns records per file
    (lines of data for the CSVs, the blank line included)."""
    rng = random.Random(seed)
    doctor_records = doctors(rng, 40 * scale)
    patient_records = patients(rng, 600 * scale)
    listing = appointments(rng, 1500 * scale, doctor_records, 600 * scale)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in ("appointments.json", "doctors.csv", "patients.csv")}
    paths["appointments.json"].write_text(json.dumps(listing, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    docs = doctor_rows(doctor_records)
    write_utf16(paths["doctors.csv"], export_csv(DOCTOR_HEADER, docs))
    pats = patient_rows(patient_records)
    text = export_csv(PATIENT_HEADER, pats)
    lines = text.split("\r\n")
    lines.insert(len(lines) * 2 // 3, "   ")  # a blank line left by the export tool
    write_utf16(paths["patients.csv"], "\r\n".join(lines))
    return {paths["appointments.json"]: len(listing), paths["doctors.csv"]: len(docs),
            paths["patients.csv"]: len(pats) + BLANK_PATIENT_LINES}
