-- fct_customer_daily_orders must agree with fct_orders for every (customer, day):
-- same order and cancellation counts, and revenue / items equal to the sums over
-- non-cancelled orders. Catches a group the incremental logic forgot to recompute
-- (for instance the day an order moved away from) and any duplicated row.
-- An ordinary cycle compares the groups the recent cycles recomputed: every
-- (customer, day) any version of a recently landed order belongs or belonged to
-- (macros/tests_on_recent_rows.sql); full tests compare every group.

with

{% if not var('full_tests', false) %}

recent_groups as (

    select distinct customer_id, order_date
    from {{ ref('base_retail__orders') }}
    where {{ recently_landed('retail__orders', 'order_id') }}

),

{% endif %}

from_orders as (

    select
        customer_id,
        order_date,
        count(*) as orders_count,
        count(*) filter (where is_cancelled) as cancelled_count,
        coalesce(sum(quantity) filter (where not is_cancelled), 0) as items_count,
        coalesce(sum(amount) filter (where not is_cancelled), 0) as revenue
    from {{ ref('fct_orders') }}
    {% if not var('full_tests', false) %}
    where (customer_id, order_date) in (select customer_id, order_date from recent_groups)
    {% endif %}
    group by customer_id, order_date

),

daily as (

    select * from {{ ref('fct_customer_daily_orders') }}
    {% if not var('full_tests', false) %}
    where (customer_id, order_date) in (select customer_id, order_date from recent_groups)
    {% endif %}

)

{{ disagreeing_rows('from_orders', 'daily', ['customer_id', 'order_date'], ['orders_count', 'cancelled_count', 'items_count', 'revenue']) }}
