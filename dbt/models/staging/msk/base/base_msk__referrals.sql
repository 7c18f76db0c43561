-- Every landed version of every referral, cleaned (ids unpadded, empty NPIs as
-- null, status lower case); no deduplication.

with source as (

    select * from {{ source('msk', 'msk__referrals') }}

),

cleaned as (

    select
        {{ unpadded('referral_id') }} as referral_id,
        {{ unpadded('patient_id') }} as patient_id,
        {{ unpadded('referring_npi') }} as referring_npi,
        {{ unpadded('referred_npi') }} as referred_npi,
        referred_on,
        lower(trim(status)) as status,
        converted_on,

        -- landing metadata
        {{ landing_metadata_columns() }}

    from source

)

select * from cleaned
