"""Musculoskeletal care: referral conversion, adverse events by provider and network, and the quarantine."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

import psycopg

from dashboard.pages import Page
from dashboard.reading import rows
from streammart.quarantine import rule_counts

TOTALS = """
SELECT (SELECT count(*) FROM marts.fct_msk__referrals) AS referrals,
       (SELECT count(*) FILTER (WHERE is_converted) FROM marts.fct_msk__referrals) AS converted,
       (SELECT count(*) FROM marts.fct_msk__encounters) AS encounters,
       (SELECT count(DISTINCT patient_id) FROM marts.fct_msk__encounters) AS patients,
       (SELECT count(*) FROM marts.fct_msk__adverse_events) AS adverse_events,
       (SELECT count(*) FILTER (WHERE promoted_at IS NULL) FROM marts.fct_quarantined_rows WHERE domain = 'msk') AS held,
       (SELECT count(*) FILTER (WHERE promoted_at IS NOT NULL) FROM marts.fct_quarantined_rows
        WHERE domain = 'msk') AS promoted,
       greatest((SELECT max(_max_landed_at) FROM marts.fct_msk__referrals),
                (SELECT max(_max_landed_at) FROM marts.fct_msk__encounters)) AS as_of
"""
NETWORKS = """
SELECT employer_id, employer_name, is_in_network, patients_count, encounters_count, adverse_events_count,
       adverse_events_per_100_encounters, referrals_count, referrals_converted, conversion_rate
FROM marts.fct_msk__network_outcomes
ORDER BY employer_id, is_in_network DESC
"""
PROVIDERS = """
SELECT npi, provider_name, specialty, referrals_received, referrals_converted, conversion_rate,
       encounters_count, adverse_events_count, adverse_events_per_100_encounters
FROM marts.fct_msk__provider_outcomes
ORDER BY referrals_received DESC, adverse_events_count DESC, npi
LIMIT 15
"""
MONTHLY = """
SELECT encounter_month AS month, encounters_count, patients_count, encounters_per_patient
FROM marts.fct_msk__monthly_encounters ORDER BY encounter_month
"""


def overview(conn: psycopg.Connection) -> dict[str, Any]:
    """KPIs, quarantine by rule, outcomes by network and by provider, encounters per patient by month."""
    totals = rows(conn, TOTALS)[0]
    return {
        "as_of": totals.pop("as_of"),
        "totals": totals,
        "quarantine": [asdict(count) for count in rule_counts(conn, "msk")],
        "networks": rows(conn, NETWORKS),
        "providers": rows(conn, PROVIDERS),
        "monthly": rows(conn, MONTHLY),
    }


PAGE = Page(
    domain="msk",
    title="MSK care",
    heading="Musculoskeletal care",
    marts=("marts.fct_msk__referrals", "marts.fct_msk__encounters", "marts.fct_msk__adverse_events",
           "marts.fct_msk__provider_outcomes", "marts.fct_msk__network_outcomes", "marts.fct_msk__monthly_encounters",
           "marts.fct_quarantined_rows"),
    overview=overview,
    position=30,
)
