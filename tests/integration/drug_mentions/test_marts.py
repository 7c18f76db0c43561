"""The drug mentions marts built by dbt from the landed sample equal a hand computation from the files."""
from __future__ import annotations

import psycopg
import pytest

from tests.integration.drug_mentions import expected
from tests.integration.drug_mentions.conftest import SAMPLE

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def marts(drug_mentions_marts):
    return drug_mentions_marts


def rows(settings, query: str) -> list[tuple]:
    with psycopg.connect(settings.conninfo("reader")) as conn:
        return conn.execute(query).fetchall()


def test_mentions_graph_equals_the_hand_computation(marts):
    edges = {expected.Edge(*row) for row in rows(marts, (
        "SELECT atccode, drug_name, publication_kind, publication_id, title, journal, published_on "
        "FROM marts.fct_drug_mentions"))}
    hand = expected.mentions(SAMPLE)
    assert edges == hand
    assert len(hand) > 40 and {e.publication_kind for e in hand} == {"pubmed", "clinical_trial"}
    titles = " ".join(e.title for e in hand)
    assert "Señales" in titles and "\\x" not in titles  # escaped bytes decoded before matching
    assert all(e.published_on for e in hand)  # every spelling read


def test_journal_edges_and_the_top_journal_equal_the_hand_computation(marts):
    hand = expected.mentions(SAMPLE)
    by_journal = expected.journal_drugs(hand)
    journals = rows(marts, "SELECT journal, distinct_drugs_count, distinct_drugs_rank FROM marts.dim_journals")
    assert {j: n for j, n, _ in journals} == {j: len(codes) for j, codes in by_journal.items()}
    assert {j for j, _, rank in journals if rank == 1} == expected.top_journals(hand)
    assert "Hôpitaux Universitaires de Genève" in by_journal  # escaped and plain spellings are one journal
    assert not any("\\x" in j for j in by_journal)
    edges = rows(marts, "SELECT atccode, journal FROM marts.fct_drug_journal_mentions")
    assert sorted(edges) == sorted((code, j) for j, codes in by_journal.items() for code in codes)


def test_related_drugs_mentioned_in_pubmed_but_not_in_trials_equal_the_hand_computation(marts):
    related = rows(marts, "SELECT atccode, related_atccode, shared_journals "
                          "FROM marts.fct_drug_pubmed_only_related_drugs")
    hand = expected.pubmed_only_related(expected.mentions(SAMPLE))
    assert {(a, b): set(journals.split("; ")) for a, b, journals in related} == hand
    assert hand
