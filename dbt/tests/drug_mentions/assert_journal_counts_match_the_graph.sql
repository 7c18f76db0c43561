-- dim_journals agrees with the graph's edges: each journal's distinct drugs and
-- mentions equal those counted straight from fct_drug_mentions.

with from_edges as (

    select journal, count(distinct atccode) as distinct_drugs_count, count(*) as mentions_count
    from {{ ref('fct_drug_mentions') }}
    where journal is not null
    group by journal

)

select
    coalesce(from_edges.journal, journals.journal) as journal,
    from_edges.distinct_drugs_count as expected_distinct_drugs_count,
    journals.distinct_drugs_count,
    from_edges.mentions_count as expected_mentions_count,
    journals.mentions_count

from from_edges
full outer join {{ ref('dim_journals') }} as journals
    on from_edges.journal = journals.journal

where from_edges.journal is null
    or journals.journal is null
    or from_edges.distinct_drugs_count <> journals.distinct_drugs_count
    or from_edges.mentions_count <> journals.mentions_count
