-- Referral conversion and adverse-event rate per employer network: for the
-- patients of each employer, care from providers in the employer's network
-- (is_in_network) against care outside it. Same definitions as
-- fct_msk__provider_outcomes. Patients without a known employer are left out.

with employers as (

    select employer_id, employer_name from {{ ref('stg_msk__employers') }}

),

sides as (

    select employer_id, employer_name, is_in_network
    from employers
    cross join (values (true), (false)) as side (is_in_network)

),

encounters as (

    select employer_id, is_in_network, count(*) as encounters_count, count(distinct patient_id) as patients_count
    from {{ ref('fct_msk__encounters') }}
    group by employer_id, is_in_network

),

events as (

    select employer_id, is_in_network, count(*) as adverse_events_count
    from {{ ref('fct_msk__adverse_events') }}
    group by employer_id, is_in_network

),

referrals as (

    select
        employer_id,
        is_in_network,
        count(*) as referrals_count,
        count(*) filter (where is_converted) as referrals_converted
    from {{ ref('fct_msk__referrals') }}
    group by employer_id, is_in_network

)

select
    sides.employer_id,
    sides.employer_name,
    sides.is_in_network,
    coalesce(encounters.patients_count, 0) as patients_count,
    coalesce(encounters.encounters_count, 0) as encounters_count,
    coalesce(events.adverse_events_count, 0) as adverse_events_count,
    (100.0 * coalesce(events.adverse_events_count, 0) / nullif(encounters.encounters_count, 0))::numeric(8, 2)
        as adverse_events_per_100_encounters,
    coalesce(referrals.referrals_count, 0) as referrals_count,
    coalesce(referrals.referrals_converted, 0) as referrals_converted,
    (referrals.referrals_converted::numeric / nullif(referrals.referrals_count, 0))::numeric(5, 4)
        as conversion_rate

from sides
left join encounters
    on sides.employer_id = encounters.employer_id and sides.is_in_network = encounters.is_in_network
left join events
    on sides.employer_id = events.employer_id and sides.is_in_network = events.is_in_network
left join referrals
    on sides.employer_id = referrals.employer_id and sides.is_in_network = referrals.is_in_network
