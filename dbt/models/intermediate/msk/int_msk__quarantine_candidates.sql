-- Every (row, broken rule) of the msk checked models, with the row's source
-- position: what fct_quarantined_rows opens, keeps open or promotes each cycle.

{% set checked = [
    ('patients', 'int_msk__patients_checked', 'patient_id'),
    ('providers', 'int_msk__providers_checked', 'npi'),
    ('encounters', 'int_msk__encounters_checked', 'encounter_id'),
    ('referrals', 'int_msk__referrals_checked', 'referral_id'),
    ('adverse_events', 'int_msk__adverse_events_checked', 'adverse_event_id'),
    ('network_providers', 'int_msk__network_providers_checked', 'network_provider_id'),
] %}

{% for entity, model, key in checked %}
{{ quarantine_failures('msk', entity, ref(model), key) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
