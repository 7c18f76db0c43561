{{ config(severity='warn') }}

-- Every order that landed well before fct_orders' watermark is in fct_orders.
-- Orders inside the lookback window may still be in flight (committed late, or
-- landed while the cycle was running); older ones missing would mean a commit
-- lag longer than var('lookback_minutes'): raise the lookback or run a full refresh.
-- An ordinary cycle checks the orders landed within var('test_window_minutes') of
-- the newest landing (every cycle in that window checks them again); full tests
-- check every order (macros/tests_on_recent_rows.sql).

with watermark as (

    select max(_max_landed_at) - make_interval(mins => {{ var('lookback_minutes', 10) | int }}) as settled_before
    from {{ ref('fct_orders') }}

),

staged as (

    select order_id, _landed_at
    from {{ ref('stg_retail__orders') }}
    {% if not var('full_tests', false) %}
    where {{ recently_landed('retail__orders', 'order_id') }}
    {% endif %}

)

select staged.order_id, staged._landed_at
from staged
cross join watermark
where staged._landed_at < watermark.settled_before
    and not exists (
        select 1
        from {{ ref('fct_orders') }} as facts
        where facts.order_id = staged.order_id
    )
