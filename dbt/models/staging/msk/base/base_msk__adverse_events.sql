-- Every landed version of every adverse event, cleaned (ids unpadded, severity
-- lower case); no deduplication.

with source as (

    select * from {{ source('msk', 'msk__adverse_events') }}

),

cleaned as (

    select
        {{ unpadded('adverse_event_id') }} as adverse_event_id,
        {{ unpadded('patient_id') }} as patient_id,
        {{ unpadded('npi') }} as npi,
        occurred_on,
        lower(trim(severity)) as severity,
        nullif(trim(description), '') as description,

        -- landing metadata
        {{ landing_metadata_columns() }}

    from source

)

select * from cleaned
