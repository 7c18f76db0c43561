{#
    Monday of the ISO week holding a timestamptz, as a date, in UTC (the zone the
    telehealth API's unzoned timestamps are read in), whatever the session's TimeZone.
#}
{% macro utc_week(column) -%}
    date_trunc('week', {{ column }} at time zone 'UTC')::date
{%- endmacro %}
