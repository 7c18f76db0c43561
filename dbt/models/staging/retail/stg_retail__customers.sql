-- One row per customer: the latest landed version of each customer_id
-- (newest updated_at / event time, then the later landing, then Kafka position).

with versions as (

    select * from {{ ref('base_retail__customers') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by customer_id
            order by
                _event_time desc nulls last,
                _landed_at desc,
                _offset desc nulls last,
                _partition desc nulls last
        ) as version_rank,
        count(*) over (partition by customer_id) as versions_count

    from versions

),

latest as (

    select
        customer_id,
        customer_name,
        email,
        country,
        signup_date,
        updated_at,
        versions_count,
        _event_id,
        _event_time,
        _landed_at

    from ranked
    where version_rank = 1

)

select * from latest
