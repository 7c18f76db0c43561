-- Every landed version of every order, renamed and cast; no deduplication.
-- stg_retail__orders keeps the latest version; the incremental marts read this
-- model to find every (customer, day) an order has ever belonged to.

with source as (

    select * from {{ source('retail', 'retail__orders') }}

),

cleaned as (

    select
        -- ids
        trim(order_id) as order_id,
        trim(customer_id) as customer_id,
        nullif(trim(product_id), '') as product_id,

        -- dates: the export mixes date-only and full timestamps; date-only values
        -- land as midnight UTC, so the business day is taken in UTC
        order_ts as ordered_at,
        (order_ts at time zone 'UTC')::date as order_date,

        -- numbers
        quantity,
        unit_price,
        amount,
        upper(trim(currency)) as currency,

        -- status arrives as 'Shipped', 'SHIPPED', ' shipped ' ...; one spelling of cancelled
        case lower(trim(status))
            when 'canceled' then 'cancelled'
            else lower(trim(status))
        end as status,

        -- landing metadata
        {{ landing_metadata_columns() }}

    from source

)

select * from cleaned
