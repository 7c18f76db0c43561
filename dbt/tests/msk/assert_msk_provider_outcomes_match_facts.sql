-- fct_msk__provider_outcomes agrees with the facts it summarises: per provider,
-- referrals received and converted, encounters and adverse events.

with expected as (

    select
        providers.npi,
        (select count(*) from {{ ref('fct_msk__referrals') }} r where r.referred_npi = providers.npi) as referrals_received,
        (select count(*) from {{ ref('fct_msk__referrals') }} r
         where r.referred_npi = providers.npi and r.is_converted) as referrals_converted,
        (select count(*) from {{ ref('fct_msk__encounters') }} e where e.npi = providers.npi) as encounters_count,
        (select count(*) from {{ ref('fct_msk__adverse_events') }} a where a.npi = providers.npi) as adverse_events_count
    from {{ ref('dim_msk__providers') }} as providers

)

select expected.*, outcomes.referrals_received as mart_referrals_received
from expected
left join {{ ref('fct_msk__provider_outcomes') }} as outcomes
    on expected.npi = outcomes.npi
where outcomes.npi is null
    or outcomes.referrals_received <> expected.referrals_received
    or outcomes.referrals_converted <> expected.referrals_converted
    or outcomes.encounters_count <> expected.encounters_count
    or outcomes.adverse_events_count <> expected.adverse_events_count
