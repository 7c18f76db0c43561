-- Every landed version of every doctor, renamed and cleaned; no deduplication.

with source as (

    select * from {{ source('telehealth', 'telehealth__doctors') }}

),

cleaned as (

    select
        trim(doctor_id) as doctor_id,
        trim(full_name) as doctor_name,
        lower(trim(specialty)) as specialty,
        nullif(trim(city), '') as city,
        active_since,
        updated_at,

        -- landing metadata
        {{ landing_metadata_columns() }}

    from source

)

select * from cleaned
