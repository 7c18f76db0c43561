-- One row per adverse_event_id: the latest landed version (newest event time, then the
-- later landing, then Kafka position).

with ranked as (
{{ rank_versions(ref('base_msk__adverse_events'), 'adverse_event_id') }}
),

latest as (

    select
        adverse_event_id,
        patient_id,
        npi,
        occurred_on,
        severity,
        description,
        {{ kept_version_metadata() }}

    from ranked
    where version_rank = 1

)

select * from latest
