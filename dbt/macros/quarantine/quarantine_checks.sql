{#
    Data-quality rules, declared beside a model, evaluated on every row of `relation`.

    The rules live in the calling model's properties (`config.meta.quarantine_rules`),
    so they read as data next to the columns they guard:

        config:
          meta:
            quarantine_rules:
              - {name: referral_patient_exists, kind: parent, column: patient_id,
                 to: stg_msk__patients, field: patient_id}

    kinds: required (column not null), matches (column ~ pattern), parent (column
    found in `to`.`field`), accepted_values (column in values), range (min <= column
    <= max), date_order (column `earlier` not after `later`). A rule on a null value
    passes unless it is `required`.

    Every row comes out with `failed_rules` and `failure_reasons` (arrays, in rule
    order, empty when the row passes) and `is_quarantined`. A parent's model must
    also be named in a `-- depends_on:` comment of the calling model: properties are
    read after the SQL is parsed.
#}
{% macro quarantine_checks(relation) %}
    {#- while parsing, config.get answers '' for everything: no rules, no SQL to check yet -#}
    {%- set meta = config.get('meta') -%}
    {%- set rules = meta.get('quarantine_rules', []) if meta is mapping else [] -%}

    select
        evaluated.*,
        cardinality(evaluated.failed_rules) > 0 as is_quarantined
    from (

    select
        candidate.*,
        array_remove(array[
            {%- for rule in rules %}
            case when {{ quarantine_rule_fails(rule) }} then {{ dbt.string_literal(rule.name) }} end
            {%- if not loop.last %},{% endif %}
            {%- endfor %}
        ]::text[], null) as failed_rules,
        array_remove(array[
            {%- for rule in rules %}
            case when {{ quarantine_rule_fails(rule) }} then {{ quarantine_rule_reason(rule) }} end
            {%- if not loop.last %},{% endif %}
            {%- endfor %}
        ]::text[], null) as failure_reasons

    from {{ relation }} as candidate

    ) as evaluated
{% endmacro %}


{% macro quarantine_rule_fails(rule) -%}
    {%- set column = 'candidate.' ~ adapter.quote(rule.column) if rule.column is defined else none -%}
    {%- if rule.kind == 'required' -%}
        {{ column }} is null
    {%- elif rule.kind == 'matches' -%}
        {{ column }} is not null and {{ column }}::text !~ {{ dbt.string_literal(rule.pattern) }}
    {%- elif rule.kind == 'parent' -%}
        {{ column }} is not null and not exists (
            select 1 from {{ ref(rule.to) }} as parent
            where parent.{{ adapter.quote(rule.field) }} = {{ column }}
        )
    {%- elif rule.kind == 'accepted_values' -%}
        {{ column }} is not null and {{ column }}::text not in (
            {%- for value in rule['values'] -%}
            {{ dbt.string_literal(value) }}{% if not loop.last %}, {% endif %}
            {%- endfor -%}
        )
    {%- elif rule.kind == 'range' -%}
        {{ column }} is not null and ({{ column }} < {{ rule.min }} or {{ column }} > {{ rule.max }})
    {%- elif rule.kind == 'date_order' -%}
        candidate.{{ adapter.quote(rule.earlier) }} is not null
        and candidate.{{ adapter.quote(rule.later) }} is not null
        and candidate.{{ adapter.quote(rule.later) }} < candidate.{{ adapter.quote(rule.earlier) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("quarantine rule " ~ rule.name ~ ": unknown kind '" ~ rule.kind ~ "'") }}
    {%- endif -%}
{%- endmacro %}


{% macro quarantine_rule_reason(rule) -%}
    {%- set column = 'candidate.' ~ adapter.quote(rule.column) if rule.column is defined else none -%}
    {%- if rule.kind == 'required' -%}
        {{ dbt.string_literal(rule.column ~ ' is missing') }}
    {%- elif rule.kind == 'matches' -%}
        format('%s %L does not match %s', {{ dbt.string_literal(rule.column) }}, {{ column }}, {{ dbt.string_literal(rule.pattern) }})
    {%- elif rule.kind == 'parent' -%}
        format('%s %L not found in %s', {{ dbt.string_literal(rule.column) }}, {{ column }}, {{ dbt.string_literal(rule.to) }})
    {%- elif rule.kind == 'accepted_values' -%}
        format('%s %L is not one of %s', {{ dbt.string_literal(rule.column) }}, {{ column }}, {{ dbt.string_literal(rule['values'] | join(', ')) }})
    {%- elif rule.kind == 'range' -%}
        format('%s %s outside [%s, %s]', {{ dbt.string_literal(rule.column) }}, {{ column }}, {{ dbt.string_literal(rule.min) }}, {{ dbt.string_literal(rule.max) }})
    {%- elif rule.kind == 'date_order' -%}
        format('%s %s is before %s %s', {{ dbt.string_literal(rule.later) }}, candidate.{{ adapter.quote(rule.later) }},
               {{ dbt.string_literal(rule.earlier) }}, candidate.{{ adapter.quote(rule.earlier) }})
    {%- endif -%}
{%- endmacro %}


{#
    One row per (row, broken rule) of a checked model, in the shape the quarantine
    table keeps: domain, entity, the row's natural key, the rule and its reason, and
    the row's source position (event id, Kafka topic, partition and offset, and the file:line it was read from).
#}
{% macro quarantine_failures(domain, entity, checked_relation, key_column) %}

    select
        {{ dbt.string_literal(domain) }}::text as domain,
        {{ dbt.string_literal(entity) }}::text as entity,
        checked.{{ adapter.quote(key_column) }}::text as record_key,
        failure.rule,
        failure.reason,
        checked._event_id,
        checked._topic,
        checked._partition,
        checked._offset,
        checked._source_position,
        checked._landed_at

    from {{ checked_relation }} as checked
    cross join lateral unnest(checked.failed_rules, checked.failure_reasons) as failure (rule, reason)

{% endmacro %}
