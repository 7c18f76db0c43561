-- Every landed version of every drug, trimmed; no deduplication.

with source as (

    select * from {{ source('drug_mentions', 'drug_mentions__drugs') }}

),

cleaned as (

    select
        trim(atccode) as atccode,
        nullif(btrim(drug_name, E' \t\r\n'), '') as drug_name,
        {{ landing_metadata_columns() }}

    from source

)

select * from cleaned
