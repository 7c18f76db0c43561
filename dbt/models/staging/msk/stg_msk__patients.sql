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
        {{ kept_version_metadata() }}

    from ranked
    where version_rank = 1

)

select * from latest
