"""The msk marts on the real stack, against figures computed here from the shipped files."""
from __future__ import annotations

import csv
from collections import Counter
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from streammart.dbt_cycle import run_cycle
from tests.integration.msk_landing import MSK_SAMPLE, msk_landed  # noqa: F401  (fixture)

pytestmark = pytest.mark.services
MSK_MODELS = "source:msk+"
REFERRAL_STATUSES = {"pending", "scheduled", "completed", "declined"}


def unpadded(value: str) -> str:
    value = value.strip()
    return value[2:-1] if value.startswith('="') and value.endswith('"') else value


def read(name: str, folder: Path = MSK_SAMPLE) -> list[dict[str, str]]:
    with (folder / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def expected_referral_conversion(folder: Path = MSK_SAMPLE) -> dict[str, tuple[int, int]]:
    """Referred NPI → (referrals received, converted), by the rules the marts document.

    A referral counts when it passes its quarantine rules: its patient and both
    providers are in the exports, its status is a known one and it was not
    converted before it was made. It converts when completed with a date.
    """
    patients = {unpadded(r["patient_id"]) for r in read("patients.csv", folder)}
    providers = {r["npi"].strip() for r in read("providers.csv", folder) if r["npi"].strip()}
    received: Counter[str] = Counter()
    converted: Counter[str] = Counter()
    for row in read("referrals.csv", folder):
        if None in row.values():  # too few fields: rejected by the producer
            continue
        referring, referred = row["referring_npi"].strip(), row["referred_npi"].strip()
        passes = (unpadded(row["patient_id"]) in patients
                  and (not referring or referring in providers) and (not referred or referred in providers)
                  and row["status"].strip().lower() in REFERRAL_STATUSES
                  and not (row["converted_on"] and row["converted_on"] < row["referred_on"]))
        if passes and len(referred) == 10:
            received[referred] += 1
            converted[referred] += row["status"].strip().lower() == "completed" and bool(row["converted_on"])
    return {npi: (received[npi], converted[npi]) for npi in received}


def test_referral_conversion_by_provider_matches_the_files(msk_landed, running_stack):  # noqa: F811
    result = run_cycle(full_refresh=True, select=MSK_MODELS)
    assert result.status == "success", result.as_dict()
    with psycopg.connect(running_stack.conninfo("reader")) as conn:
        rows = conn.execute("SELECT npi, referrals_received, referrals_converted, conversion_rate "
                            "FROM marts.fct_msk__provider_outcomes WHERE referrals_received > 0").fetchall()
    expected = expected_referral_conversion()
    assert {npi: (received, converted) for npi, received, converted, _ in rows} == expected
    for npi, received, converted, rate in rows:
        assert rate == round(Decimal(converted) / received, 4)
    # 400 referrals read: 4 for absent patients, 10 to an unknown provider, 1 converted before made
    assert sum(r for r, _ in expected.values()) == 385
