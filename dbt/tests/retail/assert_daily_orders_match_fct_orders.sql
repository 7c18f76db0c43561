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

select
    coalesce(from_orders.customer_id, daily.customer_id) as customer_id,
    coalesce(from_orders.order_date, daily.order_date) as order_date,
    from_orders.orders_count as expected_orders_count,
    daily.orders_count,
    from_orders.revenue as expected_revenue,
    daily.revenue

from from_orders
full outer join daily
    on from_orders.customer_id = daily.customer_id
    and from_orders.order_date = daily.order_date

where from_orders.customer_id is null
    or daily.customer_id is null
    or from_orders.orders_count <> daily.orders_count
    or from_orders.cancelled_count <> daily.cancelled_count
    or from_orders.items_count <> daily.items_count
    or from_orders.revenue <> daily.revenue
