"""Telehealth appointments: the funnel, no-show and cancellation rates, duration by hour, lead time."""
from __future__ import annotations

from typing import Any

import psycopg

from dashboard.pages import Page
from dashboard.reading import rows

FUNNEL = "marts.fct_appointment_funnel_weekly"
DURATION = "marts.fct_consultation_duration_by_hour"
LEAD_TIME = "marts.fct_booking_lead_time"

TOTALS = f"""
SELECT coalesce(sum(booked_count), 0) AS booked,
       coalesce(sum(confirmed_count), 0) AS confirmed,
       coalesce(sum(completed_count), 0) AS completed,
       coalesce(sum(cancelled_count), 0) AS cancelled,
       coalesce(sum(no_show_count), 0) AS no_shows,
       count(DISTINCT doctor_id) AS doctors,
       max(_max_landed_at) AS as_of
FROM {FUNNEL}
"""
BY_WEEK = f"""
SELECT scheduled_week AS week, sum(booked_count) AS booked, sum(confirmed_count) AS confirmed,
       sum(completed_count) AS completed, sum(cancelled_count) AS cancelled, sum(no_show_count) AS no_shows
FROM {FUNNEL}
GROUP BY scheduled_week ORDER BY scheduled_week
"""
BY_SPECIALTY = f"""
SELECT coalesce(specialty, 'unknown') AS specialty, count(DISTINCT doctor_id) AS doctors,
       sum(booked_count) AS booked, sum(completed_count) AS completed,
       sum(cancelled_count) AS cancelled, sum(no_show_count) AS no_shows
FROM {FUNNEL}
GROUP BY 1 ORDER BY booked DESC, specialty
"""
DURATION_BY_HOUR = f"""
SELECT scheduled_hour AS hour, completed_count AS completed, avg_duration_minutes AS avg_minutes
FROM {DURATION} ORDER BY scheduled_hour
"""
LEAD_TIMES = f"""
SELECT lead_time_bucket AS bucket, booked_count AS booked, avg_lead_time_hours AS avg_hours,
       no_show_rate, cancellation_rate
FROM {LEAD_TIME} ORDER BY bucket_order
"""


def overview(conn: psycopg.Connection) -> dict[str, Any]:
    """KPIs, the funnel by week, rates and volumes by specialty, duration by hour, lead time buckets."""
    totals = rows(conn, TOTALS)[0]
    return {
        "as_of": totals.pop("as_of"),
        "totals": totals,
        "by_week": rows(conn, BY_WEEK),
        "by_specialty": rows(conn, BY_SPECIALTY),
        "duration_by_hour": rows(conn, DURATION_BY_HOUR),
        "lead_times": rows(conn, LEAD_TIMES),
    }


PAGE = Page(
    domain="telehealth",
    title="Telehealth",
    heading="Teleconsultations",
    marts=(FUNNEL, DURATION, LEAD_TIME),
    overview=overview,
    position=20,
)
