-- One row per journal that mentions at least one drug, ranked by how many distinct
-- drugs it mentions: distinct_drugs_rank = 1 is the journal mentioning the most
-- (every journal tied for first has rank 1).
-- A table, recomputed from fct_drug_journal_mentions whenever the graph changed.

with per_journal as (

    select
        journal,
        count(*) as distinct_drugs_count,
        sum(mentions_count) as mentions_count,
        sum(pubmed_mentions_count) as pubmed_mentions_count,
        sum(clinical_trial_mentions_count) as clinical_trial_mentions_count,
        min(first_mentioned_on) as first_mentioned_on,
        max(last_mentioned_on) as last_mentioned_on,
        max(_max_landed_at) as _max_landed_at

    from {{ ref('fct_drug_journal_mentions') }}
    group by journal

)

select
    journal,
    distinct_drugs_count,
    rank() over (order by distinct_drugs_count desc) as distinct_drugs_rank,
    mentions_count::bigint as mentions_count,
    pubmed_mentions_count::bigint as pubmed_mentions_count,
    clinical_trial_mentions_count::bigint as clinical_trial_mentions_count,
    first_mentioned_on,
    last_mentioned_on,
    _max_landed_at

from per_journal
