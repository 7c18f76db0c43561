-- One row per encounter_id: the latest landed version (newest event time, then the
-- later landing, then Kafka position).

with ranked as (
{{ rank_versions(ref('base_msk__encounters'), 'encounter_id') }}
),

latest as (

    select
        encounter_id,
        patient_id,
        npi,
        encounter_date,
        encounter_month,
        encounter_type,
        amount,
        {{ kept_version_metadata() }}

    from ranked
    where version_rank = 1

)

select * from latest
