"""Musculoskeletal care sample: six CSV exports of a care programme.

Patients, providers (NPI, specialty), encounters, referrals, adverse events and
the employers' in-network provider lists. Faithful to the dirt such exports
carry, each kind at a known position so tests can count it:

- line endings differ between files (CRLF for patients, encounters and the
  network list, LF for the others) and two files lack a final newline;
- NPIs that are empty or truncated to 9 digits, NPIs referenced by encounters
  and referrals that the providers export lacks;
- an employer's in-network NPIs packed into one quoted, comma-separated field;
- ids padded Excel-style as ``="PT00042"``;
- referrals and adverse events naming patients the patients export lacks;
- extreme billed-amount outliers;
- a converted referral dated before it was made, an unknown severity;
- rows no rule can read (they must become rejects, the rest must still land).
"""
from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

SPECIALTIES = ["physical therapy", "orthopedics", "chiropractic", "sports medicine", "pain management"]
EMPLOYERS = ["Acme Logistics", "Borealis Health", "Cobalt Foods", "Delta Grid", "Evergreen Schools",
             "Fulcrum Bank", "Granite Works", "Harbor Freight Co"]
ENCOUNTER_TYPES = ["evaluation", "pt_session", "telehealth", "follow_up"]
REFERRAL_STATUSES = ["pending", "scheduled", "completed", "declined"]
REFERRAL_WEIGHTS = [15, 15, 55, 15]
SEVERITIES = ["mild", "moderate", "severe"]
START = date(2024, 1, 1)
DAYS = 180

# Dirt at known positions (scale 1 and above); tests count each kind in the files.
PADDED_EVERY = 25            # every 25th patient id is written ="PT…" in patients, encounters and referrals
TRUNCATED_PROVIDER_NPIS = 2  # providers whose NPI lost its last digit
UNKNOWN_NPIS = 3             # NPIs encounters and referrals use that no provider row has
EMPTY_NPI_EVERY = 97         # every 97th encounter has no NPI
TRUNCATED_NPI_EVERY = 131    # every 131st encounter has a 9-digit NPI
OUTLIERS = 3                 # encounters billed absurd amounts
ABSENT_PATIENT_REFERRALS = 4  # referrals for patients the patients export lacks
ABSENT_PATIENT_EVENTS = 1    # adverse events for such a patient
MISORDERED_REFERRALS = 1     # converted before it was referred
UNKNOWN_SEVERITIES = 1       # severity outside the accepted values
# Rows the producer must reject, per file.
BAD_ROWS = {"providers.csv": 1, "encounters.csv": 2, "referrals.csv": 1}


def _npi(n: int) -> str:
    return f"1{(n * 7919) % 10**9:09d}"


def _pad(patient_id: str, n: int) -> str:
    return f'="{patient_id}"' if n % PADDED_EVERY == 0 else patient_id


def _day(rng: random.Random, start: date = START, days: int = DAYS) -> date:
    return start + timedelta(days=rng.randrange(days))


def providers(rng: random.Random, count: int) -> list[list[str]]:
    rows = []
    for n in range(1, count + 1):
        npi = _npi(n)[:9] if n <= TRUNCATED_PROVIDER_NPIS else _npi(n)
        updated = datetime(2023, 12, 1, tzinfo=timezone.utc) + timedelta(minutes=rng.randrange(60 * 24 * 30))
        rows.append([npi, f"Dr. {rng.choice('ABCDEFGHJKLMNPRSTW')}. Provider {n}", rng.choice(SPECIALTIES),
                     updated.strftime("%Y-%m-%d %H:%M:%S")])
    rows.insert(count // 2, ["", "Dr. Q. Nobody", "orthopedics", "2023-12-05 09:00:00"])
    return rows


def patients(rng: random.Random, count: int) -> list[list[str]]:
    rows = []
    for n in range(1, count + 1):
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 50))
        rows.append([_pad(f"PT{n:05d}", n), f"EMP{rng.randrange(1, len(EMPLOYERS) + 1):02d}", born.isoformat(),
                     rng.choice(["F", "M", "X", ""]), _day(rng, START - timedelta(days=365), 365).isoformat()])
    return rows


def _treating_npi(rng: random.Random, n: int, provider_count: int) -> str:
    if n % EMPTY_NPI_EVERY == 0:
        return ""
    if n % TRUNCATED_NPI_EVERY == 0:
        return _npi(rng.randrange(TRUNCATED_PROVIDER_NPIS + 1, provider_count + 1))[:9]
    return _npi(rng.randrange(TRUNCATED_PROVIDER_NPIS + 1, provider_count + 1))


def unknown_npis(provider_count: int) -> list[str]:
    """NPIs of providers beyond the export: referenced, never listed."""
    return [_npi(provider_count + k) for k in range(1, UNKNOWN_NPIS + 1)]


