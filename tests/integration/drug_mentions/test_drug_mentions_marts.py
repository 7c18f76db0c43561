"""The drug mentions marts built by dbt from the landed sample equal a hand computation from the files."""
from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from streammart.contract import RAW_SCHEMA, raw_table_name
from streammart.dbt_cycle import run_cycle
from tests.integration.conftest import Scratch, land, run_producers
from tests.integration.drug_mentions import expected
from tests.integration.drug_mentions.conftest import DOMAIN, SAMPLE, drug_mentions_sources

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def marts(drug_mentions_marts):
    return drug_mentions_marts


def rows(settings, query: str) -> list[tuple]:
    with psycopg.connect(settings.conninfo("reader")) as conn:
        return conn.execute(query).fetchall()


def graph_edges(settings) -> set[expected.Edge]:
    return {expected.Edge(*row) for row in rows(settings, (
        "SELECT atccode, drug_name, publication_kind, publication_id, title, journal, published_on "
        "FROM marts.fct_drug_mentions"))}


def test_mentions_graph_equals_the_hand_computation(marts):
    edges = graph_edges(marts)
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


def produce_pubmed(settings, tmp_path, lines: list[str]) -> None:
    """These PubMed CSV rows produced into the real topic and landed, as pubmed.csv would be."""
    tmp_path.mkdir()
    source = next(s for s in drug_mentions_sources(folder=tmp_path) if s["name"] == "drug_mentions_pubmed_csv")
    (tmp_path / "pubmed.csv").write_text("id,title,date,journal\n" + "\n".join(lines) + "\n")
    scratch = Scratch(DOMAIN, tmp_path)
    pipeline = scratch.pipeline_of(source)
    assert run_producers(pipeline, tmp_path / "rejects").returncode == 0
    land(settings, pipeline, "test-drug-mentions-landing", [scratch.topic("pubmed")], tmp_path / "worker.log")


def tagged_edges(settings, tag: str) -> set[tuple[str, str]]:
    return set(rows(settings, f"SELECT atccode, publication_id FROM marts.fct_drug_mentions "
                              f"WHERE publication_id LIKE '{tag}-%'"))


def test_an_incremental_cycle_adds_new_edges_and_drops_those_a_new_title_no_longer_holds(marts, tmp_path, admin):
    tag = f"zt{uuid.uuid4().hex[:8]}"
    try:
        produce_pubmed(marts, tmp_path / "first", [f'{tag}-1,Aspirin for tension headache.,1 January 2020,Zt Journal',
                                                    f"{tag}-2,Nothing to see here.,2020-01-01,Zt Journal"])
        first = run_cycle()
        assert first.status == "success", first.as_dict()
        assert tagged_edges(marts, tag) == {("B01AC", f"{tag}-1")}

        produce_pubmed(marts, tmp_path / "second", [f"{tag}-1,Nothing here any more.,1 January 2020,Zt Journal",
                                                     f"{tag}-2,PARACETAMOL or aspirin?,2020-01-01,Zt Journal"])
        second = run_cycle()
        assert second.status == "success", second.as_dict()
        assert tagged_edges(marts, tag) == {("B01AC", f"{tag}-2"), ("N02BE", f"{tag}-2")}
        assert rows(marts, "SELECT distinct_drugs_count FROM marts.dim_journals WHERE journal = 'Zt Journal'") == [(2,)]
        untouched = {e for e in graph_edges(marts) if not e.publication_id.startswith(tag)}
        assert untouched == expected.mentions(SAMPLE)
    finally:
        admin.execute(sql.SQL("DELETE FROM {} WHERE pubmed_id LIKE %s").format(
            sql.Identifier(RAW_SCHEMA, raw_table_name(DOMAIN, "pubmed"))), (f"{tag}-%",))
        assert run_cycle(full_refresh=True).status == "success"
