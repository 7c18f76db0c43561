{{
    config(
        materialized='incremental',
        unique_key='encounter_id',
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['_max_landed_at']}, {'columns': ['patient_id', 'encounter_date']}],
        post_hook="{{ delete_quarantined('int_msk__encounters_checked', 'encounter_id') }}"
    )
}}

-- fct_quarantined_rows is only read on incremental runs; declare it for the DAG:
-- depends_on: {{ ref('fct_quarantined_rows') }}

-- One row per encounter that passes every quarantine rule (current version), with
-- the patient's employer and whether the treating provider is in its network.
-- Same incremental and promotion rule as fct_msk__referrals.

with encounters as (

    select * from {{ ref('int_msk__encounters_checked') }}
    where not is_quarantined

),

patients as (

    select * from {{ ref('int_msk__patient_networks') }}

),

network as (

    select * from {{ ref('int_msk__network_providers_checked') }}
    where not is_quarantined

),

joined as (

    select
        encounters.encounter_id,
        encounters.patient_id,
        patients.employer_id,
        encounters.npi,
        encounters.encounter_date,
        encounters.encounter_month,
        encounters.encounter_type,
        encounters.amount::numeric(14, 2) as amount,
        network.npi is not null as is_in_network,
        encounters._event_id,
        encounters._landed_at,
        greatest(encounters._landed_at, patients._max_landed_at) as _max_landed_at

    from encounters
    left join patients
        on encounters.patient_id = patients.patient_id
    left join network
        on patients.employer_id = network.employer_id
        and encounters.npi = network.npi

)

select * from joined

{% if is_incremental() %}
where {{ changed_or_promoted('encounter_id', 'msk', 'encounters') }}
{% endif %}
