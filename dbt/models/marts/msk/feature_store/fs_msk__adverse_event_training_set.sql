{{ config(materialized='view') }}

-- A training set for adverse-event risk: one row per adverse event (the label),
-- joined to its patient's features as they were when the event became known to
-- the pipeline (it landed). Features computed later, which may already count the
-- event, are out of reach; patients whose features were not computed yet at that
-- moment have no row.

with labels as (

    select adverse_event_id, patient_id, occurred_on, severity, is_severe, _landed_at as label_known_at
    from {{ ref('fct_msk__adverse_events') }}

)

select
    labels.adverse_event_id,
    labels.patient_id,
    labels.label_known_at,
    labels.is_severe as label_is_severe,
    features.feature_day,
    features.encounters_30d,
    features.encounters_90d,
    features.referrals_count,
    features.referral_conversion_rate,
    features.has_adverse_event as had_adverse_event_before,
    features.valid_from as features_valid_from

from labels
inner join {{ ref('fs_msk__patient_features') }} as features
    on labels.patient_id = features.patient_id
    and features.valid_from <= labels.label_known_at
    and (features.valid_to is null or features.valid_to > labels.label_known_at)
