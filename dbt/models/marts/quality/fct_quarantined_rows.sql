{{
    config(
        materialized='incremental',
        unique_key='quarantine_id',
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        full_refresh=false,
        indexes=[{'columns': ['domain', 'rule']}, {'columns': ['promoted_at']}]
    )
}}

-- The quarantine: one row per (record, broken rule) episode, kept across cycles.
--
-- Each run compares what breaks a rule now (every domain's *_quarantine_candidates)
-- with the episodes still open here:
--   - a failure with no open episode opens one (quarantined_at = this cycle);
--   - a failure with an open episode updates it (latest version's reason and source
--     position, last_failed_at, checks_failed + 1);
--   - an open episode whose record no longer fails is promoted: promoted_at = this
--     cycle. The record reaches its mart in the same build (the facts read the same
--     checked models), and a promoted episode is never touched again, so a record
--     is promoted exactly once per episode. Should it break a rule again later, a
--     new episode opens.
-- Rows are never deleted, and --full-refresh leaves the table alone (full_refresh=false):
-- it is the record of what was held and released, not something to recompute.

{% set candidate_models = ['int_msk__quarantine_candidates'] %}

with candidates as (

    {% for model in candidate_models %}
    select * from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

{% if is_incremental() %}

open_episodes as (

    select * from {{ this }}
    where promoted_at is null

),

{% endif %}

failing as (

    select
        {% if is_incremental() %}
        coalesce(open_episodes.quarantine_id,
        {% else %}
        (
        {% endif %}
            md5(concat_ws('|', candidates.domain, candidates.entity, candidates.record_key, candidates.rule,
                          candidates._event_id, now()::text))) as quarantine_id,
        candidates.domain,
        candidates.entity,
        candidates.record_key,
        candidates.rule,
        candidates.reason,
        candidates._event_id,
        candidates._topic,
        candidates._partition,
        candidates._offset,
        candidates._source_position,
        candidates._landed_at,
        {% if is_incremental() %}
        coalesce(open_episodes.quarantined_at, now()) as quarantined_at,
        now() as last_failed_at,
        coalesce(open_episodes.checks_failed, 0) + 1 as checks_failed,
        {% else %}
        now() as quarantined_at,
        now() as last_failed_at,
        1 as checks_failed,
        {% endif %}
        null::timestamptz as promoted_at

    from candidates

    {% if is_incremental() %}
    left join open_episodes
        on candidates.domain = open_episodes.domain
        and candidates.entity = open_episodes.entity
        and candidates.record_key = open_episodes.record_key
        and candidates.rule = open_episodes.rule
    {% endif %}

)

{% if is_incremental() %}

, promoted as (

    select
        open_episodes.quarantine_id,
        open_episodes.domain,
        open_episodes.entity,
        open_episodes.record_key,
        open_episodes.rule,
        open_episodes.reason,
        open_episodes._event_id,
        open_episodes._topic,
        open_episodes._partition,
        open_episodes._offset,
        open_episodes._source_position,
        open_episodes._landed_at,
        open_episodes.quarantined_at,
        open_episodes.last_failed_at,
        open_episodes.checks_failed,
        now() as promoted_at

    from open_episodes
    where not exists (
            select 1
            from candidates
            where candidates.domain = open_episodes.domain
                and candidates.entity = open_episodes.entity
                and candidates.record_key = open_episodes.record_key
                and candidates.rule = open_episodes.rule
        )

)

select * from failing
union all
select * from promoted

{% else %}

select * from failing

{% endif %}
