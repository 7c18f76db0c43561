-- One row per order: the latest landed version of each order_id.
-- Latest = newest event time, then the later landing, then the later Kafka
-- position (one key always lives in one partition, so offsets are comparable).

with ranked as (
{{ rank_versions(ref('base_retail__orders'), 'order_id') }}
),

latest as (

    select
        order_id,
        customer_id,
        product_id,
        ordered_at,
        order_date,
        quantity,
        unit_price,
        amount,
        currency,
        status,
        status = 'cancelled' as is_cancelled,
        versions_count,
        _event_id,
        _event_time,
        _landed_at

    from ranked
    -- "<= 1", the same rows as "= 1": Postgres estimates "= 1" on a window result
    -- as 0.5% of the rows, then joins the orders to the customers with a nested
    -- loop that compares every pair (13 s for 6,000 changed orders)
    where version_rank <= 1

)

select * from latest
