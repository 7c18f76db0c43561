-- Per-patient features as the marts stand now, for snap_msk__patient_features to
-- version. Windows are counted back from the programme's current day: the latest
-- encounter date landed (var msk_feature_day overrides it), so a replayed export
-- gives the same features whatever the wall clock says.

with encounters as (

    select * from {{ ref('fct_msk__encounters') }}

),

feature_day as (

    select coalesce(
        {{ "'" ~ var('msk_feature_day') ~ "'::date" if var('msk_feature_day', none) else 'null::date' }},
        (select max(encounter_date) from encounters)
    ) as day

),

patients as (

    select patient_id from {{ ref('int_msk__patient_networks') }}

),

encounter_windows as (

    select
        encounters.patient_id,
        count(*) filter (where encounters.encounter_date > feature_day.day - 30) as encounters_30d,
        count(*) filter (where encounters.encounter_date > feature_day.day - 90) as encounters_90d
    from encounters
    cross join feature_day
    where encounters.encounter_date <= feature_day.day
    group by encounters.patient_id

),

referrals as (

    select
        patient_id,
        count(*) as referrals_count,
        count(*) filter (where is_converted) as referrals_converted
    from {{ ref('fct_msk__referrals') }}
    group by patient_id

),

events as (

    select
        patient_id,
        count(*) as adverse_events_count,
        bool_or(is_severe) as has_severe_adverse_event
    from {{ ref('fct_msk__adverse_events') }}
    group by patient_id

)

select
    patients.patient_id,
    feature_day.day as feature_day,
    coalesce(encounter_windows.encounters_30d, 0) as encounters_30d,
    coalesce(encounter_windows.encounters_90d, 0) as encounters_90d,
    coalesce(referrals.referrals_count, 0) as referrals_count,
    coalesce(referrals.referrals_converted, 0) as referrals_converted,
    (referrals.referrals_converted::numeric / nullif(referrals.referrals_count, 0))::numeric(5, 4)
        as referral_conversion_rate,
    coalesce(events.adverse_events_count, 0) > 0 as has_adverse_event,
    coalesce(events.has_severe_adverse_event, false) as has_severe_adverse_event

from patients
cross join feature_day
left join encounter_windows on patients.patient_id = encounter_windows.patient_id
left join referrals on patients.patient_id = referrals.patient_id
left join events on patients.patient_id = events.patient_id
