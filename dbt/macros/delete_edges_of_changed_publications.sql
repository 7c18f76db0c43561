{#
    What the incremental mentions graph (fct_drug_mentions) recomputes: the publications
    that landed again since its watermark (minus the lookback window), or every
    publication when a drug landed since (a new or renamed drug has to be looked for in
    every title). A condition on (publication_kind, publication_id).
#}
{% macro publication_changed_since_graph() -%}
    (
        (publication_kind, publication_id) in (
            select publication_kind, publication_id
            from {{ ref('int_drug_mentions__publications') }}
            where _landed_at > {{ landed_since('_max_landed_at') }}
        )
        or exists (
            select 1
            from {{ ref('stg_drug_mentions__drugs') }}
            where _landed_at > {{ landed_since('_max_landed_at') }}
        )
    )
{%- endmacro %}

{#
    Pre-hook of fct_drug_mentions: removes the edges of the publications it is about to
    recompute, so an edge whose title no longer names the drug disappears (a merge alone
    would keep it: the new batch has no row for it). Nothing happens on a full build.
#}
{% macro delete_edges_of_changed_publications() %}
    {% if is_incremental() %}
        delete from {{ this }} where {{ publication_changed_since_graph() }}
    {% else %}
        select 1
    {% endif %}
{% endmacro %}
