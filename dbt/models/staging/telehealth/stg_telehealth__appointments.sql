-- One row per appointment: its latest landed version (newest updated_at, then the
-- later landing, then Kafka position). The API lists an appointment again when it
-- moves on (booked -> confirmed -> its outcome); the earlier versions stay in base_
-- and in raw, and the appointment snapshot keeps the history.

with ranked as (
{{ rank_versions(ref('base_telehealth__appointments'), 'appointment_id') }}
),

latest as (

    select
        appointment_id,
        patient_id,
        doctor_id,
        specialty,
        channel,
        status,
        cancellation_reason,
        rating,
        scheduled_at,
        booked_at,
        confirmed_at,
        updated_at,
        duration_minutes,
        versions_count,
        _event_id,
        _event_time,
        _landed_at

    from ranked
    where version_rank = 1

)

select * from latest
