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

{{ disagreeing_rows('from_appointments', 'funnel', ['scheduled_week', 'doctor_id'], ['booked_count', 'confirmed_count', 'completed_count', 'cancelled_count', 'no_show_count']) }}
