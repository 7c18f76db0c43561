{#
    Date text as exports write it, read into a date: `YYYY-MM-DD` (spaces
    around it allowed). An unknown date comes as "" from some exports and as
    null from others; both are null here, and `date_text_state` keeps which one
    it was. Text that is neither is null with state 'unreadable' (a singular
    test fails on it, so nothing is nulled unnoticed).
#}
{% macro export_date(expression) -%}
    case
        when trim({{ expression }}) ~ '^\d{4}-\d{2}-\d{2}$' then trim({{ expression }})::date
    end
{%- endmacro %}

{% macro date_text_state(expression) -%}
    case
        when {{ expression }} is null then 'null'
        when trim({{ expression }}) = '' then 'blank'
        when trim({{ expression }}) ~ '^\d{4}-\d{2}-\d{2}$' then 'date'
        else 'unreadable'
    end
{%- endmacro %}
