-- One row per PubMed article (pubmed.csv and pubmed.json): the latest landed version of each pubmed_id.

with ranked as (
{{ rank_versions(ref('base_drug_mentions__pubmed'), 'pubmed_id') }}
),

latest as (

    select
        pubmed_id,
        title,
        journal,
        published_on,
        published_on_text,
        versions_count,
        _event_id,
        _landed_at

    from ranked
    where version_rank = 1

)

select * from latest
