{{
    config(
        materialized='incremental',
        unique_key=['customer_id', 'order_date'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['_max_landed_at']}],
        post_hook="delete from {{ this }} where orders_count = 0"
    )
}}

-- base_retail__orders is only read on incremental runs; declare it for the DAG:
-- depends_on: {{ ref('base_retail__orders') }}

-- One row per customer and UTC day with orders.
--
-- Built from fct_orders (not from staging) so both marts describe the same set of
-- orders even while new rows keep landing during a build.
--
-- Incremental runs recompute only the (customer, day) groups touched by order
-- versions that landed after this table's watermark minus the lookback window.
-- "Touched" includes every group any version of a changed order ever belonged to:
-- when an order moves to another day or customer, the group it left is recomputed
-- too. A group left with no orders comes out as a zero row, delete+insert replaces
-- the stale row with it, and the post-hook (same transaction) deletes it.

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

with

{% if is_incremental() %}

touched_groups as (

    select distinct
        customer_id,
        order_date
    from {{ ref('base_retail__orders') }}
    where order_id = any({{ key_array(changed_orders) }})

),

{% endif %}

orders as (

    select fct_orders.*
    from {{ ref('fct_orders') }} as fct_orders

    {% if is_incremental() %}
    inner join touched_groups
        on fct_orders.customer_id = touched_groups.customer_id
        and fct_orders.order_date = touched_groups.order_date
    {% endif %}

),

daily as (

    select
        customer_id,
        order_date,
        count(*) as orders_count,
        count(*) filter (where is_cancelled) as cancelled_count,
        coalesce(sum(quantity) filter (where not is_cancelled), 0) as items_count,
        -- revenue rule: every order except cancelled ones (returns still count here)
        coalesce(sum(amount) filter (where not is_cancelled), 0) as revenue,
        max(_landed_at) as _max_landed_at

    from orders
    group by customer_id, order_date

),

{% if is_incremental() %}

final as (

    select
        touched_groups.customer_id,
        touched_groups.order_date,
        coalesce(daily.orders_count, 0) as orders_count,
        coalesce(daily.cancelled_count, 0) as cancelled_count,
        coalesce(daily.items_count, 0) as items_count,
        coalesce(daily.revenue, 0)::numeric(16, 2) as revenue,
        coalesce(daily._max_landed_at, '-infinity'::timestamptz) as _max_landed_at

    from touched_groups
    left join daily
        on touched_groups.customer_id = daily.customer_id
        and touched_groups.order_date = daily.order_date

)

{% else %}

final as (

    select
        customer_id,
        order_date,
        orders_count,
        cancelled_count,
        items_count,
        revenue::numeric(16, 2) as revenue,
        _max_landed_at

    from daily

)

{% endif %}

select * from final
