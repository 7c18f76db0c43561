-- One row per npi: the latest landed version (newest event time, then the
-- later landing, then Kafka position).

with ranked as (
{{ rank_versions(ref('base_msk__providers'), 'npi') }}
),

latest as (

    select
        npi,
        provider_name,
        specialty,
        updated_at,
        {{ kept_version_metadata() }}

    from ranked
    where version_rank = 1

)

select * from latest
