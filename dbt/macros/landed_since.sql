{#
    Lower bound of `_landed_at` for an incremental run of the current model.

    Raw rows get `_landed_at = clock_timestamp()` when they are inserted, but become
    visible only when their transaction commits, so a row can appear with a
    timestamp older than rows a previous run already processed. Going back
    `lookback_minutes` from the model's own high-water mark picks those rows up;
    merge/delete+insert on the unique key makes the overlap harmless.

    Returns a scalar subquery; -infinity when the target is empty.
#}
{% macro landed_since(watermark_column='_max_landed_at') -%}
    (
        select
            coalesce(max({{ watermark_column }}), '-infinity'::timestamptz)
            - make_interval(mins => {{ var('lookback_minutes', 10) | int }})
        from {{ this }}
    )
{%- endmacro %}
