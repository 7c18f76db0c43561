-- One row per employer: the latest landed version of its in-network list.

with ranked as (
{{ rank_versions(ref('base_msk__network_providers'), 'employer_id') }}
),

latest as (

    select
        employer_id,
        employer_name,
        in_network_npis,
        updated_on,
        {{ kept_version_metadata() }}

    from ranked
    where version_rank = 1

)

select * from latest
