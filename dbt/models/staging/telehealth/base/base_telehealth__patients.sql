-- Every landed version of every patient, renamed and cleaned; no deduplication.

with source as (

    select * from {{ source('telehealth', 'telehealth__patients') }}

),

cleaned as (

    select
        trim(patient_id) as patient_id,
        birth_year,
        nullif(upper(trim(sex)), '') as sex,
        nullif(trim(city), '') as city,
        registered_on,

        -- landing metadata
        {{ landing_metadata_columns() }}

    from source

)

select * from cleaned
