{#
    Lower bound of `_landed_at` for an incremental run of the current model.

    Raw rows get `_landed_at = clock_timestamp()` when they are inserted, but become
    visible only when their transaction commits, so a row can appear with a
    timestamp older than rows a previous run already processed. Going back
    `lookback_minutes` from the model's own high-water mark picks those rows up;
    merge/delete+insert on the unique key makes the overlap harmless.

    Returns a scalar subquery; -infinity when the target is empty.

    With as_literal=true the bound is read when the model is compiled and written
    into the SQL as a constant. Postgres plans a scalar subquery's value as unknown
    (a third of the table) and then scans all of raw; a constant lets it estimate
    the handful of recent rows and use the `_landed_at` index. Only for models
    whose own statements do not change the target before the bound is used (no
    pre-hook writing to it): the subquery would see such a change, the constant not.
#}
{% macro landed_since(watermark_column='_max_landed_at', as_literal=false) -%}
    {%- set bound -%}
        select
            coalesce(max({{ watermark_column }}), '-infinity'::timestamptz)
            - make_interval(mins => {{ var('lookback_minutes', 10) | int }})
        from {{ this }}
    {%- endset -%}
    {%- if as_literal and execute -%}
        {{ timestamptz_literal(bound) }}
    {%- else -%}
        ({{ bound }})
    {%- endif -%}
{%- endmacro %}

{#
    The value of a one-row, one-column timestamptz query, as a SQL constant
    ('-infinity' included: it goes through text, which Python's datetime cannot hold).
#}
{% macro timestamptz_literal(query) -%}
    {%- set value = run_query('select (' ~ query ~ ')::text').columns[0].values()[0] -%}
    {{- "'" ~ value ~ "'::timestamptz" -}}
{%- endmacro %}
