{{
    config(
        materialized='incremental',
        unique_key=['scheduled_week', 'doctor_id'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['_max_landed_at']}],
        post_hook="delete from {{ this }} where booked_count = 0"
    )
}}

-- base_telehealth__appointments is only read on incremental runs; declare it for the DAG:
-- depends_on: {{ ref('base_telehealth__appointments') }}

-- The appointment funnel per week of the slot (UTC, Monday) and doctor, with the
-- doctor's specialty: booked -> confirmed -> completed, and the exits (cancelled,
-- no-show). Built from fct_appointments so both marts describe the same set.
--
-- Rates: no_show_rate = no-shows / (completed + no-shows), the share of due
-- consultations the patient missed; cancellation_rate = cancelled / booked. Null
-- when the denominator is zero.
--
-- Incremental runs recompute only the (week, doctor) groups that any version of a
-- recently landed appointment belongs or belonged to (a rescheduled appointment
-- leaves its old week), plus every group of a doctor whose record changed. A group
-- left empty comes out as a zero row that delete+insert writes and the post-hook
-- deletes (same transaction).

with

{% if is_incremental() %}

changed_appointments as (

    select distinct appointment_id
    from {{ ref('base_telehealth__appointments') }}
    where _landed_at > {{ landed_since('_max_landed_at') }}

),

touched_groups as (

    select distinct
        {{ utc_week('versions.scheduled_at') }} as scheduled_week,
        versions.doctor_id
    from {{ ref('base_telehealth__appointments') }} as versions
    inner join changed_appointments
        on versions.appointment_id = changed_appointments.appointment_id

    union

    select scheduled_week, doctor_id
    from {{ ref('fct_appointments') }}
    where _max_landed_at > {{ landed_since('_max_landed_at') }}

),

{% endif %}

appointments as (

    select fct_appointments.*
    from {{ ref('fct_appointments') }} as fct_appointments

    {% if is_incremental() %}
    inner join touched_groups
        on fct_appointments.scheduled_week = touched_groups.scheduled_week
        and fct_appointments.doctor_id = touched_groups.doctor_id
    {% endif %}

),

weekly as (

    select
        scheduled_week,
        doctor_id,
        max(doctor_name) as doctor_name,
        max(specialty) as specialty,
        count(*) as booked_count,
        count(*) filter (where is_confirmed) as confirmed_count,
        count(*) filter (where is_completed) as completed_count,
        count(*) filter (where is_cancelled) as cancelled_count,
        count(*) filter (where is_no_show) as no_show_count,
        max(_max_landed_at) as _max_landed_at

    from appointments
    group by scheduled_week, doctor_id

),

{% if is_incremental() %}

grouped as (

    select
        touched_groups.scheduled_week,
        touched_groups.doctor_id,
        weekly.doctor_name,
        weekly.specialty,
        coalesce(weekly.booked_count, 0) as booked_count,
        coalesce(weekly.confirmed_count, 0) as confirmed_count,
        coalesce(weekly.completed_count, 0) as completed_count,
        coalesce(weekly.cancelled_count, 0) as cancelled_count,
        coalesce(weekly.no_show_count, 0) as no_show_count,
        coalesce(weekly._max_landed_at, '-infinity'::timestamptz) as _max_landed_at

    from touched_groups
    left join weekly
        on touched_groups.scheduled_week = weekly.scheduled_week
        and touched_groups.doctor_id = weekly.doctor_id

),

{% else %}

grouped as (

    select * from weekly

),

{% endif %}

final as (

    select
        scheduled_week,
        doctor_id,
        doctor_name,
        specialty,
        booked_count,
        confirmed_count,
        completed_count,
        cancelled_count,
        no_show_count,
        (no_show_count::numeric / nullif(completed_count + no_show_count, 0))::numeric(6, 4) as no_show_rate,
        (cancelled_count::numeric / nullif(booked_count, 0))::numeric(6, 4) as cancellation_rate,
        _max_landed_at

    from grouped

)

select * from final
