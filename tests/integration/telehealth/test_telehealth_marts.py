"""The shipped telehealth sample built into marts by dbt: the figures equal a hand computation from the file."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest

from streammart.dbt_cycle import run_cycle
from tests.integration.telehealth.conftest import (SAMPLE, expected_duration_by_hour, expected_funnel,
                                                   latest_appointments)

pytestmark = pytest.mark.services
LISTING = SAMPLE / "appointments.json"


@pytest.fixture(scope="module")
def built(telehealth_landed, running_stack):
    result = run_cycle(full_refresh=True)
    assert result.status == "success", result.as_dict()
    return running_stack


def reader_rows(settings, query: str) -> list[tuple]:
    with psycopg.connect(settings.conninfo("reader")) as conn:
        return conn.execute(query).fetchall()


def test_the_weekly_funnel_per_doctor_equals_the_hand_computation(built):
    rows = reader_rows(built, "SELECT scheduled_week, doctor_id, booked_count, confirmed_count, completed_count, "
                              "cancelled_count, no_show_count FROM marts.fct_appointment_funnel_weekly")
    assert {(week, doctor): tuple(counts) for week, doctor, *counts in rows} == expected_funnel(LISTING)


def rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / whole).quantize(Decimal("0.0001"), ROUND_HALF_UP) if whole else None


def test_rates_follow_the_documented_rules(built):
    expected = {key: (rate(no_show, completed + no_show), rate(cancelled, booked))
                for key, (booked, _, completed, cancelled, no_show) in expected_funnel(LISTING).items()}
    rows = reader_rows(built, "SELECT scheduled_week, doctor_id, no_show_rate, cancellation_rate "
                              "FROM marts.fct_appointment_funnel_weekly")
    assert {(week, doctor): (no_show, cancelled) for week, doctor, no_show, cancelled in rows} == expected
    assert any(no_show for no_show, _ in expected.values()) and any(c for _, c in expected.values())


def test_average_duration_by_hour_equals_the_hand_computation(built):
    rows = reader_rows(built, "SELECT scheduled_hour, completed_count, avg_duration_minutes "
                              "FROM marts.fct_consultation_duration_by_hour")
    expected = expected_duration_by_hour(LISTING)
    assert {hour: (n, avg) for hour, n, avg in rows} == expected
    assert expected[20][1] > expected[9][1]  # evening consultations run over


def test_the_snapshot_keeps_one_current_version_per_appointment(built):
    with psycopg.connect(built.conninfo("transform")) as conn:
        current, appointments = conn.execute(
            "SELECT count(*) FILTER (WHERE dbt_valid_to IS NULL), count(DISTINCT appointment_id) "
            "FROM snapshots.snap_telehealth__appointments").fetchone()
    assert current == appointments == len(latest_appointments(LISTING))
