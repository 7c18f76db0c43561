-- One row per provider that passes every quarantine rule (latest version).

select
    npi,
    provider_name,
    specialty,
    updated_at,
    _event_id,
    _landed_at

from {{ ref('int_msk__providers_checked') }}
where not is_quarantined
