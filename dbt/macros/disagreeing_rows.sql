{#
  The rows where two relations that should agree do not: a rollup against the
  aggregate of the fact it summarises. A key present on one side only is a
  disagreement (a group the incremental logic forgot, or a duplicated row), and
  so is any measure that differs, nulls included. Used by the singular tests that
  check each rollup mart against its fact.

  expected, actual: CTE names; keys: columns joined on; measures: columns compared.
#}
{% macro disagreeing_rows(expected, actual, keys, measures) %}
select
    {%- for key in keys %}
    coalesce({{ expected }}.{{ key }}, {{ actual }}.{{ key }}) as {{ key }},
    {%- endfor %}
    {%- for measure in measures %}
    {{ expected }}.{{ measure }} as expected_{{ measure }},
    {{ actual }}.{{ measure }}{{ "," if not loop.last }}
    {%- endfor %}

from {{ expected }}
full outer join {{ actual }}
    on {% for key in keys %}{{ expected }}.{{ key }} = {{ actual }}.{{ key }}{{ " and " if not loop.last }}{% endfor %}

where {{ expected }}.{{ keys[0] }} is null
    or {{ actual }}.{{ keys[0] }} is null
    {%- for measure in measures %}
    or {{ expected }}.{{ measure }} is distinct from {{ actual }}.{{ measure }}
    {%- endfor %}
{% endmacro %}
