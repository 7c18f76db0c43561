-- The drug ↔ journal side of the mentions graph: one row per drug and journal that
-- mentions it, with how often, through which kind of publication, and when.
-- Mentions whose publication names no journal are in fct_drug_mentions only.
-- A table, recomputed from fct_drug_mentions whenever the graph changed: a few rows per
-- drug and journal.

select
    atccode,
    min(drug_name) as drug_name,
    journal,
    count(*) as mentions_count,
    count(*) filter (where publication_kind = 'pubmed') as pubmed_mentions_count,
    count(*) filter (where publication_kind = 'clinical_trial') as clinical_trial_mentions_count,
    min(published_on) as first_mentioned_on,
    max(published_on) as last_mentioned_on,
    max(_max_landed_at) as _max_landed_at

from {{ ref('fct_drug_mentions') }}
where journal is not null
group by atccode, journal
