{#
    A surrogate key: md5 of the given columns' text joined by '|', nulls as ''.
    For a natural key that is only unique together with another column (a movie
    and a series can share a source id: the key is the pair).
#}
{% macro surrogate_key(columns) -%}
    md5(concat_ws('|', {% for column in columns -%}
        coalesce({{ column }}::text, ''){{ ', ' if not loop.last }}
    {%- endfor %}))
{%- endmacro %}
