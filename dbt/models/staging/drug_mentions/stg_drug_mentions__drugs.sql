-- One row per drug: the latest landed version of each ATC code.

with ranked as (
{{ rank_versions(ref('base_drug_mentions__drugs'), 'atccode') }}
),

latest as (

    select
        atccode,
        drug_name,
        versions_count,
        _event_id,
        _landed_at

    from ranked
    where version_rank = 1

)

select * from latest
