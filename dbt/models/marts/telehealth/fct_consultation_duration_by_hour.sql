{{ config(materialized='table') }}

-- Completed consultations by the hour of day (UTC) they were scheduled to start:
-- how many, and how long they lasted on average. Twenty-four rows at most, so
-- each build recomputes it whole from fct_appointments.

with completed as (

    select scheduled_hour, duration_minutes, _max_landed_at
    from {{ ref('fct_appointments') }}
    where is_completed
        and duration_minutes is not null

),

final as (

    select
        scheduled_hour,
        count(*) as completed_count,
        round(avg(duration_minutes), 2)::numeric(8, 2) as avg_duration_minutes,
        min(duration_minutes) as min_duration_minutes,
        max(duration_minutes) as max_duration_minutes,
        max(_max_landed_at) as _max_landed_at

    from completed
    group by scheduled_hour

)

select * from final
