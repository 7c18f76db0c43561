{{
    config(
        materialized='incremental',
        unique_key='appointment_id',
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['_max_landed_at']}, {'columns': ['doctor_id', 'scheduled_week']}]
    )
}}

-- One row per appointment, current version, with its doctor and funnel flags.
-- Incremental runs merge every appointment whose own row or whose doctor's row
-- landed after this table's watermark minus the lookback window.

with appointments as (

    select * from {{ ref('int_telehealth__appointments_enriched') }}

    {% if is_incremental() %}
    where _max_landed_at > {{ landed_since('_max_landed_at') }}
    {% endif %}

),

final as (

    select
        appointment_id,
        patient_id,
        doctor_id,
        doctor_name,
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
        scheduled_week,
        scheduled_hour,
        lead_time_hours::numeric(10, 2) as lead_time_hours,
        is_confirmed,
        is_completed,
        is_cancelled,
        is_no_show,
        is_known_doctor,
        _event_id,
        _landed_at,
        _max_landed_at

    from appointments

)

select * from final
