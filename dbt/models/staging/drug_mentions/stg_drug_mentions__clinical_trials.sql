-- One row per clinical trial (clinical_trials.csv): the latest landed version of each trial_id.

with ranked as (
{{ rank_versions(ref('base_drug_mentions__clinical_trials'), 'trial_id') }}
),

latest as (

    select
        trial_id,
        title,
        journal,
        published_on,
        published_on_text,
        versions_count,
        _event_id,
        _landed_at

    from ranked
    where version_rank = 1

)

select * from latest
