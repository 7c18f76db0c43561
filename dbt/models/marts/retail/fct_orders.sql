{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['_max_landed_at']}, {'columns': ['customer_id', 'order_date']}]
    )
}}

-- One row per order, current version, with its customer's attributes.
-- Incremental runs merge every order whose own row or whose customer's row landed
-- after this table's watermark minus the lookback window.

with orders as (

    select * from {{ ref('int_orders_joined_to_customers') }}

    {% if is_incremental() %}
    where _max_landed_at > {{ landed_since('_max_landed_at') }}
    {% endif %}

),

final as (

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
        is_cancelled,
        is_known_customer,
        customer_name,
        customer_country,
        _event_id,
        _landed_at,
        _max_landed_at

    from orders

)

select * from final