def encounters(rng: random.Random, count: int, patient_count: int, provider_count: int) -> list[list[str]]:
    rows = []
    unknown = unknown_npis(provider_count)
    outliers = {count * (k + 1) // (OUTLIERS + 1) for k in range(OUTLIERS)}
    for n in range(1, count + 1):
        patient = rng.randrange(1, patient_count + 1)
        npi = unknown[n % UNKNOWN_NPIS] if n % 50 == 7 else _treating_npi(rng, n, provider_count)
        amount = f"{rng.uniform(900_000, 9_000_000):.2f}" if n in outliers else f"{rng.uniform(60, 420):.2f}"
        rows.append([_pad(f"EN{n:06d}", n), _pad(f"PT{patient:05d}", patient), npi, _day(rng).isoformat(),
                     rng.choice(ENCOUNTER_TYPES), amount])
    rows.insert(count // 3, [f"EN9{count:05d}1", "PT00001", _npi(3), "2024-02-30", "evaluation", "120.00"])
    rows.insert(2 * count // 3, [f"EN9{count:05d}2", "PT00002", _npi(4), "2024-03-01", "evaluation", "n/a"])
    return rows


def referrals(rng: random.Random, count: int, patient_count: int, provider_count: int) -> list[list[str]]:
    rows = []
    unknown = unknown_npis(provider_count)
    absent = {count * (k + 1) // (ABSENT_PATIENT_REFERRALS + 1) for k in range(ABSENT_PATIENT_REFERRALS)}
    for n in range(1, count + 1):
        patient = patient_count + n if n in absent else rng.randrange(1, patient_count + 1)
        referred_on = _day(rng)
        status = rng.choices(REFERRAL_STATUSES, REFERRAL_WEIGHTS)[0]
        converted = referred_on + timedelta(days=rng.randrange(1, 30)) if status == "completed" else None
        if n == count - 1 and converted is None:
            status, converted = "completed", referred_on + timedelta(days=3)
        if n == count - 1:  # misordered: converted before it was referred
            converted = referred_on - timedelta(days=5)
        referred = unknown[0] if n % 40 == 11 else _npi(rng.randrange(TRUNCATED_PROVIDER_NPIS + 1, provider_count + 1))
        rows.append([f"RF{n:05d}", _pad(f"PT{patient:05d}", patient),
                     _npi(rng.randrange(TRUNCATED_PROVIDER_NPIS + 1, provider_count + 1)), referred,
                     referred_on.isoformat(), status, converted.isoformat() if converted else ""])
    rows.insert(count // 2, [f"RF9{count:04d}", "PT00003", _npi(5), "2024-04-01", "pending"])
    return rows


def adverse_events(rng: random.Random, count: int, patient_count: int, provider_count: int) -> list[list[str]]:
    rows = []
    for n in range(1, count + 1):
        patient = patient_count + 900 if n == count // 2 else rng.randrange(1, patient_count + 1)
        severity = "catastrophic" if n == count - 2 else rng.choices(SEVERITIES, [70, 25, 5])[0]
        rows.append([f"AE{n:04d}", f"PT{patient:05d}",
                     _npi(rng.randrange(TRUNCATED_PROVIDER_NPIS + 1, provider_count + 1)), _day(rng).isoformat(),
                     severity, rng.choice(["soreness after session", "fall during exercise", "swelling",
                                           "dizziness", "pain increase"])])
    return rows


def network_providers(rng: random.Random, provider_count: int) -> list[list[str]]:
    rows = []
    for n, name in enumerate(EMPLOYERS, start=1):
        chosen = sorted(rng.sample(range(1, provider_count + 1), provider_count // 3))
        npis = [_npi(k)[:9] if k <= TRUNCATED_PROVIDER_NPIS else _npi(k) for k in chosen]
        if n == 2:
            npis.append(unknown_npis(provider_count)[1])
        if n == 5:
            npis.insert(1, "")
        rows.append([f"EMP{n:02d}", name, ", ".join(npis), (START - timedelta(days=n)).isoformat()])
    return rows


def _csv(header: list[str], rows: list[list[str]], line_end: str, final_newline: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    return text if final_newline else text.removesuffix(line_end)


FILES = {
    "patients.csv": (["patient_id", "employer_id", "date_of_birth", "sex", "enrolled_on"], "\r\n", True),
    "providers.csv": (["npi", "provider_name", "specialty", "updated_at"], "\n", True),
    "encounters.csv": (["encounter_id", "patient_id", "npi", "encounter_date", "encounter_type", "amount"],
                       "\r\n", True),
    "referrals.csv": (["referral_id", "patient_id", "referring_npi", "referred_npi", "referred_on", "status",
                       "converted_on"], "\n", False),
    "adverse_events.csv": (["adverse_event_id", "patient_id", "npi", "occurred_on", "severity", "description"],
                           "\n", True),
    "network_providers.csv": (["employer_id", "employer_name", "in_network_npis", "updated_on"], "\r\n", False),
}


def write_sample(out: Path, scale: int = 1, seed: int = 7) -> dict[Path, int]:
    """Write the six CSV exports under ``out``; returns data rows per file."""
    rng = random.Random(seed)
    provider_count, patient_count = 60 * scale, 300 * scale
    rows = {
        "providers.csv": providers(rng, provider_count),
        "patients.csv": patients(rng, patient_count),
        "encounters.csv": encounters(rng, 1500 * scale, patient_count, provider_count),
        "referrals.csv": referrals(rng, 400 * scale, patient_count, provider_count),
        "adverse_events.csv": adverse_events(rng, 60 * scale, patient_count, provider_count),
        "network_providers.csv": network_providers(rng, provider_count),
    }
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, (header, line_end, final_newline) in FILES.items():
        path = out / name
        path.write_text(_csv(header, rows[name], line_end, final_newline), encoding="utf-8", newline="")
        written[path] = len(rows[name])
    return written
