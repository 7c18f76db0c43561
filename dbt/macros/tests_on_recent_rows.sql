{#
    Tests of models over all of raw cost a scan of raw (for staging views, a ranking
    of every version of every key) per test and per cycle, however few rows landed.
    A generic test configured with

        config:
          where: "__recently_landed(retail__orders, order_id)__"

    tests, on an ordinary cycle, only the rows of the keys (here order_id) with a
    version landed in raw.retail__orders within var('test_window_minutes') of that
    table's newest landing: every version of such a key, so a dedupe still sees them
    all. The key may be any text column the tested model shares with the raw table
    (fct_customer_daily_orders: the customers of the recently landed orders).
    Without a key, "__recently_landed(retail__orders)__" keeps the rows whose own
    _landed_at is that recent. The keys go in as an array (key_array) so that Postgres
    applies the condition below a dedupe window partitioned by the key; the bound is
    a constant so that it plans with raw's _landed_at index.

    With var('full_tests') (every full refresh, and
    `python -m streammart.dbt_cycle --full-tests`) these tests see every row. Any
    other `where` works as dbt documents it.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and '__recently_landed(' in where -%}
        {%- set where = none if var('full_tests', false) else expand_recently_landed(where) -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{# Replaces every __recently_landed(<raw table>[, <key>])__ in a where condition. #}
{% macro expand_recently_landed(where) -%}
    {%- set pattern = modules.re.compile('__recently_landed\\(\\s*(\\w+)\\s*(?:,\\s*(\\w+)\\s*)?\\)__') -%}
    {%- set expanded = namespace(text=where) -%}
    {%- for match in pattern.finditer(where) -%}
        {%- set condition = recently_landed(match.group(1), match.group(2)) -%}
        {%- set expanded.text = expanded.text | replace(match.group(0), condition) -%}
    {%- endfor -%}
    {{- expanded.text -}}
{%- endmacro %}


{#
    The condition itself; `raw_table` is a table of the raw schema (the sources'
    schema), `key` a text column of it that staging trims and the model keeps.
#}
{% macro recently_landed(raw_table, key=none) -%}
    {%- set raw = api.Relation.create(database=target.database, schema='raw', identifier=raw_table) -%}
    {%- set since -%}
        {%- if execute -%}
            {{ timestamptz_literal("select coalesce(max(_landed_at), '-infinity'::timestamptz) - make_interval(mins => "
                                   ~ (var('test_window_minutes', 60) | int) ~ ') from ' ~ raw) }}
        {%- else -%}
            '-infinity'::timestamptz
        {%- endif -%}
    {%- endset -%}
    {%- if key -%}
        {%- set keys -%}
            select distinct btrim({{ key }}) from {{ raw }} where _landed_at > {{ since }}
        {%- endset -%}
        ({{ key }} is null or {{ key }} = any({{ key_array(keys) }}))
    {%- else -%}
        _landed_at > {{ since }}
    {%- endif -%}
{%- endmacro %}
