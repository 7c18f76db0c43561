-- Every landed version of every provider, cleaned (NPI and specialty trimmed,
-- specialty lower case); no deduplication. A 9-digit NPI is kept as read: the
-- quarantine rules decide what it means.

with source as (

    select * from {{ source('msk', 'msk__providers') }}

),

cleaned as (

    select
        {{ unpadded('npi') }} as npi,
        trim(provider_name) as provider_name,
        nullif(lower(trim(specialty)), '') as specialty,
        updated_at,

        -- landing metadata
        {{ landing_metadata_columns() }}

    from source

)

select * from cleaned
