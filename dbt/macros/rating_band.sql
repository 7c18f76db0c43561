{#
    The rating band of an average vote (0-10): 'unrated' without votes, then
    'under 5', '5-6', '6-7', '7-8', '8 and up' (lower bound included).
#}
{% macro rating_band(average, votes) -%}
    case
        when coalesce({{ votes }}, 0) = 0 or {{ average }} is null then 'unrated'
        when {{ average }} < 5 then 'under 5'
        when {{ average }} < 6 then '5-6'
        when {{ average }} < 7 then '6-7'
        when {{ average }} < 8 then '7-8'
        else '8 and up'
    end
{%- endmacro %}
