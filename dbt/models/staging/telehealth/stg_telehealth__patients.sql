-- One row per patient: the latest landed version of each patient_id (the export
-- has no update time, so the later landing wins).

with ranked as (
{{ rank_versions(ref('base_telehealth__patients'), 'patient_id') }}
),

latest as (

    select
        patient_id,
        birth_year,
        sex,
        city,
        registered_on,
        versions_count,
        _event_id,
        _landed_at

    from ranked
    where version_rank = 1

)

select * from latest
