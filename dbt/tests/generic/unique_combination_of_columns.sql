{#
    The combination of the given columns is unique (a composite key).
    Usage:
        data_tests:
          - unique_combination_of_columns:
              arguments:
                combination_of_columns: [customer_id, order_date]
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
