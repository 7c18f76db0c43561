-- One row per patient_id: the latest landed version (newest event time, then the
-- later landing, then Kafka position).

with ranked as (
{{ rank_versions(ref('base_msk__patients'), 'patient_id') }}
),

latest as (

    select
        patient_id,
        employer_id,
        date_of_birth,
        sex,
        enrolled_on,
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
