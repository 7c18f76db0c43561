{#
    The keys `query` returns (one column), for `key = any(...)`: a constant array
    when there are at most `max_keys` of them, otherwise the query as an array
    subquery.

    Either form reaches below a dedupe window partitioned by the key: Postgres pushes
    a condition on the partition key down into the window's input (a semi-join would
    stay above it). The constant also tells the planner how many keys there are: for
    an array subquery it assumes ten, expects a single row out of the dedupe, and may
    then re-run the other side of a join once per row.
#}
{% macro key_array(query, max_keys=20000) -%}
    {%- set listed = none -%}
    {%- if execute -%}
        {%- set counted -%}
            select case when count(*) <= {{ max_keys | int }}
                        then coalesce(array_agg(key), '{}'::text[])::text end
            from ({{ query }}) as keys (key)
        {%- endset -%}
        {%- set listed = run_query(counted).columns[0].values()[0] -%}
    {%- endif -%}
    {%- if listed is not none -%}
        '{{ listed | replace("'", "''") }}'::text[]
    {%- else -%}
        array({{ query }})
    {%- endif -%}
{%- endmacro %}
