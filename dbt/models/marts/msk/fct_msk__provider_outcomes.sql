-- Referral conversion and adverse-event rate per provider.
--
-- Conversion: referrals received (as referred provider) that completed with a
-- conversion date, over all referrals received. Adverse-event rate: adverse events
-- attributed to the provider per 100 of its encounters. A rate is null when its
-- denominator is zero. Only rows that passed the quarantine rules count.

with providers as (

    select * from {{ ref('dim_msk__providers') }}

),

referrals as (

    select
        referred_npi as npi,
        count(*) as referrals_received,
        count(*) filter (where is_converted) as referrals_converted
    from {{ ref('fct_msk__referrals') }}
    group by referred_npi

),

encounters as (

    select npi, count(*) as encounters_count
    from {{ ref('fct_msk__encounters') }}
    group by npi

),

events as (

    select
        npi,
        count(*) as adverse_events_count,
        count(*) filter (where is_severe) as severe_adverse_events_count
    from {{ ref('fct_msk__adverse_events') }}
    group by npi

)

select
    providers.npi,
    providers.provider_name,
    providers.specialty,
    coalesce(referrals.referrals_received, 0) as referrals_received,
    coalesce(referrals.referrals_converted, 0) as referrals_converted,
    (referrals.referrals_converted::numeric / nullif(referrals.referrals_received, 0))::numeric(5, 4)
        as conversion_rate,
    coalesce(encounters.encounters_count, 0) as encounters_count,
    coalesce(events.adverse_events_count, 0) as adverse_events_count,
    coalesce(events.severe_adverse_events_count, 0) as severe_adverse_events_count,
    (100.0 * coalesce(events.adverse_events_count, 0) / nullif(encounters.encounters_count, 0))::numeric(8, 2)
        as adverse_events_per_100_encounters

from providers
left join referrals on providers.npi = referrals.npi
left join encounters on providers.npi = encounters.npi
left join events on providers.npi = events.npi
