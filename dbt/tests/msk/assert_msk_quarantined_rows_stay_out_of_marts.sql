-- No row whose current version breaks a quarantine rule is in an msk fact table:
-- the marts' own tests can stay strict because the quarantine holds the dirt.

select 'referrals' as entity, facts.referral_id as record_key
from {{ ref('fct_msk__referrals') }} as facts
inner join {{ ref('int_msk__referrals_checked') }} as checked
    on facts.referral_id = checked.referral_id
where checked.is_quarantined

union all

select 'encounters', facts.encounter_id
from {{ ref('fct_msk__encounters') }} as facts
inner join {{ ref('int_msk__encounters_checked') }} as checked
    on facts.encounter_id = checked.encounter_id
where checked.is_quarantined

union all

select 'adverse_events', facts.adverse_event_id
from {{ ref('fct_msk__adverse_events') }} as facts
inner join {{ ref('int_msk__adverse_events_checked') }} as checked
    on facts.adverse_event_id = checked.adverse_event_id
where checked.is_quarantined
