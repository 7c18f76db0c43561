{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['_max_landed_at']}]
    )
}}

-- base_retail__orders is only read on incremental runs; declare it for the DAG:
-- depends_on: {{ ref('base_retail__orders') }}

-- One row per customer known to the customers API, with lifetime order figures
-- taken from fct_orders (same revenue rule: cancelled orders excluded).
-- Customers that appear only in orders are not here; fct_orders flags their
-- orders with is_known_customer = false.
--
-- Incremental runs recompute customers whose record landed after the watermark
-- minus the lookback window, and every customer any version of a recently landed
-- order belongs or belonged to.

-- The bound is a constant, so Postgres uses raw's _landed_at index (see landed_since);
-- the changed orders go in as an array (key_array), so every version of them is
-- read through raw's key index: base_retail__orders is a view Postgres does not
-- merge into a join, and a join to it would scan all of raw.
{% if is_incremental() %}
{% set since = landed_since('_max_landed_at', as_literal=true) %}
{% set changed_orders %}
    select distinct order_id
    from {{ ref('base_retail__orders') }}
    where _landed_at > {{ since }}
{% endset %}
{% endif %}

with customers as (

    select * from {{ ref('stg_retail__customers') }}

),

{% if is_incremental() %}

touched_customers as (

    select customer_id
    from customers
    where _landed_at > {{ since }}

    union

    select customer_id
    from {{ ref('base_retail__orders') }}
    where order_id = any({{ key_array(changed_orders) }})

),

{% endif %}

orders as (

    select * from {{ ref('fct_orders') }}

    {% if is_incremental() %}
    where customer_id in (select customer_id from touched_customers)
    {% endif %}

),

order_stats as (

    select
        customer_id,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at,
        count(*) as orders_count,
        count(*) filter (where is_cancelled) as cancelled_count,
        coalesce(sum(amount) filter (where not is_cancelled), 0) as lifetime_revenue,
        max(_landed_at) as _orders_landed_at

    from orders
    group by customer_id

),

final as (

    select
        customers.customer_id,
        customers.customer_name,
        customers.email,
        customers.country,
        customers.signup_date,
        customers.updated_at,
        order_stats.first_ordered_at,
        order_stats.last_ordered_at,
        coalesce(order_stats.orders_count, 0) as orders_count,
        coalesce(order_stats.cancelled_count, 0) as cancelled_count,
        coalesce(order_stats.lifetime_revenue, 0)::numeric(16, 2) as lifetime_revenue,
        greatest(customers._landed_at, order_stats._orders_landed_at) as _max_landed_at

    from customers

    {% if is_incremental() %}
    inner join touched_customers
        on customers.customer_id = touched_customers.customer_id
    {% endif %}

    left join order_stats
        on customers.customer_id = order_stats.customer_id

)

select * from final
