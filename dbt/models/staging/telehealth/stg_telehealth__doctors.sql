-- One row per doctor: the latest landed version of each doctor_id.

with ranked as (
{{ rank_versions(ref('base_telehealth__doctors'), 'doctor_id') }}
),

latest as (

    select
        doctor_id,
        doctor_name,
        specialty,
        city,
        active_since,
        updated_at,
        versions_count,
        _event_id,
        _event_time,
        _landed_at

    from ranked
    where version_rank = 1

)

select * from latest
