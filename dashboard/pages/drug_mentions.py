"""Drug mentions: which drugs the PubMed articles and clinical trials name, in which journals."""
from __future__ import annotations

from typing import Any

import psycopg

from dashboard.pages import Page
from dashboard.reading import rows

TOTALS = """
SELECT count(*) AS mentions,
       count(DISTINCT atccode) AS drugs,
       count(DISTINCT (publication_kind, publication_id)) AS publications,
       count(DISTINCT (publication_kind, publication_id)) FILTER (WHERE publication_kind = 'clinical_trial')
           AS clinical_trials,
       count(*) FILTER (WHERE journal IS NULL) AS mentions_without_journal,
       max(_max_landed_at) AS as_of
FROM marts.fct_drug_mentions
"""
EDGES = """
SELECT atccode, drug_name, journal, mentions_count, pubmed_mentions_count, clinical_trial_mentions_count
FROM marts.fct_drug_journal_mentions
ORDER BY drug_name, journal
"""
JOURNALS = """
SELECT journal, distinct_drugs_count, distinct_drugs_rank, mentions_count, pubmed_mentions_count,
       clinical_trial_mentions_count
FROM marts.dim_journals
ORDER BY distinct_drugs_rank, journal
"""
DRUGS = """
SELECT atccode, min(drug_name) AS drug_name,
       count(*) FILTER (WHERE publication_kind = 'pubmed') AS pubmed,
       count(*) FILTER (WHERE publication_kind = 'clinical_trial') AS clinical_trials,
       count(DISTINCT journal) AS journals,
       min(published_on) AS first_mentioned_on, max(published_on) AS last_mentioned_on
FROM marts.fct_drug_mentions
GROUP BY atccode
ORDER BY count(*) DESC, atccode
"""


def overview(conn: psycopg.Connection) -> dict[str, Any]:
    """KPIs, the drug ↔ journal edges, journals ranked by distinct drugs, and mentions per drug."""
    totals = rows(conn, TOTALS)[0]
    return {
        "as_of": totals.pop("as_of"),
        "totals": totals,
        "edges": rows(conn, EDGES),
        "journals": rows(conn, JOURNALS),
        "drugs": rows(conn, DRUGS),
    }


PAGE = Page(
    domain="drug_mentions",
    title="Drug mentions",
    heading="Drugs in publications and trials",
    marts=("marts.fct_drug_mentions", "marts.fct_drug_journal_mentions", "marts.dim_journals"),
    overview=overview,
    position=40,
)
