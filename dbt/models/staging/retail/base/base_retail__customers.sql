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

        _event_id,
        _topic,
        _partition,
        _offset,
        _event_time,
        _landed_at

    from source

)

select * from cleaned
