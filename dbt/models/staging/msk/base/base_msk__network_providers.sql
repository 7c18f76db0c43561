-- Every landed version of every employer's in-network list, as landed: the NPIs
-- the export packs into one quoted field arrive split into an array.

with source as (

    select * from {{ source('msk', 'msk__network_providers') }}

),

cleaned as (

    select
        {{ unpadded('employer_id') }} as employer_id,
        trim(employer_name) as employer_name,
        in_network_npis,
        updated_on,

        -- landing metadata
        {{ landing_metadata_columns() }}

    from source

)

select * from cleaned
