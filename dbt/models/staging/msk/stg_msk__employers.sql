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
        versions_count,
        _event_id,
        _topic,
        _partition,
        _offset,
        _event_time,
        _landed_at

    from ranked
    where version_rank = 1

)

select * from latest
