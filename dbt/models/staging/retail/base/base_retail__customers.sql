-- Every landed version of every customer, renamed and cast; no deduplication.

with source as (

    select * from {{ source('retail', 'retail__customers') }}

),

cleaned as (

    select
        trim(customer_id) as customer_id,
        trim(name) as customer_name,
        lower(nullif(trim(email), '')) as email,
        nullif(trim(country), '') as country,
        signup_date,
        updated_at,

        -- landing metadata
        {{ landing_metadata_columns() }}

    from source

)

select * from cleaned
