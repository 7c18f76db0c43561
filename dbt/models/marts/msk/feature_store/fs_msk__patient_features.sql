{{ config(materialized='view') }}

-- The feature store's read model: every version of every patient's features with
-- its validity range. Point-in-time read as of T:
--     where valid_from <= T and (valid_to is null or valid_to > T)

select
    patient_id,
    feature_day,
    encounters_30d,
    encounters_90d,
    referrals_count,
    referrals_converted,
    referral_conversion_rate,
    has_adverse_event,
    has_severe_adverse_event,
    dbt_valid_from as valid_from,
    dbt_valid_to as valid_to

from {{ ref('snap_msk__patient_features') }}
