{{
    config(
        materialized='incremental',
        unique_key='referral_id',
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['_max_landed_at']}, {'columns': ['referred_npi']}],
        post_hook="{{ delete_quarantined('int_msk__referrals_checked', 'referral_id') }}"
    )
}}

-- fct_quarantined_rows is only read on incremental runs; declare it for the DAG:
-- depends_on: {{ ref('fct_quarantined_rows') }}

-- One row per referral that passes every quarantine rule (current version), with
-- the patient's employer and whether the referred provider is in that employer's
-- network.
--
-- Incremental: merges referrals whose own row, patient or employer list landed
-- after the watermark minus the lookback window. A quarantined referral whose
-- missing patient lands now is promoted by that landing (its _max_landed_at moves
-- forward); a referral whose current version breaks a rule leaves the mart
-- (post-hook, same transaction).

with referrals as (

    select * from {{ ref('int_msk__referrals_checked') }}
    where not is_quarantined

),

patients as (

    select * from {{ ref('int_msk__patient_networks') }}

),

providers as (

    select * from {{ ref('int_msk__providers_checked') }}
    where not is_quarantined

),

network as (

    select * from {{ ref('int_msk__network_providers_checked') }}
    where not is_quarantined

),

joined as (

    select
        referrals.referral_id,
        referrals.patient_id,
        patients.employer_id,
        referrals.referring_npi,
        referrals.referred_npi,
        providers.specialty as referred_specialty,
        referrals.referred_on,
        referrals.status,
        referrals.converted_on,
        (referrals.status = 'completed' and referrals.converted_on is not null) as is_converted,
        referrals.converted_on - referrals.referred_on as days_to_conversion,
        network.npi is not null as is_in_network,
        referrals._event_id,
        referrals._landed_at,
        greatest(referrals._landed_at, patients._max_landed_at, providers._landed_at) as _max_landed_at

    from referrals
    left join patients
        on referrals.patient_id = patients.patient_id
    left join providers
        on referrals.referred_npi = providers.npi
    left join network
        on patients.employer_id = network.employer_id
        and referrals.referred_npi = network.npi

)

select * from joined

{% if is_incremental() %}
where {{ changed_or_promoted('referral_id', 'msk', 'referrals') }}
{% endif %}
