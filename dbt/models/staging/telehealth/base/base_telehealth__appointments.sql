-- Every landed version of every appointment, renamed and cleaned; no deduplication.
-- The API writes scheduled_at in three formats; the producer reads them all
-- (pipeline.yml, fields.scheduled_at.date_formats), so it lands as timestamptz and the
-- calendar figures below are taken in UTC, the zone of values written without an offset.

with source as (

    select * from {{ source('telehealth', 'telehealth__appointments') }}

),

cleaned as (

    select
        -- ids
        trim(appointment_id) as appointment_id,
        trim(patient_id) as patient_id,
        trim(doctor_id) as doctor_id,

        -- attributes
        nullif(lower(trim(specialty)), '') as specialty,
        nullif(lower(trim(channel)), '') as channel,
        -- one spelling per status ('no-show', 'No Show' and 'no_show' are one)
        replace(replace(lower(trim(status)), '-', '_'), ' ', '_') as status,
        nullif(trim(cancellation_reason), '') as cancellation_reason,
        rating,

        -- times
        scheduled_at,
        created_at as booked_at,
        confirmed_at,
        updated_at,
        duration_minutes,

        -- landing metadata
        {{ landing_metadata_columns() }}

    from source

)

select * from cleaned
