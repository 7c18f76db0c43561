{#
    The landing metadata columns of every raw row, for the select list of every
    base_ model: each cleaned version keeps where it came from (topic, partition,
    offset, key, schema fingerprint, the file:line or page it was read from) and
    when (event time, produced, landed).

    The names and their order are the landing contract's
    (streammart/contract.py, METADATA_COLUMNS); tests/dbt compiles this macro
    and compares.
#}
{% macro landing_metadata_columns() -%}
    {%- set columns = [
        '_event_id', '_topic', '_partition', '_offset', '_key',
        '_schema_fingerprint', '_event_time', '_produced_at', '_source_position', '_landed_at',
    ] -%}
    {{- columns | join(',\n        ') -}}
{%- endmacro %}
