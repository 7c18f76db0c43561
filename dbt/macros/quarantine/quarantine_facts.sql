{#
    The two pieces every fact built on quarantine-checked rows needs.

    changed_or_promoted(key, domain, entity): the incremental filter. Rows whose own
    or parents' landing is past the watermark (minus the lookback), and rows that
    fct_quarantined_rows promoted in this cycle, whatever the reason (a parent
    landed, a rule was corrected). The model must declare
    `-- depends_on: {{ ref('fct_quarantined_rows') }}`: the reference is only made
    on incremental runs.

    delete_quarantined(checked_model, key): a post-hook removing rows whose current
    version now breaks a rule (same transaction as the merge).
#}
{% macro changed_or_promoted(key, domain, entity) -%}
    _max_landed_at > {{ landed_since('_max_landed_at') }}
    or {{ key }} in (
        select record_key from {{ ref('fct_quarantined_rows') }}
        where domain = {{ dbt.string_literal(domain) }}
            and entity = {{ dbt.string_literal(entity) }}
            and promoted_at > {{ landed_since('_max_landed_at') }}
    )
{%- endmacro %}


{% macro delete_quarantined(checked_model, key) -%}
    delete from {{ this }} as mart
    using {{ ref(checked_model) }} as checked
    where checked.{{ key }} = mart.{{ key }} and checked.is_quarantined
{%- endmacro %}
