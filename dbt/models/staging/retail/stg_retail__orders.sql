-- One row per order: the latest landed version of each order_id.
-- Latest = newest event time, then the later landing, then the later Kafka
-- position (one key always lives in one partition, so offsets are comparable).

with versions as (

    select * from {{ ref('base_retail__orders') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by order_id
            order by
                _event_time desc nulls last,
                _landed_at desc,
                _offset desc nulls last,
                _partition desc nulls last
        ) as version_rank,
        count(*) over (partition by order_id) as versions_count

    from versions

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
    where version_rank = 1

)

select * from latest
