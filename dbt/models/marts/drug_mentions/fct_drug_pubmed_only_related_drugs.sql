-- For each drug, the other drugs that the journals mentioning it mention in PubMed
-- but not in clinical trials: related_atccode is in the list for atccode when some
-- journal mentions atccode (in either kind of publication) and mentions
-- related_atccode in a PubMed article and in none of its clinical trials.
-- A table, recomputed from fct_drug_journal_mentions whenever the graph changed.

with journal_mentions as (

    select * from {{ ref('fct_drug_journal_mentions') }}

),

pubmed_only as (

    select atccode, drug_name, journal, _max_landed_at
    from journal_mentions
    where pubmed_mentions_count > 0
        and clinical_trial_mentions_count = 0

),

pairs as (

    select
        drug.atccode,
        drug.drug_name,
        related.atccode as related_atccode,
        related.drug_name as related_drug_name,
        drug.journal,
        greatest(drug._max_landed_at, related._max_landed_at) as _max_landed_at

    from journal_mentions as drug
    inner join pubmed_only as related
        on drug.journal = related.journal
        and drug.atccode <> related.atccode

)

select
    atccode,
    min(drug_name) as drug_name,
    related_atccode,
    min(related_drug_name) as related_drug_name,
    count(*) as shared_journals_count,
    string_agg(journal, '; ' order by journal) as shared_journals,
    max(_max_landed_at) as _max_landed_at

from pairs
group by atccode, related_atccode
