-- One row per customer: the latest landed version of each customer_id
-- (newest updated_at / event time, then the later landing, then Kafka position).

with ranked as (
{{ rank_versions(ref('base_retail__customers'), 'customer_id') }}
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
