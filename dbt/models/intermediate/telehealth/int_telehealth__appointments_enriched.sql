-- Every current appointment with its doctor and the figures the marts group by:
-- the funnel stages it reached, the UTC week and hour of its slot, and how long
-- before the slot it was booked.
--
-- Funnel rules: every appointment was booked; it was confirmed when it has a
-- confirmation time or an outcome that needs one (completed, no-show); completed,
-- cancelled and no-show are its final status. A rescheduled appointment is booked
-- (and maybe confirmed) but has no outcome yet.

with appointments as (

    select * from {{ ref('stg_telehealth__appointments') }}

),

doctors as (

    select * from {{ ref('stg_telehealth__doctors') }}

),

enriched as (

    select
        appointments.appointment_id,
        appointments.patient_id,
        appointments.doctor_id,
        doctors.doctor_name,
        coalesce(appointments.specialty, doctors.specialty) as specialty,
        appointments.channel,
        appointments.status,
        appointments.cancellation_reason,
        appointments.rating,
        appointments.scheduled_at,
        appointments.booked_at,
        appointments.confirmed_at,
        appointments.updated_at,
        appointments.duration_minutes,

        {{ utc_week('appointments.scheduled_at') }} as scheduled_week,
        extract(hour from appointments.scheduled_at at time zone 'UTC')::integer as scheduled_hour,
        round(
            (extract(epoch from appointments.scheduled_at - appointments.booked_at) / 3600)::numeric, 2
        ) as lead_time_hours,

        appointments.confirmed_at is not null
            or appointments.status in ('completed', 'no_show') as is_confirmed,
        appointments.status = 'completed' as is_completed,
        appointments.status = 'cancelled' as is_cancelled,
        appointments.status = 'no_show' as is_no_show,

        doctors.doctor_id is not null as is_known_doctor,
        appointments._event_id,
        appointments._landed_at,
        -- a change on either side changes the row (greatest() ignores nulls)
        greatest(appointments._landed_at, doctors._landed_at) as _max_landed_at

    from appointments
    left join doctors
        on appointments.doctor_id = doctors.doctor_id

)

select * from enriched
