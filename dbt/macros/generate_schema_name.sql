{#
    Custom schemas are used as they are (staging, intermediate, marts, snapshots)
    instead of dbt's default "<target schema>_<custom>", so the dashboard and the
    grants can name a stable schema. Models without a custom schema go to the
    target schema (analytics).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
