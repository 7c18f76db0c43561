{{ config(materialized='table') }}

-- How far ahead appointments are booked, in buckets of lead time (booking to slot),
-- with how each bucket turns out: average lead, no-show and cancellation rates
-- (same rules as fct_appointment_funnel_weekly). A handful of rows, recomputed
-- whole from fct_appointments by each build.

with appointments as (

    select
        *,
        case
            when lead_time_hours < 24 then 1
            when lead_time_hours < 72 then 2
            when lead_time_hours < 168 then 3
            when lead_time_hours < 336 then 4
            else 5
        end as bucket_order
    from {{ ref('fct_appointments') }}

),

final as (

    select
        bucket_order,
        case bucket_order
            when 1 then 'same day (< 24 h)'
            when 2 then '1-3 days'
            when 3 then '3-7 days'
            when 4 then '1-2 weeks'
            else '2 weeks or more'
        end as lead_time_bucket,
        count(*) as booked_count,
        round(avg(lead_time_hours), 2)::numeric(10, 2) as avg_lead_time_hours,
        count(*) filter (where is_completed) as completed_count,
        count(*) filter (where is_cancelled) as cancelled_count,
        count(*) filter (where is_no_show) as no_show_count,
        (count(*) filter (where is_no_show)::numeric
            / nullif(count(*) filter (where is_completed or is_no_show), 0))::numeric(6, 4) as no_show_rate,
        (count(*) filter (where is_cancelled)::numeric / count(*))::numeric(6, 4) as cancellation_rate,
        max(_max_landed_at) as _max_landed_at

    from appointments
    group by bucket_order

)

select * from final
