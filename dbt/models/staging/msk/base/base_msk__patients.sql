-- Every landed version of every patient, cleaned (ids unpadded, sex upper case,
-- blanks as null); no deduplication.

with source as (

    select * from {{ source('msk', 'msk__patients') }}

),

cleaned as (

    select
        {{ unpadded('patient_id') }} as patient_id,
        {{ unpadded('employer_id') }} as employer_id,
        date_of_birth,
        nullif(upper(trim(sex)), '') as sex,
        enrolled_on,

        -- landing metadata
        {{ landing_metadata_columns() }}

    from source

)

select * from cleaned
