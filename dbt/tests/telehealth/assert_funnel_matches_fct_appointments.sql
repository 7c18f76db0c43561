-- fct_appointment_funnel_weekly must agree with fct_appointments for every week and
-- doctor. Catches a group the incremental logic forgot to recompute (the week a
-- rescheduled appointment left, say) and any duplicated row.

with from_appointments as (

    select
        scheduled_week,
        doctor_id,
        count(*) as booked_count,
        count(*) filter (where is_confirmed) as confirmed_count,
        count(*) filter (where is_completed) as completed_count,
        count(*) filter (where is_cancelled) as cancelled_count,
        count(*) filter (where is_no_show) as no_show_count
    from {{ ref('fct_appointments') }}
    group by scheduled_week, doctor_id

),

funnel as (

    select * from {{ ref('fct_appointment_funnel_weekly') }}

)

select
    coalesce(from_appointments.scheduled_week, funnel.scheduled_week) as scheduled_week,
    coalesce(from_appointments.doctor_id, funnel.doctor_id) as doctor_id,
    from_appointments.booked_count as expected_booked_count,
    funnel.booked_count

from from_appointments
full outer join funnel
    on from_appointments.scheduled_week = funnel.scheduled_week
    and from_appointments.doctor_id = funnel.doctor_id

where from_appointments.doctor_id is null
    or funnel.doctor_id is null
    or from_appointments.booked_count <> funnel.booked_count
    or from_appointments.confirmed_count <> funnel.confirmed_count
    or from_appointments.completed_count <> funnel.completed_count
    or from_appointments.cancelled_count <> funnel.cancelled_count
    or from_appointments.no_show_count <> funnel.no_show_count
