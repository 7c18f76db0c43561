-- Every landed version of every clinical trial (clinical_trials.csv), cleaned by the
-- publications' shared rules (cleaned_publication_columns); no deduplication.

select
    {{ cleaned_publication_columns('trial_id', 'scientific_title') }},
    {{ landing_metadata_columns() }}

from {{ source('drug_mentions', 'drug_mentions__clinical_trials') }}
