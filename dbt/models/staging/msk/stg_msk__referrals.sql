-- One row per referral_id: the latest landed version (newest event time, then the
-- later landing, then Kafka position).

with ranked as (
{{ rank_versions(ref('base_msk__referrals'), 'referral_id') }}
),

latest as (

    select
        referral_id,
        patient_id,
        referring_npi,
        referred_npi,
        referred_on,
        status,
        converted_on,
        {{ kept_version_metadata() }}

    from ranked
    where version_rank = 1

)

select * from latest
