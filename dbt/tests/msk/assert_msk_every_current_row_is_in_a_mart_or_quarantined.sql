{{ config(severity='warn') }}

-- Nothing lost between standard and enterprise: every current referral,
-- encounter and adverse event that landed before the lookback window is in its
-- fact table or held by a quarantine rule. Warn-level for the same reason as
-- assert_landed_orders_reach_fct_orders (a late commit may still be in flight).

with settled as (

    select max(_max_landed_at) - make_interval(mins => {{ var('lookback_minutes', 10) | int }}) as before
    from {{ ref('fct_msk__referrals') }}

)

select 'referrals' as entity, checked.referral_id as record_key
from {{ ref('int_msk__referrals_checked') }} as checked
cross join settled
where not checked.is_quarantined
    and checked._landed_at < settled.before
    and not exists (select 1 from {{ ref('fct_msk__referrals') }} as facts where facts.referral_id = checked.referral_id)

union all

select 'encounters', checked.encounter_id
from {{ ref('int_msk__encounters_checked') }} as checked
cross join settled
where not checked.is_quarantined
    and checked._landed_at < settled.before
    and not exists (select 1 from {{ ref('fct_msk__encounters') }} as facts where facts.encounter_id = checked.encounter_id)
