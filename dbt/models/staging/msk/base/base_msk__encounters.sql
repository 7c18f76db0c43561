-- Every landed version of every encounter, cleaned (ids unpadded, empty NPI as
-- null, type lower case); no deduplication.

with source as (

    select * from {{ source('msk', 'msk__encounters') }}

),

cleaned as (

    select
        {{ unpadded('encounter_id') }} as encounter_id,
        {{ unpadded('patient_id') }} as patient_id,
        {{ unpadded('npi') }} as npi,
        encounter_date,
        date_trunc('month', encounter_date)::date as encounter_month,
        lower(trim(encounter_type)) as encounter_type,
        amount,

        -- landing metadata
        {{ landing_metadata_columns() }}

    from source

)

select * from cleaned
