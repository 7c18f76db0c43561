{{
    config(
        materialized='incremental',
        unique_key=['atccode', 'publication_kind', 'publication_id'],
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['_max_landed_at']}, {'columns': ['journal']}],
        pre_hook="{{ delete_edges_of_changed_publications() }}"
    )
}}

-- read only on incremental runs (publication_changed_since_graph); declared for the DAG:
-- depends_on: {{ ref('int_drug_mentions__publications') }}
-- depends_on: {{ ref('stg_drug_mentions__drugs') }}

-- The mentions graph, one edge per (drug, publication): which drug a PubMed article
-- or clinical trial names in its title, in which journal and when.
--
-- Incremental: a publication that landed after the watermark (minus the lookback
-- window) is matched against every drug again, its old edges removed first by the
-- pre-hook; a drug that landed since means every title is matched again.

with mentions as (

    select * from {{ ref('int_drug_mentions__mentions') }}

    {% if is_incremental() %}
    where {{ publication_changed_since_graph() }}
    {% endif %}

)

select
    atccode,
    drug_name,
    publication_kind,
    publication_id,
    title,
    journal,
    published_on,
    _max_landed_at

from mentions
