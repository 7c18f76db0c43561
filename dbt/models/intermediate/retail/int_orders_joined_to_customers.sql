-- Every current order with the attributes of its customer. A left join: the shop's
-- export has orders for customers the API does not know, and those orders still
-- count (is_known_customer = false, customer attributes null).

with orders as (

    select * from {{ ref('stg_retail__orders') }}

),

customers as (

    select * from {{ ref('stg_retail__customers') }}

),

joined as (

    select
        orders.order_id,
        orders.customer_id,
        orders.product_id,
        orders.ordered_at,
        orders.order_date,
        orders.quantity,
        orders.unit_price,
        orders.amount,
        orders.currency,
        orders.status,
        orders.is_cancelled,

        customers.customer_id is not null as is_known_customer,
        customers.customer_name,
        customers.country as customer_country,

        orders._event_id,
        orders._landed_at,
        customers._landed_at as _customer_landed_at,
        -- a change on either side changes the joined row (greatest() ignores nulls)
        greatest(orders._landed_at, customers._landed_at) as _max_landed_at

    from orders
    left join customers
        on orders.customer_id = customers.customer_id

)

select * from joined
