{{
    config(
        materialized='incremental',
        unique_key='adverse_event_id',
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['_max_landed_at']}, {'columns': ['npi']}],
        post_hook="{{ delete_quarantined('int_msk__adverse_events_checked', 'adverse_event_id') }}"
    )
}}

-- fct_quarantined_rows is only read on incremental runs; declare it for the DAG:
-- depends_on: {{ ref('fct_quarantined_rows') }}

-- One row per adverse event that passes every quarantine rule (current version),
-- with the patient's employer and whether the provider is in its network.
-- Same incremental and promotion rule as fct_msk__referrals.

with events as (

    select * from {{ ref('int_msk__adverse_events_checked') }}
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
        events.adverse_event_id,
        events.patient_id,
        patients.employer_id,
        events.npi,
        events.occurred_on,
        events.severity,
        events.severity = 'severe' as is_severe,
        events.description,
        network.npi is not null as is_in_network,
        events._event_id,
        events._landed_at,
        greatest(events._landed_at, patients._max_landed_at) as _max_landed_at

    from events
    left join patients
        on events.patient_id = patients.patient_id
    left join network
        on patients.employer_id = network.employer_id
        and events.npi = network.npi

)

select * from joined

{% if is_incremental() %}
where {{ changed_or_promoted('adverse_event_id', 'msk', 'adverse_events') }}
{% endif %}
