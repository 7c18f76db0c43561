{{ config(severity='warn') }}

-- Every publication date the exports wrote is read by one of the documented spellings
-- (parse_mixed_date); a row here is a new spelling or an impossible date to look at.

select 'pubmed' as publication_kind, pubmed_id as publication_id, published_on_text
from {{ ref('stg_drug_mentions__pubmed') }}
where published_on is null and nullif(trim(published_on_text), '') is not null

union all

select 'clinical_trial', trial_id, published_on_text
from {{ ref('stg_drug_mentions__clinical_trials') }}
where published_on is null and nullif(trim(published_on_text), '') is not null
