-- Every current referrals row with the quarantine rules declared in
-- _int_msk__models.yml evaluated: failed_rules / failure_reasons, is_quarantined.
-- Parents the rules look up (properties are read after parsing, so named here):
-- depends_on: {{ ref('stg_msk__patients') }}
-- depends_on: {{ ref('stg_msk__providers') }}

{{ quarantine_checks(ref('stg_msk__referrals')) }}
