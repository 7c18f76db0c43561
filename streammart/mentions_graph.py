"""The drug mentions graph as one JSON document, the shape the source project promised.

Each drug mentioned anywhere, with the PubMed articles and clinical trials whose
titles name it and the journals that mention it (with the dates of those
mentions); then the journals ranked by how many distinct drugs they mention.
Everything is sorted, so the same marts always give the same bytes.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import psycopg

MENTIONS_QUERY = ("SELECT atccode, drug_name, publication_kind, publication_id, title, journal, published_on "
                  "FROM marts.fct_drug_mentions")
JOURNALS_QUERY = "SELECT journal, distinct_drugs_count, distinct_drugs_rank FROM marts.dim_journals"
KIND_LISTS = {"pubmed": "pubmed", "clinical_trial": "clinical_trials"}


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _sort_key(*values: Any) -> tuple:
    """Nulls first, then by value: a total order for rows holding None."""
    return tuple((value is not None, value or "") for value in values)


def graph_document(mentions: list[tuple], journals: list[tuple]) -> dict[str, Any]:
    """The document from the rows of MENTIONS_QUERY and JOURNALS_QUERY (in any order)."""
    drugs: dict[str, dict[str, Any]] = {}
    journal_dates: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for atccode, name, kind, publication_id, title, journal, published_on in mentions:
        drug = drugs.setdefault(atccode, {"atccode": atccode, "drug": name, "pubmed": [], "clinical_trials": []})
        drug[KIND_LISTS[kind]].append({"id": publication_id, "title": title, "journal": journal,
                                       "date": _day(published_on)})
        if journal is not None:
            journal_dates[atccode][journal].add(_day(published_on) or "")
    for atccode, drug in drugs.items():
        for kind in KIND_LISTS.values():
            drug[kind].sort(key=lambda m: _sort_key(m["date"], m["id"]))
        drug["journals"] = [{"journal": journal, "dates": sorted(d for d in dates if d)}
                            for journal, dates in sorted(journal_dates[atccode].items())]
    ranked = sorted(journals, key=lambda j: (j[2], j[0]))
    return {
        "drugs": [drugs[code] for code in sorted(drugs)],
        "journals": [{"journal": j, "distinct_drugs": count, "rank": rank} for j, count, rank in ranked],
        "top_journals": [j for j, _, rank in ranked if rank == 1],
    }


def read_graph(conn: psycopg.Connection) -> tuple[dict[str, Any], int]:
    """The document and its number of edges (drug, publication)."""
    mentions = conn.execute(MENTIONS_QUERY).fetchall()
    return graph_document(mentions, conn.execute(JOURNALS_QUERY).fetchall()), len(mentions)
